/**
 * Fixtures: secrets a test server starts with (`serve --fixtures FILE`, `startSecretStore({ fixtures })`)
 * and gets back at each reset (README, "Testing your app"). An entry holds what
 * `stripe.apps.secrets.create` takes (name, payload, scope, expires_at) and, optionally, the connected
 * `account` it belongs to and the test `key` whose platform owns it; an entry without a key belongs
 * to the platform of `sk_test_123`, the example key of the README and of stripe-mock. Each entry
 * passes the checks of POST /v1/apps/secrets; the first that fails stops the start, named with its
 * reason.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/server-config.js';
import { ApiError } from '../errors/api-error.js';
import { createSecret } from '../http/endpoints/create-secret.js';
import { type FormObject, type FormValue, newFormObject } from '../http/form-params.js';
import { ACCOUNT_ID_PATTERN, type KeyAuthority, modeOfKey } from '../keys/api-keys.js';
import type { Owner } from '../secrets/secret.js';
import type { SecretsService, SetSecretInput } from '../secrets/secrets-service.js';

export type { SecretFixture } from './secret-fixture.js';

/** An entry checked and resolved to whose secret it is. */
export interface Fixture {
  readonly owner: Owner;
  readonly input: SetSecretInput;
  /** How errors name the entry: its file, its number and its name. */
  readonly label: string;
}

export const DEFAULT_FIXTURE_KEY = 'sk_test_123';

const FIELDS = ['name', 'payload', 'scope', 'expires_at', 'account', 'key'];

/** Reads a fixtures file: a JSON array of entries. */
export function readFixtureFile(path: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the fixtures file ${path}: ${(error as Error).message}`);
  }
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`the fixtures file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(entries)) throw new ConfigError(`the fixtures file ${path} must hold a JSON array of secrets`);
  return entries;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An entry's value as stripe-node would send it on the wire, so the API's own checks apply. */
function formValue(value: unknown): FormValue {
  if (Array.isArray(value)) return value.map(formValue);
  if (isObject(value)) {
    const object = newFormObject();
    for (const [key, item] of Object.entries(value)) object[key] = formValue(item);
    return object;
  }
  return value === null || value === undefined ? '' : String(value);
}

/** Checks `entries` and resolves whose secret each one is; throws a ConfigError at the first bad one. */
export async function resolveFixtures(
  entries: readonly unknown[],
  source: string,
  keys: KeyAuthority,
): Promise<Fixture[]> {
  const fixtures: Fixture[] = [];
  const seen = new Map<string, string>();
  for (const [index, entry] of entries.entries()) {
    const named = isObject(entry) && typeof entry.name === 'string' ? ` (${JSON.stringify(entry.name)})` : '';
    const label = `${source}: entry ${index + 1}${named}`;
    const fail = (reason: string) => new ConfigError(`${label}: ${reason}`);
    if (!isObject(entry)) throw fail('must be an object with name, payload and scope');
    const unknown = Object.keys(entry).find((field) => !FIELDS.includes(field));
    if (unknown !== undefined) throw fail(`unknown field ${JSON.stringify(unknown)} (fields: ${FIELDS.join(', ')})`);
    const key = entry.key ?? DEFAULT_FIXTURE_KEY;
    if (typeof key !== 'string' || modeOfKey(key) !== false) {
      throw fail('key must be a test key (sk_test_... or rk_test_... followed by letters, digits or _)');
    }
    if (entry.account !== undefined && (typeof entry.account !== 'string' || !ACCOUNT_ID_PATTERN.test(entry.account))) {
      throw fail('account must be a connected account id (acct_...)');
    }
    const form: FormObject = newFormObject();
    for (const field of ['name', 'payload', 'scope', 'expires_at']) {
      if (entry[field] !== undefined) form[field] = formValue(entry[field]);
    }
    let input: SetSecretInput;
    let platform: string;
    let user: string | null;
    try {
      input = createSecret.parse(form).input;
      ({ platform, user } = await keys.authenticate(key));
    } catch (error) {
      if (error instanceof ApiError) throw fail(error.message);
      throw error;
    }
    const owner: Owner = { platform, account: entry.account ?? platform, livemode: false, boundUser: user };
    const scopeUser = input.scope.type === 'user' ? input.scope.user : '';
    const identity = JSON.stringify([platform, owner.account, input.scope.type, scopeUser, input.name]);
    const twin = seen.get(identity);
    if (twin !== undefined) throw fail(`the same secret as ${twin} (same key, account, scope and name)`);
    seen.set(identity, `entry ${index + 1}`);
    fixtures.push({ owner, input, label });
  }
  return fixtures;
}

/**
 * Stores `fixtures` through the service, with its rules (expiry, the scope's cap). With
 * `skipExpired`, an entry whose expiry has passed on its platform's clock is left out, as it would
 * have expired by now; otherwise it is an error naming the entry. Answers how many were stored.
 */
export async function storeFixtures(
  secrets: SecretsService,
  fixtures: readonly Fixture[],
  options: { readonly skipExpired: boolean; readonly now: (owner: Owner) => number },
): Promise<number> {
  let stored = 0;
  for (const { owner, input, label } of fixtures) {
    if (options.skipExpired && input.expiresAt !== undefined && input.expiresAt <= options.now(owner)) continue;
    try {
      await secrets.set(owner, input, { withPayload: false });
    } catch (error) {
      if (error instanceof ApiError) throw new ConfigError(`${label}: ${error.message}`);
      throw error;
    }
    stored++;
  }
  return stored;
}
