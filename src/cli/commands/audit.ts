import { CHECKPOINT_RULE, checkpointText, parseCheckpoint } from '../../domain/audit/audit-chain.js';
import { verifyInRanges } from '../audit-verify.js';
import { clientFromEnv, pathOf } from '../client.js';
import { type Command, parse } from '../command.js';
import { failure, usageError } from '../errors.js';
import { formatJson, formatTable, shortTime, write } from '../output.js';

interface Checkpoint {
  seq: number;
  hash: string;
}

/** `SEQ:HASH` from an option, or a usage error naming it. */
function chainHeadOption(name: string, text: string | undefined) {
  if (text === undefined) return undefined;
  const head = parseCheckpoint(text);
  if (!head) throw usageError(`invalid --${name} ${JSON.stringify(text)}: ${CHECKPOINT_RULE}`);
  return head;
}

const verify: Command = {
  synopsis: 'audit verify [--checkpoint SEQ:HASH] [--from SEQ:HASH] [--json]',
  summary: 'Check the audit hash chain (admin)',
  details: `Checks the hash chain, and that the audit log accounts for every version in the store (each
authenticated, audited and, when it came from a request, approved). Exits 0 when both hold,
1 otherwise. The server checks 50,000 entries a call; on a terminal, stderr shows how far it got.

options:
  --checkpoint SEQ:HASH  also check that the log still reaches this checkpoint (from \`keyturn audit
                         checkpoint\` or a digest) with that hash: entries deleted from the end are
                         found only this way
  --from SEQ:HASH        resume after entry SEQ, where a stopped run got to (it prints SEQ:HASH
                         when interrupted): only later entries are checked; SEQ must still have HASH
  --json                 print the answer as JSON (the exit code is the same)`,
  async run(args) {
    const { values } = parse(verify, args, { checkpoint: { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean' } });
    const checkpoint = chainHeadOption('checkpoint', values.checkpoint);
    const from = chainHeadOption('from', values.from);
    const progress = process.stderr.isTTY ? terminalProgress() : undefined;
    // Interrupted: say where to pick up, so the next run need not start over.
    let reached = from;
    const interrupted = () => {
      progress?.clear();
      if (reached) process.stderr.write(`keyturn: stopped; entries through ${reached.seq} are intact: resume with --from ${checkpointText(reached)}\n`);
      process.exit(130);
    };
    process.once('SIGINT', interrupted);
    let r;
    try {
      r = await verifyInRanges(clientFromEnv(), { checkpoint, from }, (done, of, last) => {
        reached = last;
        progress?.show(done, of);
      });
    } finally {
      process.off('SIGINT', interrupted);
      progress?.clear();
    }
    if (values.json) {
      await write(formatJson(r));
      return r.ok ? 0 : 1;
    }
    const p = r.firstProblem;
    if (r.chainOk ?? r.ok) await write(`audit chain intact: ${plural(r.entries, 'entry', 'entries')}${from ? ` after entry ${from.seq}` : ''}${checkpoint ? ', reaching the checkpoint' : ''}\n`);
    else if (p?.problem === 'truncated' || p?.problem === 'diverged') await write(`audit log FAILS the checkpoint: ${p.message}\n`);
    else await write(`audit chain BROKEN at entry ${p?.seq ?? '?'}: ${p?.message ?? 'no details from the server'}\n`);
    if (r.store?.ok) await write(`store matches the audit log: ${plural(r.store.versions, 'version')}\n`);
    else if (r.store) {
      await write('store does NOT match the audit log:\n');
      for (const f of r.store.problems) await write(`  ${f.environment}/${f.key}${f.version !== undefined ? ` version ${f.version}` : ''} ${f.problem}\n`);
    }
    return r.ok ? 0 : 1;
  },
};

/** `verified 3,200,000 of 10,000,000 entries…` on one line of the terminal, redrawn at most 5 times a second. */
function terminalProgress() {
  let shownAt = 0;
  let shown = false;
  return {
    show(done: number, of: number) {
      const now = Date.now();
      if (now - shownAt < 200 && done < of) return;
      shownAt = now;
      shown = true;
      process.stderr.write(`\r\x1b[Kverified ${done.toLocaleString('en')} of ${of.toLocaleString('en')} entries…`);
    },
    clear() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

const checkpoint: Command = {
  synopsis: 'audit checkpoint [--json]',
  summary: 'Print the audit chain head as SEQ:HASH, to keep outside keyturn (admin)',
  details: `Keep it somewhere keyturn cannot write (a ticket, another system's log); later,
\`keyturn audit verify --checkpoint SEQ:HASH\` fails if entries up to it were deleted or rewritten.

options:
  --json  print {"seq":…,"hash":"…"}`,
  async run(args) {
    const { values } = parse(checkpoint, args, { json: { type: 'boolean' } });
    const head = await clientFromEnv().get<Checkpoint>('/v1/audit/checkpoint');
    await write(values.json ? formatJson({ seq: head.seq, hash: head.hash }) : `${checkpointText(head)}\n`);
  },
};

const exportAudit: Command = {
  synopsis: 'audit export',
  summary: 'Stream the audit log as NDJSON (admin)',
  async run(args) {
    parse(exportAudit, args, {});
    const body = await clientFromEnv().stream('/v1/audit/export');
    try {
      for await (const chunk of body) await write(chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') throw err;
      throw failure(`the audit export broke off: ${(err as Error).message}`);
    }
  },
};

interface Change {
  version: number;
  operation: string;
  actor: string;
  reason: string;
  requestId: string | null;
  at: string;
  approvers: string[];
}

interface EnvironmentActivity {
  environment: string;
  current: { version: number; live: boolean; updatedAt: string; updatedBy: string } | null;
  changes: Change[];
  totalChanges: number;
  readers: { actor: string; reads: number; lastReadAt: string }[];
  totalReaders: number;
  totalReads: number;
  refusedReads: number;
  could: { inPolicy: boolean; approvers: string[]; requiredApprovals: number; matchedRule: string | null; tokens: { name: string; expiresAt: string | null }[]; grantees?: { userId: string; grant: string; endsAt: string }[] };
}

interface SecretActivityReply {
  key: string;
  since: string | null;
  environments: EnvironmentActivity[];
}

interface UserActivityReply {
  actor: string;
  userId: string | null;
  since: string | null;
  requests: { id: string; environment: string; key: string; operation: string; status: string; createdAt: string }[];
  totalRequests: number;
  decisions: { requestId: string; environment: string; key: string; decision: string; comment: string | null; status: string; at: string }[];
  totalDecisions: number;
  reads: { environment: string; key: string; reads: number; lastReadAt: string }[];
  totalSecretsRead: number;
  totalReads: number;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
// Names and reasons are typed by people: keep control characters from steering the terminal.
const inert = (text: string) => text.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
const more = (shown: number, total: number, noun: string) => (total > shown ? `…and ${plural(total - shown, `more ${noun}`)} (--limit N shows more)\n` : '');

/** `?since=…&limit=…` from the options, when given. */
function query(values: { since?: string; limit?: string }): string {
  const q = new URLSearchParams();
  if (values.since) q.set('since', values.since);
  if (values.limit) q.set('limit', values.limit);
  const text = q.toString();
  return text ? `?${text}` : '';
}

const windowOptions = {
  json: { type: 'boolean' },
  since: { type: 'string' },
  limit: { type: 'string' },
} as const;

const WINDOW_HELP = `options:
  --since WHEN  only since then: a duration back from now (30d, 12h) or a date (2025-01-31)
  --limit N     rows per list (default 20; totals are always counted in full)
  --json        print the server's answer as JSON`;

function environmentText(key: string, e: EnvironmentActivity, since: string | null): string {
  const name = inert(`${e.environment}/${key}`);
  const cur = e.current
    ? `${e.current.live ? `version ${e.current.version}` : `deleted in version ${e.current.version}`}, last changed ${shortTime(e.current.updatedAt)} by ${inert(e.current.updatedBy)}`
    : 'never written here';
  const lines = [`${name}: ${cur}`, ''];
  lines.push(`changes (${e.totalChanges}):`);
  const changes = formatTable(
    ['VERSION', 'OPERATION', 'BY', 'APPROVED BY', 'REQUEST', 'WHEN', 'REASON'],
    e.changes.map((c) => [String(c.version), c.operation, c.actor, c.approvers.join(',') || '-', c.requestId ?? '-', shortTime(c.at), c.reason]),
  );
  lines.push(e.changes.length ? changes + more(e.changes.length, e.totalChanges, 'change') : '  none\n');
  lines.push(`reads${since ? ` since ${shortTime(since)}` : ''} (${plural(e.totalReads, 'read')} by ${plural(e.totalReaders, 'reader')}${e.refusedReads ? `, ${e.refusedReads} refused` : ''}):`);
  const readers = formatTable(['READER', 'READS', 'LAST READ'], e.readers.map((r) => [r.actor, String(r.reads), shortTime(r.lastReadAt)]));
  lines.push(e.readers.length ? readers + more(e.readers.length, e.totalReaders, 'reader') : '  none\n');
  const c = e.could;
  const rule = c.matchedRule ? ` (rule ${inert(c.matchedRule)})` : '';
  lines.push('who could:');
  if (!c.inPolicy) lines.push(`  change: nobody (the policy does not name ${inert(e.environment)})`);
  else if (c.requiredApprovals <= 0) lines.push(`  change: anyone may ask; no approval needed${rule}`);
  else lines.push(`  change: ${plural(c.requiredApprovals, 'approval')} from ${inert(c.approvers.join(', ') || 'nobody')}${rule}`);
  lines.push(`  read: ${c.tokens.length ? `tokens ${inert(c.tokens.map((t) => t.name).join(', '))}, and the admin token` : 'only the admin token'}`);
  for (const g of c.grantees ?? []) lines.push(`  read under a live grant: slack:${inert(g.userId)} until ${shortTime(g.endsAt)}`);
  return lines.join('\n') + '\n';
}

const who: Command = {
  synopsis: 'audit who [ENV] KEY [--since WHEN] [--json]',
  summary: 'Who changed, read and could read a secret (admin)',
  details: `Without ENV, every environment where KEY exists. Never shows values.

${WINDOW_HELP}`,
  async run(args) {
    const { values, positionals } = parse(who, args, windowOptions, ['ENV', 'KEY?']);
    const [env, key] = positionals.length === 2 ? positionals : [undefined, positionals[0]];
    const path = env === undefined ? `/v1/audit/keys/${pathOf(key)}` : `/v1/audit/secrets/${pathOf(env, key)}`;
    const a = await clientFromEnv().get<SecretActivityReply>(path + query(values));
    if (values.json) return write(formatJson(a));
    if (a.environments.length === 0) return write(`no secret ${inert(a.key)} in any environment\n`);
    await write(a.environments.map((e) => environmentText(a.key, e, a.since)).join('\n'));
  },
};

const user: Command = {
  synopsis: 'audit user ID [--since WHEN] [--json]',
  summary: 'What a person or token requested, decided and read (admin)',
  details: `ID is a Slack member id (U0BOB or slack:U0BOB), token:NAME, or admin (short for
token:admin, the bootstrap admin). Never shows values.

${WINDOW_HELP}`,
  async run(args) {
    const { values, positionals: [id] } = parse(user, args, windowOptions, ['ID']);
    const u = await clientFromEnv().get<UserActivityReply>(`/v1/audit/users/${pathOf(id)}${query(values)}`);
    if (values.json) return write(formatJson(u));
    const out = [
      `${inert(u.actor)}: ${plural(u.totalRequests, 'request')}, ${plural(u.totalDecisions, 'decision')}, ${plural(u.totalReads, 'read')} of ${plural(u.totalSecretsRead, 'secret')}${u.since ? ` since ${shortTime(u.since)}` : ''}`,
      '',
      'requests:',
      u.requests.length
        ? formatTable(['ID', 'ENVIRONMENT', 'KEY', 'OPERATION', 'STATUS', 'WHEN'], u.requests.map((r) => [r.id, r.environment, r.key, r.operation, r.status, shortTime(r.createdAt)])) +
          more(u.requests.length, u.totalRequests, 'request')
        : '  none\n',
    ];
    if (u.userId) {
      out.push(
        'decisions:',
        u.decisions.length
          ? formatTable(
              ['REQUEST', 'ENVIRONMENT', 'KEY', 'DECISION', 'STATUS', 'WHEN', 'COMMENT'],
              u.decisions.map((d) => [d.requestId, d.environment, d.key, d.decision, d.status, shortTime(d.at), d.comment ?? '']),
            ) + more(u.decisions.length, u.totalDecisions, 'decision')
          : '  none\n',
      );
    }
    out.push(
      'reads:',
      u.reads.length
        ? formatTable(['ENVIRONMENT', 'KEY', 'READS', 'LAST READ'], u.reads.map((r) => [r.environment, r.key, String(r.reads), shortTime(r.lastReadAt)])) +
          more(u.reads.length, u.totalSecretsRead, 'secret')
        : '  none\n',
    );
    await write(out.join('\n'));
  },
};

export const audit: Command = {
  synopsis: 'audit verify|checkpoint|export|who|user',
  summary: 'Verify, checkpoint or export the audit log; who touched a secret, what a person did (admin token)',
  subcommands: { verify, checkpoint, export: exportAudit, who, user },
};
