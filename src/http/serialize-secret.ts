/**
 * The `apps.secret` and list objects with Stripe's bytes (README, "Responses"): pretty-printed, and
 * in the field order api.stripe.com sends: id, object, then alphabetical for an object; object,
 * data, has_more, url for a list (a raw body quoted in YumaInaura/YumaInaura#2796, whose lists
 * read object, data, has_more, total_count, url).
 */
import type { Secret, SecretPage } from '../secrets/secret.js';
import { stripeJson } from './stripe-json.js';

/**
 * Only for JSON.stringify, which leaves out the fields set to undefined (`deleted`, `payload`):
 * cheaper than spreading in optional fields, whose objects outlived the request (see scopeValues in
 * store/sql-secret-store.ts).
 */
function secretObject(secret: Secret, deleted = false): Record<string, unknown> {
  return {
    id: secret.id,
    object: 'apps.secret',
    created: secret.created,
    deleted: deleted ? true : undefined,
    expires_at: secret.expiresAt,
    livemode: secret.livemode,
    name: secret.name,
    payload: secret.payload,
    scope: secret.scope.type === 'user' ? { type: 'user', user: secret.scope.user } : { type: 'account' },
  };
}

export const serializeSecret = (secret: Secret): string => stripeJson(secretObject(secret));

export const serializeDeletedSecret = (secret: Secret): string => stripeJson(secretObject(secret, true));

export const LIST_URL = '/v1/apps/secrets';

export function serializeSecretList(page: SecretPage): string {
  return stripeJson({
    object: 'list',
    data: page.secrets.map((s) => secretObject(s)),
    has_more: page.hasMore,
    url: LIST_URL,
  });
}
