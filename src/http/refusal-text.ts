/**
 * The sentences for what a token may not do, as the API (and so the CLI) shows them: what was refused and
 * what to ask an admin for. The rule itself is the domain's (`domain/access/permissions.ts`).
 */
import { type AccessRefused, type Ask, type Caller, tokenCaller } from '../domain/access/permissions.js';
import type { AccessRefusal } from '../domain/access/permissions.js';
import type { Principal } from '../domain/tokens/principal.js';

const nameOf = (caller: Caller) => (caller.kind === 'token' ? caller.principal.name : caller.userId);

const readSubject = (ask: Extract<Ask, { action: 'read' }>) =>
  ask.historyOf !== undefined ? `the history of ${ask.environment}/${ask.historyOf}` : `the ${ask.environment} environment`;

export function refusalText(caller: Caller, ask: Ask, refusal: AccessRefusal): string {
  const who = `Token "${nameOf(caller)}"`;
  switch (refusal.code) {
    case 'admin_only':
      return 'This needs the admin token.';
    case 'tokens_only':
      return 'Secret values are read with an API token (the keyturn CLI or the HTTP API), never in Slack.';
    case 'not_auditor':
      return 'Audit answers are for the admin token and the people the policy names.';
    case 'no_grant': {
      // A person on the CLI reads only under a live grant of theirs: say which, and how to ask for one.
      const what = refusal.key !== undefined ? `${refusal.environment}/${refusal.key}` : `any key of ${refusal.environment}`;
      return `No live access grant for ${what}: ask with \`keyturn access ${refusal.environment} ${refusal.key ?? 'KEYS'} --for 1h --reason …\` (or /secret access in Slack).`;
    }
    case 'no_scope':
      if (ask.action === 'read') return `${who} may not read ${readSubject(ask)}: it lacks the read scope; ask an admin for a token with --scope read.`;
      return `${who} may not open requests; create one with --scope ${refusal.scope}.`;
    case 'environment_not_allowed': {
      const env = refusal.environment;
      switch (ask.action) {
        case 'read':
          return `${who} may not read ${readSubject(ask)}; ask an admin for a token that includes ${env}.`;
        case 'request':
          return `${who} may not open requests for ${env}.`;
        case 'seeRequest':
          return `${who} may not see requests for ${env}.`;
        default:
          return `${who} may not see the ${env} environment; ask an admin for a token that includes it.`;
      }
    }
  }
}

/** The sentence for a refusal the domain threw. */
export const accessRefusedText = (err: AccessRefused) => refusalText(err.caller, err.ask, err.refusal);

/** The sentence for a token refused at the door of an admin route. */
export const adminOnlyText = (principal: Principal) => refusalText(tokenCaller(principal), { action: 'administer' }, { code: 'admin_only' });
