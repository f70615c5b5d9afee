/**
 * Runs the command, as one unit of work.
 *
 * A write (create, delete) runs in one write transaction with its idempotency record and its audit
 * row: the claim, the secret's row, the saved response and the audit row commit together, or none
 * does. A domain error (404, the scope's cap) is an answer like any other: it is saved and audited
 * in the same way, since the domain raises it before writing anything. Anything else rolls the
 * whole unit back.
 *
 * A read runs outside any transaction. When it reveals a payload, its audit row is stored (durably,
 * in the group commit on SQLite) before the answer leaves; if the row cannot be stored, the payload
 * is not sent and the request fails with a retryable 503.
 */
import { type AuditAppender, type AuditLog, auditEntryOf } from '../../audit/audit-log.js';
import { ApiError } from '../../errors/api-error.js';
import type { OwnedClock } from '../../secrets/platform-clocks.js';
import type { SecretsService } from '../../secrets/secrets-service.js';
import type { IdempotencyStore } from '../../store/idempotency-store.js';
import type { SecretStore } from '../../store/secret-store.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import type { IdempotencyGuard, Outcome } from '../idempotency-guard.js';
import { errorOutcome } from '../render.js';
import type { RequestContext, Stage } from '../request-context.js';

/** The stores a write request's unit of work writes to. */
export interface WriteStores {
  readonly secrets: SecretStore;
  readonly idempotency: IdempotencyStore;
  readonly audit: AuditAppender;
}

export interface ExecuteDeps {
  readonly secrets: SecretsService;
  readonly unitOfWork: UnitOfWork<WriteStores>;
  readonly guard: IdempotencyGuard;
  readonly audit: AuditLog;
  /** Milliseconds since the epoch, as each owner sees them. */
  readonly clock: OwnedClock;
}

/** Runs the endpoint; a domain error becomes its answer. */
async function run(context: RequestContext, secrets: SecretsService): Promise<Outcome> {
  try {
    const body = await context.endpoint.run(secrets, context.owner, context.command);
    return { status: 200, body };
  } catch (error) {
    if (error instanceof ApiError) return errorOutcome(error);
    throw error;
  }
}

/** Notes the outcome on the request's record, before its audit row is made from it. */
function settle(context: RequestContext, outcome: Outcome, replayed: boolean): Outcome {
  const { record } = context;
  record.status = outcome.status;
  record.code = outcome.reason;
  record.replayed = replayed;
  return outcome;
}

export function execute(deps: ExecuteDeps): Stage {
  const now = (context: RequestContext) => Math.floor(deps.clock(context.owner) / 1000);

  const write = async (context: RequestContext): Promise<Outcome> => {
    const { idempotent } = context;
    const { outcome, replayOf } = await deps.unitOfWork.write(async (stores) => {
      const replay = idempotent && (await deps.guard.claim(stores.idempotency, idempotent));
      const done = replay
        ? { outcome: settle(context, replay, true), replayOf: replay.replayOf }
        : { outcome: settle(context, await run(context, deps.secrets.using(stores.secrets)), false), replayOf: '' };
      if (idempotent && !replay) await deps.guard.complete(stores.idempotency, idempotent, done.outcome);
      await stores.audit.append(auditEntryOf(context.record, now(context)));
      return done;
    });
    context.audited = true;
    if (replayOf) {
      context.headers['Idempotent-Replayed'] = 'true';
      context.headers['Original-Request'] = replayOf;
    }
    return outcome;
  };

  const read = async (context: RequestContext): Promise<Outcome> => {
    const outcome = settle(context, await run(context, deps.secrets), false);
    if (context.isAudited) {
      await deps.audit.record(auditEntryOf(context.record, now(context)));
      context.audited = true;
    }
    return outcome;
  };

  return async (context) => {
    context.outcome = context.endpoint.kind === 'write' ? await write(context) : await read(context);
  };
}
