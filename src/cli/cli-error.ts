/** An error whose message is meant for the person at the terminal: printed alone, exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
