import { expect } from 'vitest';
import { PolicyError, parsePolicy } from '../../../src/domain/policies/index.js';

/** YAML written indented in a test, with the indentation of its first line removed. */
export function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = /^ */.exec(lines[0])![0].length;
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** The PolicyError a policy text is refused with; fails the test if it is accepted. */
export function refusal(text: string): PolicyError {
  try {
    parsePolicy(text);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return err as PolicyError;
  }
  throw new Error('expected the policy to be refused, but it was accepted');
}
