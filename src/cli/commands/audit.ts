import { clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { failure } from '../errors.js';
import { write } from '../output.js';

interface VerifyReply {
  ok: boolean;
  entries: number;
  firstProblem?: { seq: number; problem: string; message: string };
}

const verify: Command = {
  synopsis: 'audit verify',
  summary: 'Check the audit hash chain (admin)',
  details: 'Exits 0 when the chain is intact, 1 when it is broken.',
  async run(args) {
    parse(verify, args, {});
    const r = await clientFromEnv().get<VerifyReply>('/v1/audit/verify');
    if (r.ok) return write(`audit chain intact: ${r.entries} entries\n`);
    const p = r.firstProblem;
    await write(`audit chain BROKEN at entry ${p?.seq ?? '?'}: ${p?.message ?? 'no details from the server'}\n`);
    return 1;
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

export const audit: Command = {
  synopsis: 'audit verify|export',
  summary: 'Verify or export the audit log (admin token)',
  subcommands: { verify, export: exportAudit },
};
