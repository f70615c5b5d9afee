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

export class SqlAuditLog implements AuditLog {
  constructor(private readonly engine: Pick<StoreEngine, 'db' | 'writeTransaction'>) {}

  async record(e: AuditEntry): Promise<void> {
    // Through the engine's write path, so on SQLite audit rows share the group commit of requests.
    await this.engine.writeTransaction((trx) =>
      trx
        .insertInto('audit_log')
        .values({
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
        })
        .execute(),
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
