import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { decodeUtf8, type FormLimits, type FormSource, parseForm } from '../../src/http/form-params.js';

const LIMITS: FormLimits = { maxParams: 256, maxDepth: 4 };

const parse = (text: string, source: FormSource = 'request body', limits: FormLimits = LIMITS) =>
  parseForm(text, source, limits);

/** Plain data, so that `toEqual` compares prototype-less parse results with object literals. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Runs `fn`, expects it to throw an ApiError, and returns it. */
function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected an ApiError, but nothing was thrown');
}

/** `reason`: the error's name in logs; none of these errors has a Stripe code (Stripe sends none). */
function expectBadRequest(fn: () => unknown, reason?: string, param?: string): ApiError {
  const error = apiErrorOf(fn);
  expect(error.status).toBe(400);
  expect(error.type).toBe('invalid_request_error');
  expect(error.code).toBeUndefined();
  if (reason !== undefined) expect(error.reason).toBe(reason);
  if (param !== undefined) expect(error.param).toBe(param);
  return error;
}

describe('parseForm: structure', () => {
  it('nests bracketed keys into objects', () => {
    expect(plain(parse('name=k&scope[type]=user&scope[user]=usr_1'))).toEqual({
      name: 'k',
      scope: { type: 'user', user: 'usr_1' },
    });
  });

  it('appends `k[]` values to an array in the order sent', () => {
    expect(plain(parse('expand[]=payload&expand[]=scope'))).toEqual({ expand: ['payload', 'scope'] });
  });

  it('places `k[0]`, `k[1]` values by index', () => {
    expect(plain(parse('expand[0]=payload&expand[1]=scope'))).toEqual({ expand: ['payload', 'scope'] });
  });

  it('keeps index order for out-of-order indices', () => {
    expect(plain(parse('expand[1]=scope&expand[0]=payload'))).toEqual({ expand: ['payload', 'scope'] });
  });

  it('drops the holes of sparse indices but keeps their order', () => {
    const parsed = parse('expand[5]=b&expand[2]=a');
    expect(plain(parsed)).toEqual({ expand: ['a', 'b'] });
    expect(parsed.expand).toHaveLength(2);
  });

  it('allows nesting up to the depth limit', () => {
    expect(plain(parse('a[b][c][d][e]=1'))).toEqual({ a: { b: { c: { d: { e: '1' } } } } });
  });

  it('skips empty pairs and empty keys; a key without `=` has an empty value', () => {
    expect(plain(parse('&&a=1&&=x&k'))).toEqual({ a: '1', k: '' });
  });

  it('returns an empty object for empty text', () => {
    expect(plain(parse(''))).toEqual({});
  });
});

describe('parseForm: decoding', () => {
  it('reads percent-encoded brackets like literal ones', () => {
    expect(plain(parse('scope%5Btype%5D=account&expand%5B%5D=payload'))).toEqual({
      scope: { type: 'account' },
      expand: ['payload'],
    });
  });

  it('reads lowercase percent-encoded brackets too', () => {
    expect(plain(parse('scope%5btype%5d=account'))).toEqual({ scope: { type: 'account' } });
  });

  it("reads '+' as a space, in values and in keys", () => {
    expect(plain(parse('name=my+key&a+b=c'))).toEqual({ name: 'my key', 'a b': 'c' });
  });

  it('reads %20 as a space and %2B as a literal plus', () => {
    expect(plain(parse('name=my%20key&payload=a%2Bb'))).toEqual({ name: 'my key', payload: 'a+b' });
  });

  it('decodes multi-byte UTF-8 escapes', () => {
    expect(plain(parse('payload=%C3%A9%F0%9F%94%91'))).toEqual({ payload: 'é🔑' });
  });

  it('keeps the last of repeated scalars', () => {
    expect(plain(parse('name=a&name=b&name=c'))).toEqual({ name: 'c' });
    expect(plain(parse('scope[type]=user&scope[type]=account'))).toEqual({ scope: { type: 'account' } });
  });

  it('keeps `=` inside a value', () => {
    expect(plain(parse('payload=a=b=c'))).toEqual({ payload: 'a=b=c' });
  });
});

describe('parseForm: prototype keys are plain names', () => {
  it('stores `__proto__`, `constructor` and `prototype` as own keys', () => {
    const parsed = parse('__proto__=x&constructor=y&prototype=z');
    expect(Object.keys(parsed)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe('x');
    expect(parsed.constructor).toBe('y');
    expect(parsed.prototype).toBe('z');
  });

  it('does not pollute Object.prototype through nested prototype keys', () => {
    const parsed = parse(
      '__proto__[polluted]=1&constructor[prototype][polluted]=2&a[__proto__][polluted]=3&prototype[polluted]=4',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'constructor', 'a', 'prototype']);
    const proto = Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value as Record<string, unknown>;
    expect(proto.polluted).toBe('1');
  });

  it('returns objects without a prototype', () => {
    const parsed = parse('scope[type]=account');
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(Object.getPrototypeOf(parsed.scope)).toBeNull();
  });
});

