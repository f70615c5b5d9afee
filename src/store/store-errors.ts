/**
 * The errors the store raises, typed where they arise: the engines translate their drivers' errors
 * into these once (sqlite/ and postgres/), so nothing above the store reads a driver's error codes. Everything
 * else a driver throws is a bug and passes through unchanged.
 */

/** The database cannot serve now (lost connection, timeout, busy, I/O error); nothing was done. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The disk (or the database's quota) is full; nothing was stored. */
export class StoreFullError extends StoreUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreFullError';
  }
}

/** A constraint refused a write: a bug in the code above, since inputs are checked before storage. */
export class StoreConstraintError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreConstraintError';
  }
}

const FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT', '53100' /* disk_full */]);

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EIO',
  'EROFS',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53000', // insufficient_resources
  '53200', // out_of_memory
  '53300', // too_many_connections
  '57014', // query_canceled (statement timeout)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_NOMEM',
]);

const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|connect ECONNREFUSED/i;

function codeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The store's own error for a driver's error, or the error itself when it is not one the store
 * knows (a bug, a missing table during migrations).
 */
export function translateDriverError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof StoreUnavailableError || error instanceof StoreConstraintError) {
    return error;
  }
  const code = codeOf(error) ?? '';
  const message = `${error.message}${code ? ` (${code})` : ''}`;
  if (FULL_CODES.has(code)) return new StoreFullError(message, { cause: error });
  if (
    UNAVAILABLE_CODES.has(code) ||
    code.startsWith('08') || // connection_exception
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_READONLY') ||
    UNAVAILABLE_MESSAGES.test(error.message)
  ) {
    return new StoreUnavailableError(message, { cause: error });
  }
  if (code.startsWith('23') || code.startsWith('SQLITE_CONSTRAINT')) {
    return new StoreConstraintError(message, { cause: error });
  }
  return error;
}

/** Whether the error means the database could not do what was asked, so a retry may succeed. */
export const isUnavailableError = (error: unknown): boolean =>
  translateDriverError(error) instanceof StoreUnavailableError;

/** "No such table" on either engine: PostgreSQL's undefined_table, SQLite's message. */
export function isMissingTableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (error as { code?: unknown }).code === '42P01' || /no such table/i.test(error.message);
}

/** PostgreSQL's invalid_schema_name: a schema named in a catalog scan was dropped meanwhile. */
export function isVanishedSchemaError(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === '3F000';
}

/**
 * The error a migration gets when another process ran the same migration at the same moment and
 * committed first: its tables, columns or bookkeeping row exist now (unique_violation,
 * duplicate_table, duplicate_column, duplicate_object), or the two deadlocked.
 */
export function isConcurrentMigrationError(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && ['23505', '42P07', '42701', '42710', '40P01'].includes(code)) return true;
  }
  return false;
}

/**
 * A database that a newer release has migrated: this release does not know some of its migrations,
 * and would write rows that release's queries cannot find (README, "Upgrading several instances").
 */
export class NewerSchemaError extends Error {
  constructor(readonly newer: readonly string[]) {
    super(`the database was migrated by a newer release of secret-store (${newer.join(', ')}): use that release`);
    this.name = 'NewerSchemaError';
  }
}
