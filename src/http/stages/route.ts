/** Finds the endpoint for the method and path; anything else is Stripe's 404 for an unknown URL. */
import { errors } from '../../errors/api-error.js';
import type { AnyEndpoint } from '../endpoint.js';
import type { Stage } from '../request-context.js';

export function route(endpoints: readonly AnyEndpoint[]): Stage {
  const routes = new Map<string, AnyEndpoint>(endpoints.map((e) => [`${e.method} ${e.path}`, e]));
  return (context) => {
    const method = context.record.method;
    const endpoint = routes.get(`${method} ${context.path}`);
    if (!endpoint) throw errors.unrecognizedUrl(method, context.path.slice(0, 200));
    context.endpoint = endpoint;
    context.record.operation = endpoint.operation;
  };
}
