/**
 * The `apps.secret` and list objects in the field order of Stripe's API reference examples: id, object,
 * then alphabetical for a secret; object, url, has_more, data for a list.
 */
import type { Secret, SecretPage } from '../secrets/secret.js';

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

export const serializeSecret = (secret: Secret): string => JSON.stringify(secretObject(secret));

export const serializeDeletedSecret = (secret: Secret): string => JSON.stringify(secretObject(secret, true));

export const LIST_URL = '/v1/apps/secrets';

export function serializeSecretList(page: SecretPage): string {
  return JSON.stringify({
    object: 'list',
    url: LIST_URL,
    has_more: page.hasMore,
    data: page.secrets.map((s) => secretObject(s)),
  });
}
