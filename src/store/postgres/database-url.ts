/**
 * The one way a database URL is shown (the startup line, the CLI): with every credential replaced.
 * A password travels in the user-info (`postgres://app:pw@db/x`) or in a query parameter
 * (`?password=`, `?sslpassword=`, libpq's names); so does anything else a deployment may put there
 * under a credential-looking name (`passfile`, `sslkey`, a `token`, an `api_key`). Names are
 * matched without regard to case, after percent-decoding, so no spelling slips through; the
 * values of other parameters (host, sslmode, application_name) stay, for the operator's sake.
 */
const CREDENTIAL_NAME = /pass|pwd|secret|token|key|auth|cred/i;

export const REDACTED = '***';

export function redactDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'postgres://(unparseable url, not shown)';
  }
  if (parsed.password) parsed.password = REDACTED;
  for (const name of new Set(parsed.searchParams.keys())) {
    if (CREDENTIAL_NAME.test(name)) parsed.searchParams.set(name, REDACTED);
  }
  parsed.hash = '';
  return parsed.toString();
}
