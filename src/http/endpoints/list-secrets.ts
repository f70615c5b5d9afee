/** GET /v1/apps/secrets: a page of one scope's secrets, newest first, with cursors both ways. */
import { errors } from '../../errors/api-error.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Scope } from '../../secrets/secret.js';
import type { ListInput } from '../../secrets/secrets-service.js';
import type { Endpoint } from '../endpoint.js';
import { expandList, optionalInteger, optionalString, rejectUnknown, requiredScope } from '../params.js';
import { serializeSecretList } from '../serialize-secret.js';

interface ListSecrets {
  readonly scope: Scope;
  readonly page: ListInput;
  readonly withPayload: boolean;
}

export const listSecrets: Endpoint<ListSecrets> = {
  method: 'GET',
  path: '/v1/apps/secrets',
  operation: 'apps.secret.list',
  kind: 'read',
  target: ({ scope }) => ({ scope, name: null }),
  revealsPayload: ({ withPayload }) => withPayload,
  parse(params) {
    rejectUnknown(params, ['scope', 'limit', 'starting_after', 'ending_before', 'expand']);
    const scope = requiredScope(params);
    const limit = optionalInteger(params, 'limit') ?? DEFAULT_PAGE_SIZE;
    if (limit < 1) throw errors.integerTooSmall('limit', 1);
    if (limit > MAX_PAGE_SIZE) throw errors.integerTooLarge('limit', MAX_PAGE_SIZE);
    const startingAfter = optionalString(params, 'starting_after');
    const endingBefore = optionalString(params, 'ending_before');
    if (startingAfter !== undefined && endingBefore !== undefined) {
      throw errors.bothCursors();
    }
    const expand = expandList(params, ['data.payload', 'data.scope'], 'data.');
    return {
      scope,
      page: { limit, startingAfter, endingBefore },
      withPayload: expand.has('data.payload'),
    };
  },
  async run(secrets, owner, { scope, page, withPayload }) {
    return serializeSecretList(await secrets.list(owner, scope, page, { withPayload }));
  },
};
