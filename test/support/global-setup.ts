import postgres from 'postgres';

/** Tells the run which database it uses, once, so a reader of CI output knows what was covered. */
export default async function setup() {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    console.log('[keyturn tests] TEST_DATABASE_URL is not set: running on embedded PGlite');
    return;
  }
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await sql`select 1`;
    console.log(`[keyturn tests] running on PostgreSQL at ${new URL(url).host}`);
  } catch (err) {
    throw new Error(`TEST_DATABASE_URL is set but PostgreSQL is not reachable: ${(err as Error).message}`);
  } finally {
    await sql.end();
  }
}
