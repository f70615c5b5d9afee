/**
 * The domain's scope rule, before anything is read or written for the request: a key bound to a
 * user reaches account scope and its own user's scope only. Idempotency comes after this stage, so
 * no saved response is ever replayed to a caller who may not make the request now.
 */
import { authorize as authorizeScope } from '../../secrets/secrets-service.js';
import type { Stage } from '../request-context.js';

export const authorize: Stage = (context) => {
  authorizeScope(context.owner, context.target.scope);
};
