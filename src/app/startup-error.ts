/**
 * A start-up step failed for a reason the operator can fix (a port taken, a data directory that
 * cannot be written, an unreachable database): one sentence naming what failed, the path or
 * address, and the flag and variable that change it. The CLI prints it alone and exits 1.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  ENOENT: 'it does not exist',
  ELOOP: 'too many symbolic links',
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: "the address is not one of this machine's",
  ENOTFOUND: 'the name does not resolve',
  EAI_AGAIN: 'the name does not resolve',
  ECONNREFUSED: 'the connection was refused',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  SQLITE_NOTADB: 'the file is not a SQLite database',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_CANTOPEN: 'SQLite cannot open it',
  SQLITE_READONLY: 'it is read-only',
  SQLITE_FULL: 'the disk is full',
};

/** The words for a system or driver error: its code's meaning, else its own message. */
export function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (typeof code === 'string') {
    const reason = REASONS[code] ?? REASONS[code.replace(/_[A-Z]+$/, '')];
    if (reason) return reason;
  }
  if (cause !== undefined && cause !== error) {
    const inner = reasonOf(cause);
    if (inner !== messageOf(cause)) return inner;
  }
  return messageOf(error);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
