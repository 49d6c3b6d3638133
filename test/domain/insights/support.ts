import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../../src/db/client.js';
import { changeRequests, reviews, type Decision, type RequestStatus } from '../../../src/db/schema/index.js';
import { parsePolicy } from '../../../src/domain/policies/index.js';

/**
 * The policy these tests answer from: prod needs 2 of Bob, Carol, Alice (payments keys: the payments
 * group), staging one of the platform group, dev none; Sam is the admin; prod keys rotate every 90
 * days, `*_API_KEY` every 30.
 */
export const POLICY_TEXT = `
admins: [U0SAM]
environments:
  prod:
    approvers: [U0BOB, U0CAROL, U0ALICE]
    required_approvals: 2
  staging:
    approvers: [S0PLATFORM]
    required_approvals: 1
  dev:
    required_approvals: 0
rules:
  - environment: prod
    keys: "PAYMENTS_*"
    approvers: [S0PAYMENTS]
    required_approvals: 2
rotation:
  channel: C0SECOPS
  schedule: "0 9 * * 1-5"
  warn_before: 7d
  environments: { prod: 90d }
  rules:
    - keys: "*_API_KEY"
      environment: prod
      every: 30d
`;

export const policy = () => parsePolicy(POLICY_TEXT);

/** The policy as a file, for a server started with KEYTURN_POLICY_FILE. */
export function policyFile(text = POLICY_TEXT): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-insights-'));
  const file = join(dir, 'policies.yml');
  writeFileSync(file, text);
  return file;
}

/** A change request row as the request service writes it, with a sealed value standing in. */
export async function insertRequest(
  db: Queryable,
  r: { environment?: string; key?: string; requesterUserId?: string | null; requester?: string; teamId?: string | null; status?: RequestStatus; reason?: string } = {},
): Promise<string> {
  const id = `req_${randomBytes(5).toString('hex')}`;
  const userId = r.requesterUserId === undefined ? 'U0ALICE' : r.requesterUserId;
  await db.insert(changeRequests).values({
    id,
    environment: r.environment ?? 'prod',
    key: r.key ?? 'STRIPE_KEY',
    operation: 'update',
    status: r.status ?? 'pending',
    baseVersion: 1,
    ciphertext: Buffer.from('sealed'),
    iv: Buffer.alloc(12),
    tag: Buffer.alloc(16),
    wrappedKey: Buffer.from('wrapped'),
    keyProvider: 'local',
    oldLength: 10,
    oldFingerprint: 'aaaaaaaa',
    newLength: 12,
    newFingerprint: 'bbbbbbbb',
    requester: r.requester ?? (userId ? `slack:${userId}` : 'token:ci'),
    requesterUserId: userId,
    teamId: r.teamId === undefined ? (userId ? 'T1' : null) : r.teamId,
    reason: r.reason ?? 'rotate',
    policy: { approvers: ['U0BOB', 'U0CAROL'], requiredApprovals: 2, approvalChannel: null, requestTtlMs: 86_400_000, matchedRule: null },
    expiresAt: new Date(Date.now() + 86_400_000),
  });
  return id;
}

export async function insertReview(db: Queryable, requestId: string, reviewer: string, decision: Decision = 'approve', comment: string | null = null) {
  await db.insert(reviews).values({ requestId, reviewer, decision, comment });
}
