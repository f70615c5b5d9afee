/**
 * What every endpoint file provides: its route, how it reads its parameters, what it is about
 * (for authorization and the audit log) and what it runs. The stages in `stages/` do the rest.
 */
import type { Owner, Scope } from '../secrets/secret.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import type { FormObject } from './form-params.js';

export interface Endpoint<Command> {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Stable operation name for logs, metrics and the audit trail. */
  readonly operation: string;
  /**
   * 'write': runs in one write transaction with its idempotency record and its audit row.
   * 'read': runs outside any transaction; audited only when it reveals a payload.
   */
  readonly kind: 'write' | 'read';
  /** Validates and converts the wire parameters; throws 400s before anything executes. */
  parse(params: FormObject): Command;
  /** The secret (or, with a null name, the scope) the command is about. */
  target(command: Command): Target;
  /** Whether the answer holds a payload: such a read is answered only once its audit row is stored. */
  revealsPayload(command: Command): boolean;
  /** Executes the command and returns the JSON response body. */
  run(secrets: SecretsService, owner: Owner, command: Command): Promise<string>;
}

export interface Target {
  readonly scope: Scope;
  readonly name: string | null;
}

/** Erases the command type so endpoints of different commands can share one route table. */
// biome-ignore lint/suspicious/noExplicitAny: the command type is private to each endpoint
export type AnyEndpoint = Endpoint<any>;
