/**
 * Reads an endpoint's parameters out of the parsed form, with Stripe's validation errors: unknown
 * parameters first (in the order sent), then missing ones, then malformed values.
 */
import { errors } from '../errors/api-error.js';
import { SCOPE_TYPES, type Scope } from '../secrets/secret.js';
import type { FormObject, FormValue } from './form-params.js';

/** Stripe's generic cap on string parameters. */
export const MAX_STRING_LENGTH = 5000;

const codePointLength = (s: string): number => {
  if (s.length <= MAX_STRING_LENGTH) return s.length; // UTF-16 units >= code points
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const isObject = (v: FormValue | undefined): v is FormObject => typeof v === 'object' && !Array.isArray(v);

export function rejectUnknown(params: FormObject, allowed: readonly string[], prefix = ''): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) throw errors.unknownParameter(prefix ? `${prefix}[${key}]` : key);
  }
}

/** The parse of an endpoint that takes no parameters: any is unknown. */
export function noParameters(params: FormObject): void {
  rejectUnknown(params, []);
}

/**
 * Every string parameter, whatever it is for: PostgreSQL text cannot hold U+0000 while SQLite can,
 * so refusing it here, before anything is stored or looked up, gives one answer on both engines.
 * `secret`: the value is a payload, which an error never repeats.
 */
function asString(value: FormValue, param: string, secret = false): string {
  if (typeof value !== 'string') throw errors.notAString(param);
  if (value.includes('\0')) throw errors.nulCharacter(param);
  if (codePointLength(value) > MAX_STRING_LENGTH) throw errors.stringTooLong(param, value, MAX_STRING_LENGTH, secret);
  return value;
}

export function requiredString(params: FormObject, key: string, param = key, secret = false): string {
  const value = params[key];
  if (value === undefined) throw errors.missingParameter(param);
  const text = asString(value, param, secret);
  if (text === '') throw errors.emptyParameter(param);
  return text;
}

/** An absent or empty value means "not given", as Stripe treats empty strings as unset. */
export function optionalString(params: FormObject, key: string): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  const text = asString(value, key);
  return text === '' ? undefined : text;
}

export function optionalInteger(params: FormObject, key: string): number | undefined {
  const text = optionalString(params, key);
  if (text === undefined) return undefined;
  if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw errors.invalidInteger(key, text);
  }
  return Number(text);
}

export function requiredScope(params: FormObject): Scope {
  const value = params.scope;
  if (value === undefined) throw errors.missingParameter('scope');
  if (!isObject(value)) throw errors.notAnObject('scope');
  rejectUnknown(value, ['type', 'user'], 'scope');
  const type = requiredString(value, 'type', 'scope[type]');
  if (!(SCOPE_TYPES as readonly string[]).includes(type)) {
    throw errors.invalidEnum('scope[type]', SCOPE_TYPES);
  }
  const userValue = value.user;
  if (type === 'account') {
    if (userValue !== undefined && userValue !== '') throw errors.accountScopeTakesNoUser();
    return { type: 'account' };
  }
  if (userValue === undefined) throw errors.userScopeNeedsUser();
  return { type: 'user', user: requiredString(value, 'user', 'scope[user]') };
}

/**
 * Reads `expand[]`; returns the requested fields, each of which must be in `allowed`. On a list
 * (`itemsPrefix` 'data.'), Stripe's error points a field that lacks the prefix at the prefixed one
 * (stripe/stripe-python#316).
 */
export function expandList(params: FormObject, allowed: readonly string[], itemsPrefix?: string): Set<string> {
  const value = params.expand;
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) throw errors.notAnArray('expand');
  const fields = new Set<string>();
  value.forEach((item, i) => {
    const field = asString(item, `expand[${i}]`);
    if (field === '') return;
    if (!allowed.includes(field)) {
      const hint = itemsPrefix !== undefined && !field.startsWith(itemsPrefix) ? `${itemsPrefix}${field}` : undefined;
      throw errors.unexpandableField(field, hint);
    }
    fields.add(field);
  });
  return fields;
}
