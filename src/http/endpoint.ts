/** What every endpoint file provides; `build-app.ts` does the rest (auth, idempotency, rendering). */
import type { Principal } from '../keys/api-keys.js';
import type { Owner, Scope } from '../secrets/secret.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import type { FormObject } from './form-params.js';

export interface EndpointContext {
  readonly owner: Owner;
  readonly principal: Principal;
  readonly secrets: SecretsService;
}

export interface Endpoint<Command> {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Stable operation name for logs, metrics and the audit trail. */
  readonly operation: string;
  /** Validates and converts the wire parameters; throws 400s before anything executes. */
  parse(params: FormObject): Command;
  /** Executes the command and returns the JSON response body. */
  run(context: EndpointContext, command: Command): Promise<string>;
  /** What the audit log records of this command; undefined for calls it does not record. */
  audited(command: Command): AuditTarget | undefined;
}

/** The secret a call touched, for the audit log (never the payload). */
export interface AuditTarget {
  readonly scope: Scope;
  readonly name: string | null;
}

/** Erases the command type so endpoints of different commands can share one route table. */
// biome-ignore lint/suspicious/noExplicitAny: the command type is private to each endpoint
export type AnyEndpoint = Endpoint<any>;
