/** An expected failure: main prints `keyturn: <message>` and exits with `exitCode`, no stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The caller used the command wrongly (exit 2). */
export const usageError = (message: string) => new CliError(message, 2);
/** The command could not do its job: server said no, unreachable, not found (exit 1). */
export const failure = (message: string) => new CliError(message, 1);
