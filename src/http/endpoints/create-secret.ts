/** POST /v1/apps/secrets: create or replace a secret by name and scope. */
import type { SetSecretInput } from '../../secrets/secrets-service.js';
import type { Endpoint } from '../endpoint.js';
import { expandList, optionalInteger, rejectUnknown, requiredScope, requiredString } from '../params.js';
import { serializeSecret } from '../serialize-secret.js';

interface CreateSecret {
  readonly input: SetSecretInput;
  readonly withPayload: boolean;
}

export const createSecret: Endpoint<CreateSecret> = {
  method: 'POST',
  path: '/v1/apps/secrets',
  operation: 'apps.secret.create',
  kind: 'write',
  target: ({ input }) => ({ scope: input.scope, name: input.name }),
  revealsPayload: ({ withPayload }) => withPayload,
  parse(params) {
    rejectUnknown(params, ['name', 'payload', 'scope', 'expires_at', 'expand']);
    const name = requiredString(params, 'name');
    const payload = requiredString(params, 'payload', 'payload', true);
    const scope = requiredScope(params);
    const expiresAt = optionalInteger(params, 'expires_at');
    const expand = expandList(params, ['payload', 'scope']);
    return {
      input: expiresAt === undefined ? { name, payload, scope } : { name, payload, scope, expiresAt },
      withPayload: expand.has('payload'),
    };
  },
  async run(secrets, owner, { input, withPayload }) {
    return serializeSecret(await secrets.set(owner, input, { withPayload }));
  },
};
