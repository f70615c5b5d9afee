/** stripe-stateful-mock ships no type declarations; the tests use its Express app only. */
declare module 'stripe-stateful-mock' {
  import type { RequestListener } from 'node:http';

  /** The whole mock as an Express app, which is a plain request listener. */
  export function createExpressApp(): RequestListener;
}
