/**
 * The sandbox's example workspace: its people, user groups and channels, and the policy keyturn runs with.
 * Ids look like Slack's so keyturn treats them as it would real ones.
 */
export const TEAM_ID = 'T0SANDBOX';
export const BOT_USER_ID = 'U0KEYTURN';

export interface Person {
  id: string;
  name: string;
  /** What this person is in the example policy, shown in the switcher. */
  role: string;
}

export const PEOPLE: readonly Person[] = [
  { id: 'U0ALICE', name: 'Alice', role: 'requester' },
  { id: 'U0BOB', name: 'Bob', role: 'approver (prod, by name)' },
  { id: 'U0CAROL', name: 'Carol', role: 'approver (prod, via @sre)' },
  { id: 'U0OSCAR', name: 'Oscar', role: 'outsider (approves nothing)' },
  { id: 'U0ADA', name: 'Ada', role: 'admin, owns dev rotation' },
];

/** usergroups.users.list answers from here. */
export const GROUPS: Readonly<Record<string, { handle: string; users: string[] }>> = {
  S0SRE: { handle: 'sre', users: ['U0CAROL'] },
};

export const CHANNELS: Readonly<Record<string, string>> = {
  C0APPROVALS: 'prod-approvals',
  C0SECOPS: 'secops',
  C0GENERAL: 'general',
};

export const POLICY = `# The sandbox's example policy (written by npm run sandbox; edits are overwritten on the next start).
admins: [U0ADA]

environments:
  prod:
    approvers: [U0BOB, S0SRE]
    required_approvals: 2
    approval_channel: C0APPROVALS
    request_ttl: 24h
  staging:
    approvers: [S0SRE]
    required_approvals: 1
  dev:
    required_approvals: 0

rotation:
  channel: C0SECOPS
  schedule: "0 9 * * 1-5"
  warn_before: 7d
  environments: { prod: 90d }
  rules:
    - keys: "EXAMPLE_*"
      environment: dev
      every: 1d
      owners: [U0ADA]

digests:
  - channel: C0SECOPS
    schedule: "0 9 * * MON"
    period: 7d
`;
