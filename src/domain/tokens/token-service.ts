import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { TOKEN_SCOPES, apiTokens } from '../../db/schema/index.js';
import { DAY, DURATION_RULE, HOUR, parseDuration } from '../../duration.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import { conflict, invalidInput, notFound } from '../../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import { TOKEN_NAME_RULE, isValidEnvironment, isValidTokenName } from '../vocabulary.js';
import { BOOTSTRAP_ADMIN, type Principal, servicePrincipal } from './principal.js';

export const DEFAULT_TOKEN_TTL = '90d';
const MAX_TTL_MS = 3650 * DAY;
/** How long a personal token from `keyturn login` lives: a working day, well within the day the issue allows. */
export const PERSONAL_TOKEN_TTL_MS = 12 * HOUR;
/** What a personal token may ask for; what it may read comes from its person's live grants. */
const PERSONAL_SCOPES = ['read', 'request'];

const sha256 = (text: string) => createHash('sha256').update(text).digest();

export interface TokenInfo {
  name: string;
  environments: string[];
  scopes: string[];
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  /** A personal token's Slack person (`U…`); null for a service token. */
  person: string | null;
}

export interface CreateTokenInput {
  name: string;
  environments: string[];
  scopes?: string[];
  /** A duration such as 30d; defaults to 90d. */
  ttl?: string;
}

export interface TokenServiceDeps {
  database: Database;
  audit: AuditLog;
  adminToken?: string;
  /** How long a looked-up token is trusted before it is checked again (revocation on other replicas). */
  cacheTtlMs?: number;
  now?: () => number;
}

