/**
 * Audit batches when the database fails them: a row the database refuses fails only its own entry
 * (the store contract checks that), while a batch that was committed but could not be made durable
 * fails every entry, once: retried row by row, it would be stored twice.
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { SqlAuditLog } from '../../src/audit/audit-log.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import type { Database as Schema } from '../../src/store/schema.js';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { IN_MEMORY, openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { StoreUnavailableError } from '../../src/store/store-errors.js';
import { auditEntry } from '../support/audit-entries.js';

describe('the group commit, when the sync after a commit fails', () => {
  it('fails its writes as unavailable, although they were committed', async () => {
    const native = new Database(IN_MEMORY);
    native.exec('create table t (v integer)');
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: native }) });
    const commit = new GroupCommit(
      db,
      async () => {
        throw Object.assign(new Error('EMFILE: too many open files, open'), { code: 'EMFILE' });
      },
      (text) => native.exec(text),
    );
    const write = commit.run(async () => {
      native.prepare('insert into t values (1)').run();
    });
    await expect(write).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(native.prepare('select count(*) as n from t').get()).toEqual({ n: 1 });
    await db.destroy();
  });
});

describe('an audit batch committed but not known to be durable', () => {
  it('fails every entry of the batch and stores each row once', async () => {
    const engine = await openSqlite({ file: IN_MEMORY });
    await migrateToLatest(engine);
    const append = engine.capabilities.bulkAppender;
    if (!append) throw new Error('SQLite appends in batches');
    const audit = new SqlAuditLog({
      ...engine,
      capabilities: {
        ...engine.capabilities,
        // The batch is written, then the sync fails: what the group commit answers (see above).
        bulkAppender: (table, columns) => {
          const rows = append(table, columns);
          return async (batch) => {
            await rows(batch);
            throw new StoreUnavailableError('the commit could not be made durable');
          };
        },
      },
    });
    const outcomes = await Promise.allSettled(
      ['req_a', 'req_b', 'req_c'].map((requestId) => audit.record(auditEntry({ requestId }))),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const stored = (await audit.query({ limit: 10 })).map((e) => e.requestId).sort();
    expect(stored).toEqual(['req_a', 'req_b', 'req_c']);
    await engine.close();
  });
});
