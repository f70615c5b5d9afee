/**
 * The audit log: every mutating call and every payload read, recorded durably before the response
 * is sent. It names the secret (platform, account, mode, scope, name), who asked (key id) and what
 * came of it; never a payload.
 */
import type { Insertable, Selectable } from 'kysely';
import type { RequestRecord } from '../logging/request-record.js';
import type { AppendColumn, AppendRows, StoreEngine } from '../store/engine.js';
import { type PreparedQuery, prepare } from '../store/prepared-query.js';
import type { AuditLogTable, Db } from '../store/schema.js';
import { StoreUnavailableError } from '../store/store-errors.js';

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
  /**
   * Resolves once the entry is durable; rejects when it could not be stored, and then only this
   * entry's request fails: a row that cannot be stored never takes other rows down with it.
   */
  record(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  query(query: AuditQuery): Promise<AuditEntry[]>;
}

/** Appends inside a unit of work: the row commits with the request's write, or not at all. */
export interface AuditAppender {
  append(entry: AuditEntry): Promise<void>;
}

/** The audit entry of a request, from its record: what it was about, who asked, and what came of it. */
export function auditEntryOf(record: RequestRecord, time: number): AuditEntry {
  const target = record.target;
  return {
    time,
    requestId: record.requestId,
    keyId: record.keyId ?? null,
    platform: record.platform ?? '',
    account: record.account ?? '',
    livemode: record.livemode ?? false,
    operation: record.operation,
    scopeType: target?.scopeType ?? '',
    scopeUser: target?.scopeUser ?? null,
    name: target?.name ?? null,
    outcome: record.replayed ? 'replayed' : record.status < 400 ? 'ok' : (record.code ?? 'error'),
    status: record.status,
  };
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

/** One row's insert, bound as the row's values in AUDIT_COLUMNS order. */
function preparedInsert(
  engine: Pick<StoreEngine, 'db' | 'runPrepared' | 'deferWrite'>,
): PreparedQuery<ReadonlyArray<AuditRow[keyof AuditRow]>, never> {
  return prepare<ReadonlyArray<AuditRow[keyof AuditRow]>, never>(engine, (s) => {
    const row: Record<string, unknown> = {};
    AUDIT_COLUMNS.forEach((column, c) => {
      row[column] = s[c];
    });
    return engine.db.insertInto('audit_log').values(row as AuditRow);
  });
}

/**
 * Entries recorded on their own (payload reads, refused requests) are written in batches: under
 * load one commit records many requests. A batch is one write (one statement on PostgreSQL, one
 * write of the group commit on SQLite); if it fails, its rows are appended one by one, so only the
 * row at fault fails its request.
 */
export class SqlAuditLog implements AuditLog {
  private pending: PendingEntry[] = [];
  private scheduled = false;
  private appending: Promise<void> = Promise.resolve();
  private readonly appendRows: AppendRows;
  private readonly insert: PreparedQuery<ReadonlyArray<AuditRow[keyof AuditRow]>, never>;

  constructor(private readonly engine: Pick<StoreEngine, 'db' | 'runPrepared' | 'deferWrite' | 'capabilities'>) {
    this.insert = preparedInsert(engine);
    const appendRows = engine.capabilities.bulkAppender?.('audit_log', AUDIT_APPEND_COLUMNS);
    // Both engines append in batches; only an engine confined to a transaction does not.
    if (!appendRows) throw new Error('the audit log needs an engine that appends rows in batches');
    this.appendRows = appendRows;
  }

  /**
   * An appender for the unit of work whose transaction is `trx`. Nothing in the unit needs the
   * insert's result, so it may be held back to go with the transaction's next statement
   * (`StoreEngine.deferWrite`).
   */
  within(trx: Db): AuditAppender {
    return {
      append: (entry) => this.insert.deferred(trx, rowValues(toRow(entry))),
    };
  }

  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      this.schedule(this.appendRows);
    });
  }

  /**
   * One append at a time: the entries recorded meanwhile go in the next one, in one statement.
   * Appending each loop turn's entries at once made more, smaller commits and fewer finds with
   * payload per second.
   */
  private schedule(appendRows: AppendRows): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const written = this.appending.then(async () => {
      const batch = this.pending.splice(0, MAX_ROWS_PER_BATCH);
      this.scheduled = false;
      if (this.pending.length > 0) this.schedule(appendRows);
      await appendBatch(appendRows, batch);
    });
    this.appending = written.catch(() => {});
  }

  async query(q: AuditQuery): Promise<AuditEntry[]> {
    let query = this.engine.db.selectFrom('audit_log').selectAll();
    if (q.since !== undefined) query = query.where('time', '>=', q.since);
    if (q.name !== undefined) query = query.where('name', '=', q.name);
    const rows = await query.orderBy('seq', 'desc').limit(q.limit).execute();
    return rows.map(toEntry);
  }
}

/**
 * Appends a batch in one write; when a row of it was refused, row by row, failing only the rows at
 * fault. When the database was unavailable, every row fails: a retry would fail too, and a batch
 * committed but not known to be durable (a failed sync) would be written twice.
 */
async function appendBatch(appendRows: AppendRows, batch: readonly PendingEntry[]): Promise<void> {
  try {
    await appendRows(batch.map((p) => rowValues(toRow(p.entry))));
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      for (const p of batch) p.reject(error);
      return;
    }
    await Promise.all(batch.map((p) => appendRows([rowValues(toRow(p.entry))]).then(p.resolve, p.reject)));
    return;
  }
  for (const p of batch) p.resolve();
}
