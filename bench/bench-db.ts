import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * A throwaway PostgreSQL database on this machine for one benchmark run. BENCH_DATABASE_URL names the
 * admin connection (default postgres://postgres@127.0.0.1:5432/postgres); anything off this machine is refused.
 */
export function benchDatabase(prefix: string) {
  const adminUrl = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(adminUrl.hostname)) {
    throw new Error(`BENCH_DATABASE_URL must point at this machine (127.0.0.1), not ${adminUrl.hostname}`);
  }
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let created = false;
  const admin = async (statement: string) => {
    const sql = postgres(adminUrl.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      await sql.unsafe(statement);
    } finally {
      await sql.end({ timeout: 5 });
    }
  };
  return {
    name,
    url,
    async create() {
      await admin(`create database ${name}`);
      created = true;
    },
    /** Drops it if this run created it; safe to call more than once. */
    async drop() {
      if (!created) return;
      created = false;
      await admin(`drop database if exists ${name} with (force)`);
    },
  };
}

/** A command-line count: a whole number ≥ 1, or a clear error naming the option. */
export function wholeNumber(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1, got ${JSON.stringify(text)}`);
  return n;
}
