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
export const MAX_EXPIRY_YEARS = 100;

/**
 * The latest `expires_at` allowed at `now` (unix seconds): Stripe's "can't be more than 100 years
 * in the future" taken on the calendar, the same UTC date and time 100 years on. From February 29
 * to a year without one, the bound is February 28: never more than 100 years.
 */
export function latestExpiry(now: number): number {
  const date = new Date(now * 1000);
  const year = date.getUTCFullYear() + MAX_EXPIRY_YEARS;
  const month = date.getUTCMonth();
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  return Date.UTC(year, month, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()) / 1000;
}
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 10;
