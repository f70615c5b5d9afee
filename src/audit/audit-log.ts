/**
 * The audit log: every mutating call and every payload read, recorded durably before the response
 * is sent. It names the secret (platform, account, mode, scope, name), who asked (key id) and what
 * came of it; never a payload.
 */
import type { Selectable } from 'kysely';
import type { StoreEngine } from '../store/engine.js';
import type { AuditLogTable } from '../store/schema.js';

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

const toRow = (e: AuditEntry) => ({
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

/** 12 columns a row: far below SQLite's and PostgreSQL's limits on bound parameters. */
const MAX_ROWS_PER_INSERT = 500;

export class SqlAuditLog implements AuditLog {
  private pending: PendingEntry[] = [];
  private scheduled = false;

  constructor(private readonly engine: Pick<StoreEngine, 'db' | 'writeTransaction'>) {}

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

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    let batch: PendingEntry[] | undefined;
    const take = (): PendingEntry[] => {
      batch = this.pending.splice(0, MAX_ROWS_PER_INSERT);
      this.scheduled = false;
      if (this.pending.length > 0) this.schedule();
      return batch;
    };
    this.engine
      .writeTransaction(async (trx) => {
        const rows = take().map((p) => toRow(p.entry));
        await trx.insertInto('audit_log').values(rows).execute();
      })
      .then(
        () => {
          for (const p of batch ?? []) p.resolve();
        },
        // When the transaction failed before taking its batch, the entries waiting for it fail too.
        (error: unknown) => {
          for (const p of batch ?? take()) p.reject(error);
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
