/**
 * The files of a SQLite data directory: who may read them, and the lock that keeps a second server
 * off a directory a server already uses. The database holds key hashes, secret names, the audit
 * trail and sealed payloads, so it is its owner's alone: the directory 0700, the files 0600. SQLite
 * creates its -wal and -shm files with the database file's mode, so making that one 0600 before
 * SQLite opens it covers all three.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and its parents) readable by its owner only; an existing one is left as it is. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Creates `file` empty with mode 0600 if it is missing; tightens an existing one to 0600. */
export function makePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  tighten(file, PRIVATE_FILE_MODE);
}

/** Removes group and other permissions from a path we own; answers the mode it had, if it changed. */
function tighten(path: string, mode: number): number | undefined {
  const stat = statSync(path);
  const before = stat.mode & 0o777;
  if ((before & 0o077) === 0 || stat.uid !== process.getuid?.()) return undefined;
  chmodSync(path, mode);
  return before;
}

export interface PreparedFiles {
  /** The data directory's mode before it was tightened to 0700, when it was open to others. */
  readonly dirModeBefore?: number;
}

/**
 * Readies the data directory and the database's files before SQLite opens them: the directory
 * made (or tightened to) 0700, the database file created 0600, and an older -wal or -shm that is
 * readable by others tightened to 0600.
 */
export function prepareSqliteFiles(file: string): PreparedFiles {
  const dir = dirname(file);
  makePrivateDir(dir);
  const dirModeBefore = tighten(dir, PRIVATE_DIR_MODE);
  makePrivateFile(file);
  for (const companion of [`${file}-wal`, `${file}-shm`]) {
    if (existsSync(companion)) tighten(companion, PRIVATE_FILE_MODE);
  }
  return dirModeBefore === undefined ? {} : { dirModeBefore };
}

/** Another server holds the data directory's lock. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    /** The holder's process id, as it wrote it; undefined when it could not be read. */
    readonly pid: number | undefined,
  ) {
    super(`the data directory ${dir} is in use by another secret-store server${pid ? ` (pid ${pid})` : ''}`);
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the data directory's server lock, or throws DataDirInUseError naming the holder. The lock
 * is an exclusive SQLite transaction held open on `serve.lock`: an operating-system lock that the
 * kernel releases when its process dies however it dies, so a crash never leaves a stale lock. It
 * excludes servers only; CLI commands open the database itself and share it with the server as
 * SQLite allows. The holder's pid is written beside it (`serve.pid`) for the refusal message.
 */
export function lockDataDir(dir: string): DataDirLock {
  const lockFile = join(dir, 'serve.lock');
  const pidFile = join(dir, 'serve.pid');
  makePrivateFile(lockFile);
  const lock = new SqliteDatabase(lockFile, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('begin exclusive');
  } catch (error) {
    lock.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw new DataDirInUseError(dir, readPid(pidFile));
    throw error;
  }
  try {
    writeFileSync(pidFile, `${process.pid}\n`, { mode: PRIVATE_FILE_MODE });
  } catch (error) {
    lock.close();
    throw error;
  }
  return {
    release() {
      // The pid file goes first: once the lock is free, the file may be the next server's.
      rmSync(pidFile, { force: true });
      lock.close();
    },
  };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