export function createTokenService(deps: TokenServiceDeps) {
  const { database, audit } = deps;
  const db = database.db;
  const now = deps.now ?? Date.now;
  const cacheTtlMs = deps.cacheTtlMs ?? 5_000;
  const adminHash = deps.adminToken ? sha256(deps.adminToken) : undefined;
  const cache = new Map<string, { principal: Principal | undefined; expiresAt: number | null; checkedAt: number }>();

  /** The principal for a bearer token, or undefined when it is unknown, revoked or expired. */
  async function authenticate(bearer: string): Promise<Principal | undefined> {
    if (!bearer) return undefined;
    const hash = sha256(bearer);
    if (adminHash && timingSafeEqual(hash, adminHash)) {
      return { name: BOOTSTRAP_ADMIN, admin: true, environments: '*', scopes: ['read', 'request'] };
    }
    const hex = hash.toString('hex');
    const t = now();
    let hit = cache.get(hex);
    if (!hit || t - hit.checkedAt > cacheTtlMs) {
      const [row] = await db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.tokenHash, hex), isNull(apiTokens.revokedAt)));
      hit = {
        principal: row ? servicePrincipal(row) : undefined,
        expiresAt: row?.expiresAt ? row.expiresAt.getTime() : null,
        checkedAt: t,
      };
      if (cache.size > 10_000) cache.clear();
      cache.set(hex, hit);
    }
    if (hit.expiresAt !== null && hit.expiresAt <= t) return undefined;
    return hit.principal;
  }

  function validate(input: CreateTokenInput) {
    if (!isValidTokenName(input.name ?? '')) throw invalidInput(`Invalid token name: ${TOKEN_NAME_RULE}.`);
    // The audit log names a token token:NAME; a second "admin" would be indistinguishable from the bootstrap one.
    if (input.name === BOOTSTRAP_ADMIN) throw invalidInput(`The token name "${BOOTSTRAP_ADMIN}" is the bootstrap admin's; choose another.`);
    const envs = input.environments ?? [];
    if (envs.length === 0) throw invalidInput('A token needs at least one environment (--env prod,staging).');
    const bad = envs.find((e) => !isValidEnvironment(e));
    if (bad !== undefined) throw invalidInput(`Invalid environment ${JSON.stringify(bad)}: lowercase letters, digits and "-".`);
    const scopes = input.scopes?.length ? input.scopes : ['read'];
    const badScope = scopes.find((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
    if (badScope !== undefined) throw invalidInput(`Unknown scope ${JSON.stringify(badScope)}: use ${TOKEN_SCOPES.join(' or ')}.`);
    const ttlMs = parseDuration(input.ttl ?? DEFAULT_TOKEN_TTL);
    if (ttlMs === undefined || ttlMs > MAX_TTL_MS) throw invalidInput(`Invalid ttl: ${DURATION_RULE}, at most 3650d.`);
    return { name: input.name, environments: [...new Set(envs)], scopes: [...new Set(scopes)], ttlMs };
  }

  /** Creates a token; the token itself is returned here once and never stored. */
  async function create(input: CreateTokenInput, actor: string): Promise<{ token: string; info: TokenInfo }> {
    const v = validate(input);
    const token = `kt_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(now() + v.ttlMs);
    try {
      const info = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(apiTokens)
          .values({ name: v.name, tokenHash: sha256(token).toString('hex'), environments: v.environments, scopes: v.scopes, createdBy: actor, expiresAt })
          .returning();
        await audit.append(tx, [
          { actor, action: 'token.created', detail: { name: v.name, environments: v.environments, scopes: v.scopes, expiresAt: expiresAt.toISOString() } },
        ]);
        return row;
      });
      return { token, info: toInfo(info) };
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`A live token named "${v.name}" exists already; revoke it first or pick another name.`);
      throw err;
    }
  }

  /**
   * A personal token for a person who proved who they are in Slack (`keyturn login`), in the caller's
   * transaction (the login it claims commits with it). Named `U…-cli-XXXX`, unique among live tokens.
   */
  async function createPersonal(tx: Queryable, person: { userId: string; teamId: string | null }, expiresAt: Date): Promise<{ token: string; info: TokenInfo }> {
    const token = `kt_${randomBytes(32).toString('base64url')}`;
    const actor = `slack:${person.userId}`;
    for (let attempt = 0; ; attempt++) {
      const name = `${person.userId}-cli-${randomBytes(2).toString('hex')}`;
      if (!isValidTokenName(name)) throw invalidInput(`Cannot name a token for ${JSON.stringify(person.userId)}: ${TOKEN_NAME_RULE}.`);
      const [taken] = await tx.select({ name: apiTokens.name }).from(apiTokens).where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)));
      if (taken && attempt < 8) continue;
      if (taken) throw conflict('Could not find a free token name; run keyturn login again.');
      const [row] = await tx
        .insert(apiTokens)
        .values({ name, tokenHash: sha256(token).toString('hex'), environments: [], scopes: PERSONAL_SCOPES, createdBy: actor, expiresAt, userId: person.userId, teamId: person.teamId })
        .returning();
      await audit.append(tx, [
        { actor, action: 'token.created', detail: { name, person: actor, scopes: PERSONAL_SCOPES, expiresAt: expiresAt.toISOString(), via: 'login' } },
      ]);
      return { token, info: toInfo(row) };
    }
  }

  /** The live token of that name, if any. */
  async function findLive(name: string): Promise<TokenInfo | undefined> {
    const [row] = await db.select().from(apiTokens).where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)));
    return row ? toInfo(row) : undefined;
  }

  async function list(): Promise<TokenInfo[]> {
    const rows = await db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt));
    return rows.map(toInfo);
  }

  async function revoke(name: string, actor: string): Promise<TokenInfo> {
    const row = await db.transaction(async (tx) => {
      const [r] = await tx
        .update(apiTokens)
        .set({ revokedAt: new Date(now()) })
        .where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)))
        .returning();
      if (!r) return undefined;
      await audit.append(tx, [{ actor, action: 'token.revoked', detail: { name } }]);
      return r;
    });
    if (!row) throw notFound(`No live token named ${JSON.stringify(name)}; \`keyturn token list\` shows them.`);
    cache.clear();
    return toInfo(row);
  }

  return { authenticate, create, createPersonal, findLive, list, revoke };
}

function toInfo(r: typeof apiTokens.$inferSelect): TokenInfo {
  return {
    name: r.name,
    environments: r.environments,
    scopes: r.scopes,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revokedAt: r.revokedAt,
    person: r.userId ?? null,
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
