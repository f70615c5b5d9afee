import { randomBase62 } from '../secrets/secret-id.js';

/** `req_` + 14 random alphanumerics, on every response. */
export const newRequestId = (): string => `req_${randomBase62(14)}`;
