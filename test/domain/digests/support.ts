import { parsePolicy, type Policy } from '../../../src/domain/policies/index.js';
import type { PeopleDirectory, RotationItem } from '../../../src/domain/digests/digest-types.js';
import { type TestDomain, requestServices as sharedRequestServices } from '../../support/domain.js';

export { DAY, HOUR } from '../../../src/duration.js';

/**
 * Prod needs Bob and Carol; Carol has since left the company (deactivated in Slack), so prod can no
 * longer reach its quorum. Payments keys are approved by a group in which Heidi is deactivated too, but
 * two active members remain.
 */
export const DIGEST_POLICY_YAML = `
admins: [U0ADMIN]
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
    request_ttl: 24h
    escalate_to: [U0BOSS, C0ONCALL]
  staging:
    approvers: [S0PLATFORM]
    required_approvals: 1
    request_ttl: 24h
  dev:
    required_approvals: 0
rules:
  - environment: prod
    keys: "PAYMENTS_*"
    approvers: [S0PAYMENTS, U0CAROL]
    required_approvals: 2
rotation:
  channel: C0SECOPS
  schedule: "0 9 * * 1-5"
  rules:
    - keys: "*_API_KEY"
      every: 30d
      owners: [U0CAROL, S0PAYMENTS]
digests:
  - channel: C0SECOPS
    schedule: "0 9 * * MON"
    timezone: Europe/Berlin
    period: 7d
`;
export const DIGEST_POLICY: Policy = parsePolicy(DIGEST_POLICY_YAML);

export const GROUPS: Record<string, string[]> = {
  S0PLATFORM: ['U0DAVE', 'U0ERIN'],
  S0PAYMENTS: ['U0FRANK', 'U0GRACE', 'U0HEIDI'],
};
export const DEACTIVATED = ['U0CAROL', 'U0HEIDI'];

/** Slack as the digest sees it, without Slack: who is deactivated, who is in which group. */
export function fakeDirectory(opts: { deactivated?: string[]; groups?: Record<string, string[]>; failingGroups?: string[] } = {}) {
  const asked: string[] = [];
  const directory: PeopleDirectory = {
    async isDeactivated(userId) {
      asked.push(userId);
      return (opts.deactivated ?? DEACTIVATED).includes(userId);
    },
    async groupMembers(groupId) {
      if (opts.failingGroups?.includes(groupId)) throw new Error(`Could not look up the members of user group ${groupId} in Slack`);
      const members = (opts.groups ?? GROUPS)[groupId];
      if (!members) throw new Error(`no group ${groupId}`);
      return members;
    },
  };
  return { directory, asked };
}

export const fakeRotation = (items: RotationItem[]) => ({ dueSecrets: async () => items });

/** The request service and sweep on a test domain, on a clock the test moves. */
export const requestServices = (d: TestDomain, now: () => Date, policy: Policy = DIGEST_POLICY) =>
  sharedRequestServices(d, { policy, now, groupMembers: async (id) => GROUPS[id] ?? [] });

export const slackUser = (userId: string) => ({ kind: 'slack' as const, userId, teamId: 'T1' });

/** Splits RFC 4180 CSV into rows of cells (quoted cells may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** CSV rows as objects keyed by the header row. */
export function csvRecords(text: string): Record<string, string>[] {
  const [head, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}
