/** Finds the endpoint for the method and path; anything else is Stripe's 404 for an unknown URL. */
import { errors } from '../../errors/api-error.js';
import type { AnyEndpoint } from '../endpoint.js';
import type { Stage } from '../request-context.js';

interface Routed {
  readonly method: string;
  readonly path: string;
}

/** A lookup of `endpoints` by method and path that throws the 404 for any other request. */
export function routeTable<E extends Routed>(endpoints: readonly E[]): (method: string, path: string) => E {
  const routes = new Map<string, E>(endpoints.map((e) => [`${e.method} ${e.path}`, e]));
  return (method, path) => {
    const endpoint = routes.get(`${method} ${path}`);
    if (!endpoint) throw errors.unrecognizedUrl(method, path.slice(0, 200));
    return endpoint;
  };
}

export function route(endpoints: readonly AnyEndpoint[]): Stage {
  const find = routeTable(endpoints);
  return (context) => {
    const endpoint = find(context.record.method, context.path);
    context.endpoint = endpoint;
    context.record.operation = endpoint.operation;
  };
}
