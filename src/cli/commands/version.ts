import { readFileSync } from 'node:fs';
import { type Command, parse } from '../command.js';
import { write } from '../output.js';

/** keyturn's version, from package.json (the one place it is written). */
export const packageVersion = () =>
  (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const version: Command = {
  synopsis: 'version',
  summary: 'Print the version of keyturn (also -v, --version)',
  async run(args) {
    parse(version, args, {});
    await write(`keyturn ${packageVersion()}\n`);
  },
};
