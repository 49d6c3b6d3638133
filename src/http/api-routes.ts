import { z } from 'zod';
import { CHECKPOINT_RULE, parseCheckpoint } from '../domain/audit/audit-chain.js';
import type { AuditLog } from '../domain/audit/audit-log.js';
import type { SecretStore } from '../domain/secrets/secret-store.js';
import type { StoreCheck } from '../domain/audit/store-check.js';
import { actorOf } from '../domain/tokens/principal.js';
import type { TokenService, TokenInfo } from '../domain/tokens/token-service.js';
import { isVersionText } from '../domain/vocabulary.js';
import { invalidInput } from '../errors.js';
import type { Route } from './router.js';

export interface ApiDeps {
  store: SecretStore;
  tokens: TokenService;
  audit: AuditLog;
  /** The store checked against the audit log (audit verify). */
  checkStore(): Promise<StoreCheck>;
}

const createTokenBody = z.object({
  name: z.string(),
  environments: z.array(z.string()).min(1, 'needs at least one environment'),
  scopes: z.array(z.string()).optional(),
  ttl: z.string().optional(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw invalidInput(`Invalid request body: ${i.path.join('.') || 'body'} ${i.message}.`);
}

/** `?checkpoint=SEQ:HASH`, when given. */
function checkpointOf(url: URL) {
  const text = url.searchParams.get('checkpoint');
  if (text === null) return undefined;
  const checkpoint = parseCheckpoint(text);
  if (!checkpoint) throw invalidInput(`Invalid checkpoint: ${CHECKPOINT_RULE}.`);
  return checkpoint;
}

// A range verified in one call: short enough that no call runs long however long the log is (the CLI loops).
export const MAX_VERIFY_RANGE = 200_000;

/** `?after=A&through=B`: a range of the chain, at most MAX_VERIFY_RANGE entries. */
function rangeOf(url: URL) {
  const seq = (name: string) => {
    const text = url.searchParams.get(name);
    if (text === null || !/^\d{1,15}$/.test(text)) throw invalidInput(`Invalid ${name}: an audit entry number (0 or more).`);
    return Number(text);
  };
  const after = seq('after');
  const through = seq('through');
  if (through < after || through - after > MAX_VERIFY_RANGE) {
    throw invalidInput(`Invalid range: through must be from after to after + ${MAX_VERIFY_RANGE}.`);
  }
  return { after, through };
}

/** `?version=N`, when given: a past version of a secret. */
function versionOf(url: URL): number | undefined {
  const text = url.searchParams.get('version');
  if (text === null) return undefined;
  if (!isVersionText(text)) throw invalidInput('Invalid version: a whole number from 1; `keyturn history ENV KEY` lists them.');
  return Number(text);
}

const tokenJson = (t: TokenInfo) => ({
  name: t.name,
  environments: t.environments,
  scopes: t.scopes,
  createdBy: t.createdBy,
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
  /** A personal token's Slack person (keyturn login); null for a service token. */
  person: t.person,
});

/** The /v1 API for workloads and the CLI: parse, call the domain, render JSON. */
export function apiRoutes({ store, tokens, audit, checkStore }: ApiDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/secrets/:env/:key',
      auth: 'token',
      async handle({ principal, params, url }) {
        const s = await store.read(principal, params.env, params.key, versionOf(url));
        return {
          status: 200,
          json: { environment: s.environment, key: s.key, version: s.version, value: s.value.toString('utf8'), updatedAt: s.updatedAt.toISOString() },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/secrets/:env',
      auth: 'token',
      async handle({ principal, params }) {
        const list = await store.readEnvironment(principal, params.env);
        return {
          status: 200,
          json: { environment: params.env, secrets: list.map((s) => ({ key: s.key, version: s.version, value: s.value.toString('utf8') })) },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/secrets/:env/:key/versions',
      auth: 'token',
      async handle({ principal, params }) {
        const versions = await store.history(principal, params.env, params.key);
        return {
          status: 200,
          json: {
            environment: params.env,
            key: params.key,
            versions: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/audit/verify',
      auth: 'admin',
      async handle({ url }) {
        // The chain proves the log was not edited; the store check proves the log accounts for the store.
        const [chain, storeCheck] = await Promise.all([audit.verify({ checkpoint: checkpointOf(url) }), checkStore()]);
        return { status: 200, json: { ...chain, ok: chain.ok && storeCheck.ok, chainOk: chain.ok, store: storeCheck } };
      },
    },
    {
      // The chain in ranges (the CLI verifies a long log this way, a range per call, with progress): the same
      // checks as above, for the entries in (after, through], linked on the stored hash of the entry before.
      method: 'GET',
      path: '/v1/audit/verify/chain',
      auth: 'admin',
      async handle({ url }) {
        const range = rangeOf(url);
        return { status: 200, json: await audit.verifyRange({ ...range, checkpoint: checkpointOf(url) }) };
      },
    },
    {
      method: 'GET',
      path: '/v1/audit/verify/store',
      auth: 'admin',
      handle: async () => ({ status: 200, json: await checkStore() }),
    },
    {
      method: 'GET',
      path: '/v1/audit/checkpoint',
      auth: 'admin',
      handle: async () => ({ status: 200, json: await audit.checkpoint() }),
    },
    {
      method: 'GET',
      path: '/v1/audit/export',
      auth: 'admin',
      async handle() {
        async function* lines() {
          for await (const e of audit.entries()) yield JSON.stringify({ ...e, at: e.at.toISOString() }) + '\n';
        }
        return { status: 200, lines: lines(), contentType: 'application/x-ndjson' };
      },
    },
    {
      method: 'POST',
      path: '/v1/tokens',
      auth: 'admin',
      async handle({ principal, body }) {
        const input = parse(createTokenBody, await body());
        const { token, info } = await tokens.create(input, actorOf(principal));
        return { status: 201, json: { token, ...tokenJson(info) } };
      },
    },
    {
      method: 'GET',
      path: '/v1/tokens',
      auth: 'admin',
      handle: async () => ({ status: 200, json: { tokens: (await tokens.list()).map(tokenJson) } }),
    },
    {
      method: 'DELETE',
      path: '/v1/tokens/:name',
      auth: 'admin',
      async handle({ principal, params }) {
        return { status: 200, json: tokenJson(await tokens.revoke(params.name, actorOf(principal))) };
      },
    },
  ];
}
