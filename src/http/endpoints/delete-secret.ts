/**
 * POST /v1/apps/secrets/delete: deletes by name and scope and answers with the secret plus
 * `deleted: true`. `expand[]=payload` is accepted (the spec allows `expand` here) but a deleted
 * secret has no payload to show (README, decision G3).
 */
import type { Scope } from '../../secrets/secret.js';
import type { Endpoint } from '../endpoint.js';
import { expandList, rejectUnknown, requiredScope, requiredString } from '../params.js';
import { serializeDeletedSecret } from '../serialize-secret.js';

interface DeleteSecret {
  readonly name: string;
  readonly scope: Scope;
}

export const deleteSecret: Endpoint<DeleteSecret> = {
  method: 'POST',
  path: '/v1/apps/secrets/delete',
  operation: 'apps.secret.delete',
  kind: 'write',
  target: ({ name, scope }) => ({ scope, name }),
  // A deleted secret has no payload to show (README, decision G3).
  revealsPayload: () => false,
  parse(params) {
    rejectUnknown(params, ['name', 'scope', 'expand']);
    const name = requiredString(params, 'name');
    const scope = requiredScope(params);
    expandList(params, ['payload', 'scope']);
    return { name, scope };
  },
  async run(secrets, owner, { name, scope }) {
    return serializeDeletedSecret(await secrets.delete(owner, name, scope));
  },
};
