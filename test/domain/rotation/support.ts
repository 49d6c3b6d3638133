import { sql } from 'drizzle-orm';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import type { Policy } from '../../../src/domain/policies/index.js';
import { createRotationService } from '../../../src/domain/rotation/rotation-service.js';
import { createRotationNotifier } from '../../../src/slack/notifiers/rotation-notifier.js';
import type { TestDomain } from '../../support/domain.js';

export { DAY, MINUTE } from '../../../src/duration.js';

/** prod every 90 days, staging every 180; prod's *_API_KEY every 30 days, owned by Owen and the payments group. */
export const ROTATION_POLICY = parsePolicy(`
admins: [U0ADMIN]
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
  staging:
    approvers: [S0PLATFORM]
    required_approvals: 1
  dev:
    required_approvals: 0
rotation:
  channel: C0SECOPS
  schedule: "0 9 * * 1-5"
  timezone: Europe/Berlin
  warn_before: 7d
  environments: { prod: 90d, staging: 180d }
  rules:
    - keys: "*_API_KEY"
      environment: prod
      every: 30d
      owners: [S0PAYMENTS, U0OWEN]
`);

export const GROUPS: Record<string, string[]> = { S0PAYMENTS: ['U0PAT'], S0PLATFORM: ['U0DAVE'] };

/** A settable clock, as the services see it. */
export function testClock(start = Date.now()) {
  let at = start;
  return {
    now: () => new Date(at),
    set: (ms: number) => void (at = ms),
    advance: (ms: number) => void (at += ms),
    get ms() {
      return at;
    },
  };
}
export type TestClock = ReturnType<typeof testClock>;

/** The rotation service over a test domain, writing reminders to the outbox as keyturn does. */
/** `null`: no policy file at all. */
export function rotationServices(d: TestDomain, clock: TestClock, policy: Policy | null = ROTATION_POLICY) {
  const lookups: string[] = [];
  const service = createRotationService({
    database: d.database,
    audit: d.audit,
    policy: () => policy ?? undefined,
    groupMembers: async (group) => {
      lookups.push(group);
      return GROUPS[group] ?? [];
    },
    notifier: createRotationNotifier({}),
    now: clock.now,
  });
  return { ...service, lookups };
}

/** Says the current version of a secret was written at `at` (as if it had been changed then). */
export async function changedAt(d: TestDomain, environment: string, key: string, at: Date) {
  await d.database.rows(
    sql`update secret_versions set created_at = ${at.toISOString()}::timestamptz
        where environment = ${environment} and key = ${key}
          and version = (select current_version from secrets where environment = ${environment} and key = ${key})`,
  );
}

/** Outbox rows keyturn wrote for Slack, oldest first. */
export const outboxRows = (d: TestDomain) =>
  d.database.rows<{ target: string; kind: string; message_key: string; payload: { text: string; blocks: unknown[] } }>(
    sql`select target, kind, message_key, payload from outbox order by id`,
  );

/** Audit entries by action, oldest first. */
export const auditOf = (d: TestDomain, action: string) =>
  d.database.rows<{ actor: string; environment: string | null; key: string | null; version: number | null; detail: Record<string, unknown> | null }>(
    sql`select actor, environment, key, version, detail from audit_entries where action = ${action} order by seq`,
  );
