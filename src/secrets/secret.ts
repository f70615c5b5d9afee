/** The Secret Store domain model. No framework, HTTP or database imports here. */

export type Scope = { readonly type: 'account' } | { readonly type: 'user'; readonly user: string };
export const SCOPE_TYPES = ['account', 'user'] as const;

/**
 * Whose secrets a request acts on, short of the scope: the platform account that owns the API key,
 * the account it acts on (itself, or a connected account from `Stripe-Account`), and the mode.
 * Secrets with different owners never see each other.
 */
export interface Owner {
  readonly platform: string;
  readonly account: string;
  readonly livemode: boolean;
  /**
   * Set when the API key is bound to one Dashboard user, the model of Stripe's rule that UI
   * extensions "can only access account-scoped secrets or secrets scoped to their own user".
   */
  readonly boundUser?: string | null;
}

/** A stored secret as the domain sees it; `payload` is present only when it was asked for. */
export interface Secret {
  readonly id: string;
  readonly created: number;
  readonly expiresAt: number | null;
  readonly livemode: boolean;
  readonly name: string;
  readonly scope: Scope;
  readonly payload?: string;
}

export interface SecretPage {
  readonly secrets: readonly Secret[];
  readonly hasMore: boolean;
}

/** Limits that are part of Stripe's published behaviour. */
export const MAX_SECRETS_PER_SCOPE = 10;
export const MAX_EXPIRY_SECONDS = 100 * 366 * 24 * 60 * 60; // "at most 100 years", leap days included
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 10;
