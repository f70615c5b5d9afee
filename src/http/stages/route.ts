/** Finds the endpoint for the method and path; anything else is Stripe's 404 for an unknown URL. */
import { errors } from '../../errors/api-error.js';
import type { AnyEndpoint } from '../endpoint.js';
import type { RequestContext, Stage } from '../request-context.js';

interface Routed {
  readonly method: string;
  readonly path: string;
  /** Stable operation name for logs, metrics and the audit trail. */
  readonly operation: string;
}

/** A stage that finds the request's endpoint among `endpoints` and hands it to `found`. */
export function routeTo<E extends Routed>(
  endpoints: readonly E[],
  found: (context: RequestContext, endpoint: E) => void,
): Stage {
  const routes = new Map<string, E>(endpoints.map((e) => [`${e.method} ${e.path}`, e]));
  return (context) => {
    const method = context.record.method;
    const endpoint = routes.get(`${method} ${context.path}`);
    if (!endpoint) throw errors.unrecognizedUrl(method, context.path.slice(0, 200));
    context.record.operation = endpoint.operation;
    found(context, endpoint);
  };
}

export const route = (endpoints: readonly AnyEndpoint[]): Stage =>
  routeTo(endpoints, (context, endpoint) => {
    context.endpoint = endpoint;
  });