describe('parseForm: malformed keys stay literal names', () => {
  it.each([
    ['a[b=1', 'a[b'],
    ['a]b=1', 'a]b'],
    ['a[b]c=1', 'a[b]c'],
    ['[a]=1', '[a]'],
    ['a[b]]=1', 'a[b]]'],
  ])('%s', (text, key) => {
    const parsed = parse(text);
    expect(Object.keys(parsed)).toEqual([key]);
    expect(parsed[key]).toBe('1');
  });
});

describe('parseForm: invalid encodings are 400s', () => {
  it.each([
    ['%zz', 'name=%zz'],
    ['a truncated multi-byte escape', 'name=%E0%A4%A'],
    ['a trailing %', 'name=abc%'],
    ['a lone % in a key', 'na%me=x'],
    ['invalid UTF-8 (%C3%28)', 'name=%C3%28'],
    ['an encoded UTF-16 surrogate (%ED%A0%80)', 'name=%ED%A0%80'],
    ['an overlong encoding (%C0%AF)', 'name=%C0%AF'],
    ['a lone continuation byte (%80)', 'name=%80'],
    ['an escaped 0xFF', 'name=%FF'],
  ])('%s', (_label, text) => {
    const error = expectBadRequest(() => parse(text), 'encoding_invalid');
    expect(error.message).toContain('request body');
  });

  it('names the query string when the query is at fault', () => {
    const error = expectBadRequest(() => parse('name=%zz', 'query string'), 'encoding_invalid');
    expect(error.message).toContain('query string');
  });
});

describe('decodeUtf8', () => {
  it('decodes valid UTF-8', () => {
    expect(decodeUtf8(Buffer.from('name=é&payload=🔑', 'utf8'), 'request body')).toBe('name=é&payload=🔑');
  });

  it.each([
    ['a raw 0xFF byte', [0x61, 0xff]],
    ['a truncated sequence', [0x61, 0xc3]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('rejects %s with a 400', (_label, bytes) => {
    const error = expectBadRequest(() => decodeUtf8(Uint8Array.from(bytes), 'request body'), 'encoding_invalid');
    expect(error.message).toContain('request body');
  });
});

describe('parseForm: limits and conflicts', () => {
  it('accepts exactly maxParams pairs and rejects one more', () => {
    const pairs = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
    expect(Object.keys(parse(pairs(256)))).toHaveLength(256);
    expectBadRequest(() => parse(pairs(257)), 'parameters_too_many');
  });

  it('counts repeated names towards the limit', () => {
    expectBadRequest(() => parse(Array.from({ length: 300 }, () => 'a=1').join('&')), 'parameters_too_many');
  });

  it('rejects nesting deeper than maxDepth, naming the parameter', () => {
    expectBadRequest(() => parse('a[b][c][d][e][f]=1'), 'parameter_nesting_invalid', 'a[b][c][d][e][f]');
    expectBadRequest(() => parse('a[b][c]=1', 'request body', { maxParams: 256, maxDepth: 1 }), undefined, 'a[b][c]');
  });

  it('rejects a scalar then a nested use of the same name', () => {
    expectBadRequest(() => parse('scope=x&scope[type]=y'), 'parameter_nesting_invalid', 'scope[type]');
  });

  it('rejects a nested then a scalar use of the same name', () => {
    expectBadRequest(() => parse('scope[type]=y&scope=x'), 'parameter_nesting_invalid', 'scope');
  });

  it('rejects mixing array and object segments under one name', () => {
    expectBadRequest(() => parse('expand[]=a&expand[x]=b'), 'parameter_nesting_invalid', 'expand[x]');
  });

  it('cuts a huge parameter name short in the error it names', () => {
    const huge = `a[${'b'.repeat(60_000)}]`;
    const error = expectBadRequest(() => parse(`a=1&${huge}=1`), 'parameter_nesting_invalid');
    expect(error.param?.startsWith('a[bbb')).toBe(true);
    expect(error.param?.length).toBeLessThanOrEqual(203);
    expect(error.message.length).toBeLessThan(400);
  });

  it('rejects an array index at or above maxParams', () => {
    expectBadRequest(() => parse('expand[999999]=a'), 'parameter_nesting_invalid', 'expand[999999]');
  });
});
