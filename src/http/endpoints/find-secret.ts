/** GET /v1/apps/secrets/find: one secret by name and scope; the payload only when expanded. */
import type { Scope } from '../../secrets/secret.js';
import type { Endpoint } from '../endpoint.js';
import { expandList, rejectUnknown, requiredScope, requiredString } from '../params.js';
import { serializeSecret } from '../serialize-secret.js';

interface FindSecret {
  readonly name: string;
  readonly scope: Scope;
  readonly withPayload: boolean;
}

export const findSecret: Endpoint<FindSecret> = {
  method: 'GET',
  path: '/v1/apps/secrets/find',
  operation: 'apps.secret.find',
  kind: 'read',
  target: ({ name, scope }) => ({ scope, name }),
  // Only payload reads are recorded: a find without the payload reveals nothing secret.
  revealsPayload: ({ withPayload }) => withPayload,
  parse(params) {
    rejectUnknown(params, ['name', 'scope', 'expand']);
    const name = requiredString(params, 'name');
    const scope = requiredScope(params);
    const expand = expandList(params, ['payload', 'scope']);
    return { name, scope, withPayload: expand.has('payload') };
  },
  async run(secrets, owner, { name, scope, withPayload }) {
    return serializeSecret(await secrets.find(owner, name, scope, { withPayload }));
  },
};
