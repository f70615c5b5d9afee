/**
 * What one request carries through the stages of the request path (see build-app.ts for their
 * order). Each stage reads what the stages before it set and adds its own part; none reaches back.
 */
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../keys/api-keys.js';
import type { RequestRecord } from '../logging/request-record.js';
import type { Owner } from '../secrets/secret.js';
import type { AnyEndpoint, Target } from './endpoint.js';
import type { FormObject } from './form-params.js';
import type { IdempotentRequest, Outcome } from './idempotency-guard.js';
import type { HeaderMap } from './render.js';
import type { StripeHeaderValues } from './stages/stripe-headers.js';
import type { AnyTestToolEndpoint } from './test-tool-endpoint.js';

export class RequestContext {
  /** route */
  endpoint!: AnyEndpoint;
  /** route, for the test tools (they run instead of an endpoint: see stages/test-tool.ts) */
  testTool!: AnyTestToolEndpoint;
  /** authenticate */
  principal!: Principal;
  /** read params, parse */
  params!: FormObject;
  command: unknown;
  target!: Target;
  owner!: Owner;
  /** idempotency */
  idempotent: IdempotentRequest | undefined;
  /** execute */
  outcome!: Outcome;
  /** Whether the request's audit row was stored with its outcome (then nothing is left to record). */
  audited = false;

  constructor(
    readonly req: IncomingMessage,
    /** Read before the stages run, for the answer's echo; checked by the Stripe headers stage. */
    readonly stripe: StripeHeaderValues,
    /** The answer's headers, filled in on the way. */
    readonly headers: HeaderMap,
    readonly record: RequestRecord,
    readonly path: string,
    readonly rawQuery: string,
  ) {}

  /** Whether this request is one the audit log records (every write, and reads of payloads). */
  get isAudited(): boolean {
    return this.endpoint.kind === 'write' || this.endpoint.revealsPayload(this.command);
  }
}

/** One step of the request path: it throws to answer with an error, or returns to go on. */
export type Stage = (context: RequestContext) => void | Promise<void>;
