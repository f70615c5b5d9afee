/** Takes the API key out of the Authorization header (README, "API keys and the two authentication modes"): Bearer, or Basic with the key as user. */
import { errors } from '../errors/api-error.js';
import { API_KEY_PATTERN, maskApiKey } from '../keys/api-keys.js';

export function apiKeyFromHeader(header: string | undefined): string {
  const value = header?.trim() ?? '';
  if (value === '') throw errors.missingApiKey();
  const space = value.indexOf(' ');
  const scheme = (space === -1 ? value : value.slice(0, space)).toLowerCase();
  const credentials = space === -1 ? '' : value.slice(space + 1).trim();
  if (scheme === 'bearer') {
    if (credentials === '') throw errors.missingApiKey();
    return credentials;
  }
  if (scheme === 'basic') {
    if (credentials === '') throw errors.missingApiKey();
    // The spec allows both `Basic <api_key>` and `Basic base64(<api_key>:)`.
    if (API_KEY_PATTERN.test(credentials)) return credentials;
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const user = decoded.split(':', 1)[0] ?? '';
    if (user === '') throw errors.missingApiKey();
    return user;
  }
  throw errors.malformedAuthorization(maskApiKey(value));
}
