/** The Secret Store's wire objects, exactly as the API sends them (snake_case, as in Stripe's SDKs). */

export type Scope = { type: 'account' } | { type: 'user'; user: string };

export interface Secret {
  id: string;
  object: 'apps.secret';
  created: number;
  /** Present, and true, only on the object a delete returns. */
  deleted?: boolean;
  expires_at: number | null;
  livemode: boolean;
  name: string;
  /** Present only when `payload` (or `data.payload` on list) was expanded. */
  payload?: string | null;
  scope: Scope;
}

/** What `deleteWhere` returns: the secret, without its payload, marked deleted. */
export interface DeletedSecret extends Omit<Secret, 'deleted' | 'payload'> {
  deleted: true;
}

export interface SecretList {
  object: 'list';
  url: string;
  has_more: boolean;
  data: Secret[];
}

export interface CreateSecretParams {
  name: string;
  payload: string;
  scope: Scope;
  /** Unix seconds; in the future, at most 100 years ahead. */
  expiresAt?: number;
  expand?: Array<'payload' | 'scope'>;
}

export interface FindSecretParams {
  name: string;
  scope: Scope;
  expand?: Array<'payload' | 'scope'>;
}

export interface DeleteSecretParams {
  name: string;
  scope: Scope;
}

export interface ListSecretsParams {
  scope: Scope;
  /** 1 to 100; the server's default is 10. */
  limit?: number;
  startingAfter?: string;
  endingBefore?: string;
  expand?: Array<'data.payload' | 'data.scope'>;
}

export interface RequestOptions {
  /** Act on this connected account (`Stripe-Account`). */
  stripeAccount?: string;
  /** For POSTs; one is generated when not given, so retries are safe. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}
