/**
 * Runs `stop` once when the parent asks (SIGTERM, SIGINT) or goes away (stdin closes), then exits.
 * A bench child never outlives the bench. Plain JS: keyturn's bench child (clicks-server.mjs) runs without tsx.
 *
 * @param {() => Promise<void>} stop
 */
export function exitWhenAsked(stop) {
  let stopping = false;
  const shutdown = (code) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code || 1), 10_000);
    force.unref();
    stop()
      .catch((err) => console.error(`stop failed: ${err?.message ?? String(err)}`))
      .finally(() => process.exit(code));
  };
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}
