/**
 * Parses `application/x-www-form-urlencoded` text (bodies and query strings) into nested params the
 * way Stripe's API reads them: `scope[type]=user` nests, `expand[]=a` appends, `expand[0]=a` indexes,
 * brackets may be percent-encoded, `+` is a space, the last of repeated scalars wins.
 *
 * It is strict where a lenient parser would lose data: an invalid percent-escape or a byte sequence
 * that is not UTF-8 is an error, never a secret stored under a garbled name. Objects have no
 * prototype, so `__proto__` and `constructor` are ordinary (unknown) parameter names.
 */
import { errors } from '../errors/api-error.js';

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export interface FormLimits {
  /** Most `key=value` pairs accepted in one request, query and body together. */
  readonly maxParams: number;
  /** Most bracket levels under a top-level name (`a[b][c]` is 2). */
  readonly maxDepth: number;
}

export type FormSource = 'query string' | 'request body';

export const newFormObject = (): FormObject => Object.create(null) as FormObject;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes raw bytes as UTF-8, rejecting invalid sequences instead of substituting U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, source: FormSource): string {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    throw errors.invalidEncoding(source);
  }
}

function decodeComponent(raw: string, source: FormSource): string {
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw;
  try {
    // decodeURIComponent rejects malformed escapes, invalid UTF-8, overlong forms and surrogates.
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw errors.invalidEncoding(source);
  }
}

const BRACKETED_KEY = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;
const SEGMENT = /\[([^[\]]*)\]/g;
const INDEX = /^\d{1,6}$/;

/** `scope[type]` -> ['scope', 'type']; a key that is not well-formed stays one literal name. */
function splitKey(key: string): string[] {
  const match = BRACKETED_KEY.exec(key);
  if (!match?.[1]) return [key];
  const path = [match[1]];
  for (const segment of (match[2] ?? '').matchAll(SEGMENT)) path.push(segment[1] ?? '');
  return path;
}

const isContainer = (v: FormValue | undefined): v is FormValue[] | FormObject => typeof v === 'object';

function childContainer(nextSegment: string): FormValue[] | FormObject {
  return nextSegment === '' || INDEX.test(nextSegment) ? [] : newFormObject();
}

function assign(root: FormObject, path: string[], value: string, key: string, limits: FormLimits) {
  if (path.length - 1 > limits.maxDepth) throw errors.nestingTooDeep(key, limits.maxDepth);
  let container: FormValue[] | FormObject = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as string;
    const last = i === path.length - 1;
    let slot: string | number = segment;
    if (Array.isArray(container)) {
      if (segment === '') slot = container.length;
      else if (INDEX.test(segment) && Number(segment) < limits.maxParams) slot = Number(segment);
      else throw errors.nestingConflict(key);
    }
    const existing: FormValue | undefined = (container as Record<string | number, FormValue | undefined>)[slot];
    if (last) {
      if (isContainer(existing)) throw errors.nestingConflict(key);
      (container as Record<string | number, FormValue>)[slot] = value;
      return;
    }
    if (existing === undefined) {
      const created = childContainer(path[i + 1] as string);
      (container as Record<string | number, FormValue>)[slot] = created;
      container = created;
    } else if (isContainer(existing)) {
      container = existing;
    } else {
      throw errors.nestingConflict(key);
    }
  }
}

/** Index-addressed arrays may have holes (`expand[3]` alone); keep the order, drop the holes. */
function compact(value: FormValue): FormValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const out: FormValue[] = [];
    for (const item of value) if (item !== undefined) out.push(compact(item));
    return out;
  }
  for (const k of Object.keys(value)) value[k] = compact(value[k] as FormValue);
  return value;
}

export interface FormParseState {
  readonly params: FormObject;
  count: number;
}

/** Adds the pairs of `text` to `state.params`; pairs parsed later win over earlier ones. */
export function parseFormInto(state: FormParseState, text: string, source: FormSource, limits: FormLimits): void {
  if (text === '') return;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    if (++state.count > limits.maxParams) throw errors.tooManyParameters(limits.maxParams);
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), source);
    if (key === '') continue;
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1), source);
    assign(state.params, splitKey(key), value, key, limits);
  }
}

export function finishForm(state: FormParseState): FormObject {
  return compact(state.params) as FormObject;
}

export function parseForm(text: string, source: FormSource, limits: FormLimits): FormObject {
  const state: FormParseState = { params: newFormObject(), count: 0 };
  parseFormInto(state, text, source, limits);
  return finishForm(state);
}
