import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Makes committed transactions durable without blocking the event loop. SQLite's own
 * synchronous=FULL calls fsync inside COMMIT, on the one thread that also answers every request;
 * instead the connection runs synchronous=NORMAL (a commit is written to the WAL, not yet synced)
 * and this syncs the WAL file from libuv's thread pool before any write is acknowledged. The
 * durability is FULL's: an acknowledged transaction is in the synced WAL, or a checkpoint has copied
 * it into the database file, which SQLite syncs before the WAL can be reused. Concurrent requests
 * share one sync: whoever asks while a sync runs waits for the next one, started after it.
 */
export class WalSync {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private directorySynced = false;
  private wal: FileHandle | undefined;

  constructor(private readonly databaseFile: string) {}

  async close(): Promise<void> {
    const wal = this.wal;
    this.wal = undefined;
    await wal?.close().catch(() => {});
  }

  readonly request = (): Promise<void> => {
    if (!this.running) {
      this.running = this.syncNow().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // The running sync may have started before the caller's commit: it needs the next one.
    this.queued ??= this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.request();
      });
    return this.queued;
  };

  private async syncNow(): Promise<void> {
    try {
      // Kept open: opening and closing it around each sync took two more trips to the thread pool.
      // SQLite removes the WAL only when the last connection closes, and ours stay open until close.
      this.wal ??= await open(`${this.databaseFile}-wal`, 'r');
      await this.wal.datasync();
    } catch (error) {
      await this.close();
      // No WAL: the last connection closed and checkpointed it away; the database file holds all.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await syncFile(this.databaseFile);
    }
    if (!this.directorySynced) {
      // The WAL file is created by the first write; its directory entry must survive too.
      await syncFile(dirname(this.databaseFile));
      this.directorySynced = true;
    }
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
