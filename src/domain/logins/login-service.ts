import { createHash, randomBytes, randomInt } from 'node:crypto';
import { and, count, eq, gte, isNull, lt } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { auditEntries, cliLogins } from '../../db/schema/index.js';
import { MINUTE } from '../../duration.js';
import type { AuditLog } from '../audit/audit-log.js';
import { PERSONAL_TOKEN_TTL_MS, type TokenService } from '../tokens/token-service.js';

/** How long a `keyturn login` code may be confirmed in Slack. */
export const LOGIN_CODE_TTL_MS = 10 * MINUTE;
/** Wrong codes one person may send within LOGIN_CODE_TTL_MS before every code they send is refused. */
export const LOGIN_REFUSALS_ALLOWED = 5;

// No 0/O, 1/I/L, 5/S, 8/B: a code read off one screen and typed into another survives the trip.
const CODE_ALPHABET = '2345679ACDEFGHJKMNPQRTUVWXYZ';
const CODE_GROUPS = 2;
const CODE_GROUP_LENGTH = 4;

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** A fresh code such as `KT-7F3Q-9XK2`: 8 characters from 28, about 38 bits, good for 10 minutes. */
function newCode(): string {
  const groups = Array.from({ length: CODE_GROUPS }, () =>
    Array.from({ length: CODE_GROUP_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join(''),
  );
  return ['KT', ...groups].join('-');
}

/** A code as typed (any case, spaces, with or without dashes) in the form it was issued; undefined when it cannot be one. */
export function normalizeCode(typed: string): string | undefined {
  const chars = typed.toUpperCase().replace(/[\s-]/g, '').replace(/^KT/, '');
  if (chars.length !== CODE_GROUPS * CODE_GROUP_LENGTH || [...chars].some((c) => !CODE_ALPHABET.includes(c))) return undefined;
  return ['KT', chars.slice(0, 4), chars.slice(4)].join('-');
}

/** Why `/secret login CODE` logged nobody in: data for the Slack edge to word. */
export type LoginRefusal =
  | { code: 'unknown' }
  | { code: 'expired' }
  | { code: 'used' }
  /** Too many wrong codes from this person lately. */
  | { code: 'throttled'; retryAfterMs: number };

export type LoginConfirmation = { ok: true; userId: string; tokenEndsAt: Date } | { ok: false; refusal: LoginRefusal };

/** What the CLI's poll gets back. */
export type LoginPoll =
  | { status: 'pending'; expiresAt: Date }
  | { status: 'confirmed'; token: string; name: string; userId: string; expiresAt: Date }
  | { status: 'expired' }
  /** The token was handed out already: nothing more for this poll secret. */
  | { status: 'claimed' }
  | { status: 'unknown' };

export interface LoginServiceDeps {
  database: Database;
  audit: AuditLog;
  tokens: Pick<TokenService, 'createPersonal'>;
  now?: () => Date;
}

/**
 * `keyturn login`: the CLI starts a login and polls with a secret only it holds; the person proves who they
 * are by sending the login's one-time code with `/secret login CODE` in Slack; the next poll gets a personal
 * token, once. Only hashes of the code and the poll secret are stored.
 */
export function createLoginService(deps: LoginServiceDeps) {
  const { database, audit } = deps;
  const db = database.db;
  const now = deps.now ?? (() => new Date());

  /** A new login: its code (to send in Slack) and poll secret (for the CLI), each shown only here. */
  async function start(): Promise<{ code: string; poll: string; expiresAt: Date }> {
    const at = now();
    // Logins long gone are of no further use: each start clears those a day past their end.
    await db.delete(cliLogins).where(lt(cliLogins.expiresAt, new Date(at.getTime() - 24 * 60 * MINUTE)));
    const poll = `ktp_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(at.getTime() + LOGIN_CODE_TTL_MS);
    for (;;) {
      const code = newCode();
      const inserted = await db
        .insert(cliLogins)
        .values({ codeHash: sha256Hex(code), pollHash: sha256Hex(poll), createdAt: at, expiresAt })
        .onConflictDoNothing({ target: cliLogins.codeHash })
        .returning({ codeHash: cliLogins.codeHash });
      if (inserted.length) return { code, poll, expiresAt };
    }
  }

  /** Wrong codes this person sent in the last LOGIN_CODE_TTL_MS, from the audit log (so across replicas). */
  async function recentRefusals(actor: string, at: Date): Promise<number> {
    const [row] = await db
      .select({ n: count() })
      .from(auditEntries)
      .where(and(eq(auditEntries.actor, actor), eq(auditEntries.action, 'login.refused'), gte(auditEntries.at, new Date(at.getTime() - LOGIN_CODE_TTL_MS))));
    return row?.n ?? 0;
  }

  /**
   * `/secret login CODE` from a person (their workspace checked at the Slack edge): confirms that login as
   * theirs, once. Every outcome is audited, refusals included, in the transaction that decides it.
   */
  async function confirm(input: { code: string; userId: string; teamId: string }): Promise<LoginConfirmation> {
    const actor = `slack:${input.userId}`;
    const at = now();
    const refuse = async (refusal: LoginRefusal): Promise<LoginConfirmation> => {
      await db.transaction((tx) => audit.append(tx, [{ actor, action: 'login.refused', detail: { reason: refusal.code } }]));
      return { ok: false, refusal };
    };
    if ((await recentRefusals(actor, at)) >= LOGIN_REFUSALS_ALLOWED) return refuse({ code: 'throttled', retryAfterMs: LOGIN_CODE_TTL_MS });
    const code = normalizeCode(input.code);
    if (!code) return refuse({ code: 'unknown' });
    const outcome = await db.transaction(async (tx) => {
      const [row] = await tx.select().from(cliLogins).where(eq(cliLogins.codeHash, sha256Hex(code))).for('update');
      const refusal: LoginRefusal | undefined = !row ? { code: 'unknown' } : row.confirmedAt ? { code: 'used' } : row.expiresAt <= at ? { code: 'expired' } : undefined;
      if (refusal) {
        await audit.append(tx, [{ actor, action: 'login.refused', detail: { reason: refusal.code } }]);
        return { ok: false as const, refusal };
      }
      const tokenEndsAt = new Date(at.getTime() + PERSONAL_TOKEN_TTL_MS);
      await tx
        .update(cliLogins)
        .set({ userId: input.userId, teamId: input.teamId, confirmedAt: at })
        .where(and(eq(cliLogins.codeHash, row.codeHash), isNull(cliLogins.confirmedAt)));
      await audit.append(tx, [{ actor, action: 'login.confirmed', detail: { tokenEndsAt: tokenEndsAt.toISOString() } }]);
      return { ok: true as const, userId: input.userId, tokenEndsAt };
    });
    return outcome;
  }

  /**
   * The CLI asks how its login stands. Once confirmed, the first poll gets the personal token (created and
   * the login marked claimed in one transaction); any later poll gets `claimed` and nothing usable.
   */
  async function poll(secret: string): Promise<LoginPoll> {
    const at = now();
    return db.transaction(async (tx): Promise<LoginPoll> => {
      const [row] = await tx.select().from(cliLogins).where(eq(cliLogins.pollHash, sha256Hex(secret))).for('update');
      if (!row) return { status: 'unknown' };
      if (row.claimedAt) return { status: 'claimed' };
      if (!row.confirmedAt || !row.userId) return row.expiresAt <= at ? { status: 'expired' } : { status: 'pending', expiresAt: row.expiresAt };
      // The token ends a fixed time after the person confirmed, as Slack told them.
      const expiresAt = new Date(row.confirmedAt.getTime() + PERSONAL_TOKEN_TTL_MS);
      if (expiresAt <= at) return { status: 'expired' };
      await tx.update(cliLogins).set({ claimedAt: at }).where(and(eq(cliLogins.codeHash, row.codeHash), isNull(cliLogins.claimedAt)));
      const { token, info } = await deps.tokens.createPersonal(tx, { userId: row.userId, teamId: row.teamId }, expiresAt);
      return { status: 'confirmed', token, name: info.name, userId: row.userId, expiresAt };
    });
  }

  return { start, confirm, poll };
}

export type LoginService = ReturnType<typeof createLoginService>;
