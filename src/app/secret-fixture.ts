/**
 * One entry of a fixtures file (see fixtures.ts): what `stripe.apps.secrets.create` takes, and whose
 * secret it is. A module of its own, without imports, since `secret-store/testing` publishes it.
 */
export interface SecretFixture {
  readonly name: string;
  readonly payload: string;
  readonly scope: { readonly type: 'account' } | { readonly type: 'user'; readonly user: string };
  /** Unix seconds; in the future of the store's clock when the fixture is loaded. */
  readonly expires_at?: number;
  /** A connected account of the platform (`acct_...`); the platform's own account without one. */
  readonly account?: string;
  /** The test key whose platform owns the secret; `sk_test_123` without one. */
  readonly key?: string;
}
