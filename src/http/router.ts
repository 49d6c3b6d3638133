import { malformedTextPath } from '../domain/text-rules.js';
import type { IncomingMessage } from 'node:http';
import { AppError, invalidInput } from '../errors.js';
import type { Principal } from '../domain/tokens/principal.js';

export type Reply =
  | { status: number; json: unknown }
  | { status: number; text: string; contentType: string }
  | { status: number; lines: AsyncIterable<string>; contentType: string };

export interface RequestContext {
  req: IncomingMessage;
  url: URL;
  params: Record<string, string>;
  /** Set when the route requires a token. */
  principal: Principal;
  body(): Promise<unknown>;
}

export type Auth = 'none' | 'token' | 'admin';

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path with `:name` segments, e.g. /v1/secrets/:env/:key. */
  path: string;
  auth: Auth;
  handle(ctx: RequestContext): Promise<Reply>;
}

export interface CompiledRoute extends Route {
  match(path: string): Record<string, string> | undefined;
}

export function compileRoute(route: Route): CompiledRoute {
  const parts = route.path.split('/');
  return {
    ...route,
    match(path) {
      const segs = path.split('/');
      if (segs.length !== parts.length) return undefined;
      const params: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        if (parts[i].startsWith(':')) {
          try {
            params[parts[i].slice(1)] = decodeURIComponent(segs[i]);
          } catch {
            return undefined;
          }
        } else if (parts[i] !== segs[i]) return undefined;
      }
      return params;
    },
  };
}

const MAX_BODY = 256 * 1024;

/** Reads a JSON body of at most 256 KiB. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new AppError('invalid_input', 'Request body is larger than 256 KiB.');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw invalidInput('Request body is not valid JSON.');
  }
  // "\ud800" is valid JSON but no text: it would be stored as U+FFFD, silently changing a value.
  const bad = malformedTextPath(parsed);
  if (bad) throw invalidInput(`${bad} has an invalid character (a lone UTF-16 surrogate); send well-formed UTF-8 text.`);
  return parsed;
}
