// First: V8's tiering is set before the rest of keyturn's code is loaded (see v8-tuning.ts).
import './v8-tuning.js';
import { ConfigError, loadConfig } from './config.js';
import { AppError } from './errors.js';
import { startKeyturn } from './app.js';

/** `npm start`: settings from the environment; a bad one stops the start with one line naming it. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keyturn: cannot start: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let keyturn;
  try {
    keyturn = await startKeyturn(config);
  } catch (err) {
    const message = err instanceof AppError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`keyturn: cannot start: ${message}\n`);
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    keyturn.logger.info({ signal }, 'stopping');
    keyturn.stop().then(
      () => process.exit(0),
      (err) => {
        keyturn.logger.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

void main();
