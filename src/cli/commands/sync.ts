import type { SyncKeyStatus } from '../../domain/sync/sync-status.js';
import { clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { formatJson, formatTable, shortTime, write } from '../output.js';

/** A target's standing as /v1/sync/status sends it: times as ISO text, the lag in seconds. */
type SyncRow = Omit<SyncKeyStatus, 'syncedAt' | 'lagMs'> & { syncedAt: string | null; lagSeconds: number | null };

/** 95 → "1m35s", 7200 → "2h0m": how long a target has been behind. */
export function lagText(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86_400)}d${Math.floor((seconds % 86_400) / 3600)}h`;
}

const statusCmd: Command = {
  synopsis: 'sync status [--json]',
  summary: 'Show how far each sync target (AWS Secrets Manager) has mirrored each key (admin token)',
  details: `options:
  --json  print the server's answer as JSON

One row per target and key: the version keyturn has, the version the target holds,
how many versions and how long it is behind, and the last delivery error. Never a value.`,
  async run(args) {
    const { values } = parse(statusCmd, args, { json: { type: 'boolean' } });
    const { targets } = await clientFromEnv().get<{ targets: SyncRow[] }>('/v1/sync/status');
    if (values.json) return write(formatJson(targets));
    if (!targets.length) return write('No sync targets with keys to mirror (the policy\'s sync: section lists targets).\n');
    const rows = targets.map((t) => [
      t.target,
      `${t.environment}/${t.key}`,
      t.secretName,
      String(t.currentVersion),
      t.syncedVersion ? String(t.syncedVersion) : '-',
      t.versionsBehind ? `${t.versionsBehind} behind${t.lagSeconds !== null ? `, ${lagText(t.lagSeconds)}` : ''}` : 'in step',
      shortTime(t.syncedAt),
      t.lastError ?? '',
    ]);
    await write(formatTable(['TARGET', 'SECRET', 'REMOTE NAME', 'VERSION', 'SYNCED', 'LAG', 'SYNCED AT', 'LAST ERROR'], rows));
  },
};

export const sync: Command = {
  synopsis: 'sync status',
  summary: 'Mirror secrets into AWS Secrets Manager: see how far each target is (admin token)',
  subcommands: { status: statusCmd },
};
