/**
 * Who is asking, from the headers alone: nothing of the body is read before the key is known to be
 * good, so a client without a valid key costs the server no memory for its body (an answer to a
 * request whose body was not read closes the connection; see build-app.ts). Then the account it acts
 * on: a `Stripe-Context` or `Stripe-Account` that names none is Stripe's 403, which names the key
 * (stripe-ruby-mock/stripe-ruby-mock#422 quotes it). Rate limits apply here too, per platform
 * account and mode.
 */
import { errors } from '../../errors/api-error.js';
import { type KeyAuthority, maskApiKey } from '../../keys/api-keys.js';
import { apiKeyFromHeader } from '../api-key-header.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { Stage } from '../request-context.js';
import { singleHeader } from './stripe-headers.js';

export function authenticate(keys: KeyAuthority, rateLimiter: RateLimiter | undefined): Stage {
  return async (context) => {
    const key = apiKeyFromHeader(singleHeader(context.req, 'authorization'));
    const principal = await keys.authenticate(key);
    const { accountPath, account } = context.stripe;
    if (accountPath !== undefined && account === undefined) {
      throw errors.inaccessibleAccount(maskApiKey(key), accountPath.slice(0, 100));
    }
    context.principal = principal;
    const { record } = context;
    record.keyId = principal.keyId;
    record.livemode = principal.livemode;
    record.platform = principal.platform;
    record.account = context.stripe.account ?? principal.platform;
    const limited = rateLimiter?.take(principal.platform, principal.livemode);
    if (limited) throw limited;
  };
}
