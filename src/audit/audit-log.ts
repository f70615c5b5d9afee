/**
 * The audit log: every mutating call and every payload read, recorded durably before the response
 * is sent. It names the secret (platform, account, mode, scope, name), who asked (key id) and what
 * came of it; never a payload.
 */
import type { Insertable, Selectable } from 'kysely';
import type { AppendColumn, AppendRows, StoreEngine } from '../store/engine.js';
import { type PreparedQuery, prepare } from '../store/prepared-query.js';
import type { AuditLogTable, Db } from '../store/schema.js';

export interface AuditEntry {
  readonly time: number;
  readonly requestId: string;
  /** The registered key's id, or null for an emulator-mode key. */
  readonly keyId: string | null;
  readonly platform: string;
  readonly account: string;
  readonly livemode: boolean;
  readonly operation: string;
  readonly scopeType: string;
  readonly scopeUser: string | null;
  /** null for a list. */
  readonly name: string | null;
  /** 'ok', 'replayed', or the error code. */
  readonly outcome: string;
  readonly status: number;
}

export interface AuditQuery {
  readonly since?: number;
  readonly name?: string;
  readonly limit: number;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  query(query: AuditQuery): Promise<AuditEntry[]>;
}

const toEntry = (row: Selectable<AuditLogTable>): AuditEntry => ({
  time: Number(row.time),
  requestId: row.request_id,
  keyId: row.key_id,
  platform: row.platform,
  account: row.account,
  livemode: Number(row.livemode) === 1,
  operation: row.operation,
  scopeType: row.scope_type,
  scopeUser: row.scope_user,
  name: row.name,
  outcome: row.outcome,
  status: Number(row.status),
});

type AuditRow = Required<Omit<Insertable<AuditLogTable>, 'seq'>>;

const toRow = (e: AuditEntry): AuditRow => ({
  time: e.time,
  request_id: e.requestId,
  key_id: e.keyId,
  platform: e.platform,
  account: e.account,
  livemode: e.livemode ? 1 : 0,
  operation: e.operation,
  scope_type: e.scopeType,
  scope_user: e.scopeUser,
  name: e.name,
  outcome: e.outcome,
  status: e.status,
});

interface PendingEntry {
  readonly entry: AuditEntry;
  resolve(): void;
  reject(error: unknown): void;
}

/** The most entries one write of the log records; more wait for the next write. */
const MAX_ROWS_PER_BATCH = 500;

/**
 * The sizes of the inserts a batch is cut into, largest first. Building a fresh multi-row insert for
 * every batch cost more than running it; one prepared insert per size costs nothing per batch, and
 * any batch is a few of them (37 rows: 16 + 16 + 4 + 1).
 */
const CHUNK_SIZES = [256, 64, 16, 4, 1]; // 256 rows of 12 columns: far below either engine's parameter limit

/** The audit columns in insert order, with the PostgreSQL type an append reads each as. */
const AUDIT_TYPES: Record<keyof AuditRow, AppendColumn['type']> = {
  time: 'bigint',
  request_id: 'text',
  key_id: 'text',
  platform: 'text',
  account: 'text',
  livemode: 'integer',
  operation: 'text',
  scope_type: 'text',
  scope_user: 'text',
  name: 'text',
  outcome: 'text',
  status: 'integer',
};

const AUDIT_COLUMNS = Object.keys(AUDIT_TYPES) as ReadonlyArray<keyof AuditRow>;

const AUDIT_APPEND_COLUMNS: readonly AppendColumn[] = AUDIT_COLUMNS.map((name) => ({ name, type: AUDIT_TYPES[name] }));

/** A row's values in AUDIT_COLUMNS order. */
const rowValues = (row: AuditRow) => AUDIT_COLUMNS.map((column) => row[column]);

/** The values of a chunk's rows, row after row, each in AUDIT_COLUMNS order: slot k is value k. */
type ChunkValues = ReadonlyArray<AuditRow[keyof AuditRow]>;

function preparedInsert(db: Db, size: number): PreparedQuery<ChunkValues, never> {
  return prepare<ChunkValues, never>((s) =>
    db.insertInto('audit_log').values(
      Array.from({ length: size }, (_, i) => {
        const row: Record<string, unknown> = {};
        AUDIT_COLUMNS.forEach((column, c) => {
          row[column] = s[i * AUDIT_COLUMNS.length + c];
        });
        return row as AuditRow;
      }),
    ),
  );
}

const chunkValues = (rows: readonly AuditRow[], from: number, size: number): ChunkValues =>
  rows.slice(from, from + size).flatMap(rowValues);

export class SqlAuditLog implements AuditLog {
  private pending: PendingEntry[] = [];
  private scheduled = false;
  private appending: Promise<void> = Promise.resolve();
  /** Set where the engine appends a batch in one statement (PostgreSQL); else batches are inserted. */
  private readonly appendRows: AppendRows | undefined;

  private readonly inserts = new Map<number, PreparedQuery<ChunkValues, never>>();

  constructor(private readonly engine: Pick<StoreEngine, 'db' | 'writeTransaction' | 'appender'>) {
    this.appendRows = engine.appender?.('audit_log', AUDIT_APPEND_COLUMNS);
  }

  private async insert(trx: Db, rows: AuditRow[]): Promise<void> {
    let at = 0;
    for (const size of CHUNK_SIZES) {
      for (; rows.length - at >= size; at += size) {
        let insert = this.inserts.get(size);
        if (!insert) {
          insert = preparedInsert(this.engine.db, size);
          this.inserts.set(size, insert);
        }
        await insert.execute(trx, chunkValues(rows, at, size));
      }
    }
  }

  /**
   * Resolves once the entry is committed. Entries recorded while a write is waiting for its turn
   * join it: under load, one insert in one commit records many requests (on SQLite, inside the
   * group commit the requests' own writes share).
   */
  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      this.schedule();
    });
  }

  /**
   * One append at a time (PostgreSQL): the entries recorded meanwhile go in the next one, in one
   * statement. Appending each loop turn's entries at once made more, smaller commits, and about 15 %
   * fewer finds with payload per second on the bench machine.
   */
  private append(appendRows: AppendRows, take: () => AuditRow[]): Promise<void> {
    const next = this.appending.catch(() => {}).then(() => appendRows(take().map(rowValues)));
    this.appending = next;
    return next;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    let batch: PendingEntry[] | undefined;
    const take = (): AuditRow[] => {
      batch = this.pending.splice(0, MAX_ROWS_PER_BATCH);
      this.scheduled = false;
      if (this.pending.length > 0) this.schedule();
      return batch.map((p) => toRow(p.entry));
    };
    const { appendRows } = this;
    const written = appendRows
      ? this.append(appendRows, take)
      : this.engine.writeTransaction((trx) => this.insert(trx, take()));
    written.then(
      () => {
        for (const p of batch ?? []) p.resolve();
      },
      // When the write failed before taking its batch, the entries waiting for it fail too.
      (error: unknown) => {
        if (!batch) take();
        for (const p of batch ?? []) p.reject(error);
      },
    );
  }

  async query(q: AuditQuery): Promise<AuditEntry[]> {
    let query = this.engine.db.selectFrom('audit_log').selectAll();
    if (q.since !== undefined) query = query.where('time', '>=', q.since);
    if (q.name !== undefined) query = query.where('name', '=', q.name);
    const rows = await query.orderBy('seq', 'desc').limit(q.limit).execute();
    return rows.map(toEntry);
  }
}
