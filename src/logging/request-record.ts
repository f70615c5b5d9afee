/**
 * What one API request was, filled in by the request path as it learns it: the one record the
 * request log line, the metrics and the audit log are all made from. It holds ids, names and
 * outcomes, never a payload or a key.
 */

/** The secret (or, for a list, the scope) a request was about. */
export interface RequestTarget {
  readonly scopeType: string;
  /** null for account scope. */
  readonly scopeUser: string | null;
  /** null for a list. */
  readonly name: string | null;
}

export interface RequestRecord {
  readonly requestId: string;
  readonly method: string;
  /** performance.now() when the request arrived. */
  readonly started: number;
  /** Stable operation name ('apps.secret.create'), or 'unrecognized' before routing. */
  operation: string;
  /** The registered key's id; null for an emulator key; undefined before authentication. */
  keyId: string | null | undefined;
  platform: string | undefined;
  /** The account acted on: the platform itself or a connected account. */
  account: string | undefined;
  livemode: boolean | undefined;
  target: RequestTarget | undefined;
  replayed: boolean;
  status: number;
  /**
   * For failed requests, what went wrong: Stripe's error code, or the server's name for an error
   * Stripe sends no code for (ApiError.reason). Logged and audited; never on the wire.
   */
  code: string | undefined;
}

export function newRequestRecord(requestId: string, method: string): RequestRecord {
  return {
    requestId,
    method,
    started: performance.now(),
    operation: 'unrecognized',
    keyId: undefined,
    platform: undefined,
    account: undefined,
    livemode: undefined,
    target: undefined,
    replayed: false,
    status: 0,
    code: undefined,
  };
}

/** How long the request took, in milliseconds, as of now. */
export const elapsedMs = (record: RequestRecord): number => performance.now() - record.started;
