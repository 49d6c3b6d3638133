import { describe, expect, it } from 'vitest';
import { code, escapeMrkdwn, mentionApprover, mentionGroup, mentionUser } from '../../../src/slack/blocks/index.js';
import { escapeTruncated } from '../../../src/slack/blocks/mrkdwn.js';

describe('text a person typed is shown as typed and does nothing', () => {
  it('escapes &, < and > so mentions, broadcasts and links stay inert', () => {
    expect(escapeMrkdwn('<!channel> <@U123> <!subteam^S1> <https://evil|click> & co')).toBe(
      '&lt;!channel&gt; &lt;@U123&gt; &lt;!subteam^S1&gt; &lt;https://evil|click&gt; &amp; co',
    );
  });

  it('escapes an already escaped entity again, so "&lt;" is shown literally', () => {
    expect(escapeMrkdwn('&lt;!here&gt;')).toBe('&amp;lt;!here&amp;gt;');
  });

  it('mentions users and groups from the policy by id', () => {
    expect(mentionUser('U012AB3CD')).toBe('<@U012AB3CD>');
    expect(mentionGroup('S0SRELEADS')).toBe('<!subteam^S0SRELEADS>');
    expect(mentionApprover('S0SRELEADS')).toBe('<!subteam^S0SRELEADS>');
    expect(mentionApprover('U012AB3CD')).toBe('<@U012AB3CD>');
    expect(mentionApprover('W0ENTERPRISE')).toBe('<@W0ENTERPRISE>');
  });

  it('shows something that is not a Slack id as escaped text, not a mention', () => {
    expect(mentionUser('U1> <!channel')).toBe('U1&gt; &lt;!channel');
    expect(mentionGroup('S1>|x')).toBe('S1&gt;|x');
    expect(mentionApprover('u0lower')).toBe('u0lower');
  });

  it('puts untrusted text in inline code without letting it break out', () => {
    expect(code('STRIPE_KEY')).toBe('`STRIPE_KEY`');
    expect(code('a`b <!here>\nc')).toBe('`ab &lt;!here&gt; c`');
    expect(code('```')).toBe('` `');
  });
});

describe('long text is cut without breaking an escape', () => {
  it('cuts between characters of the original, never inside &amp;', () => {
    const out = escapeTruncated('&'.repeat(1000), 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out.endsWith('…')).toBe(true);
    expect(out.slice(0, -1)).toMatch(/^(&amp;)+$/);
  });

  it('leaves text that fits alone', () => {
    expect(escapeTruncated('a < b', 5 + 3)).toBe('a &lt; b');
  });

  it('quotes every line, counting the quote marks in the budget', () => {
    expect(escapeTruncated('one\ntwo', 100, { quote: true })).toBe('>one\n>two');
    const out = escapeTruncated('\n'.repeat(1000), 300, { quote: true });
    expect(out.length).toBeLessThanOrEqual(300);
  });
});
