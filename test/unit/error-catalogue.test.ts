/**
 * The error catalogue sends only Stripe's error codes: every code is in the list of Stripe's codes
 * that the official `stripe` package ships (its `LastPaymentError.Code` union), and every error with
 * a code carries Stripe's doc_url for it. Each entry of the catalogue is built here, so a new entry
 * cannot skip the check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ApiError, errors, STRIPE_ERROR_CODES } from '../../src/errors/api-error.js';
import { errorBody } from '../../src/http/render.js';
import { ROOT } from '../support/server-process.js';

/** Stripe's error codes, from the stripe package's types (the union that lists them all). */
function stripeErrorCodes(): Set<string> {
  const types = readFileSync(join(ROOT, 'node_modules/stripe/cjs/resources/PaymentIntents.d.ts'), 'utf8');
  const union = types.split('\n').find((line) => line.includes('type Code =') && line.includes("'resource_missing'"));
  if (!union) throw new Error('the stripe package no longer lists its error codes where this test looks');
  return new Set([...union.matchAll(/'([a-z0-9_]+)'/g)].map((m) => m[1] as string));
}

/** One instance of every entry of the catalogue; the type makes a new entry a compile error here. */
const EVERY_ERROR: { readonly [K in keyof typeof errors]: () => ApiError } = {
  unrecognizedUrl: () => errors.unrecognizedUrl('GET', '/v1/nope/'),
  missingApiKey: () => errors.missingApiKey(),
  invalidApiKey: () => errors.invalidApiKey('sk_test_****1234'),
  revokedApiKey: () => errors.revokedApiKey('sk_test_****1234'),
  malformedAuthorization: () => errors.malformedAuthorization('Token ****'),
  inaccessibleAccount: () => errors.inaccessibleAccount('sk_test_****1234', 'bogus'),
  invalidApiVersion: () => errors.invalidApiVersion('2099-01-01'),
  hostNotAllowed: () => errors.hostNotAllowed('evil.example'),
  permissionDenied: () => errors.permissionDenied('no', 'scope[user]'),
  bodyTooLarge: () => errors.bodyTooLarge(1024),
  unsupportedContentType: () => errors.unsupportedContentType('text/plain'),
  invalidEncoding: () => errors.invalidEncoding('request body'),
  tooManyParameters: () => errors.tooManyParameters(256),
  nestingTooDeep: () => errors.nestingTooDeep('a[b][c]', 1),
  nestingConflict: () => errors.nestingConflict('a[b]'),
  unknownParameter: () => errors.unknownParameter('foo'),
  missingParameter: () => errors.missingParameter('name'),
  emptyParameter: () => errors.emptyParameter('name'),
  notAString: () => errors.notAString('name'),
  notAnObject: () => errors.notAnObject('scope'),
  notAnArray: () => errors.notAnArray('expand'),
  nulCharacter: () => errors.nulCharacter('name'),
  stringTooLong: () => errors.stringTooLong('name', 'n'.repeat(5001), 5000, false),
  invalidInteger: () => errors.invalidInteger('limit', 'abc'),
  invalidEnum: () => errors.invalidEnum('scope[type]', ['account', 'user']),
  integerTooSmall: () => errors.integerTooSmall('limit', 1),
  integerTooLarge: () => errors.integerTooLarge('limit', 100),
  bothCursors: () => errors.bothCursors(),
  unexpandableField: () => errors.unexpandableField('payload', 'data.payload'),
  noSuchSecret: () => errors.noSuchSecret('n'),
  noSuchCursor: () => errors.noSuchCursor('starting_after', 'appsecret_1'),
  scopeFull: () => errors.scopeFull(10),
  userScopeNeedsUser: () => errors.userScopeNeedsUser(),
  accountScopeTakesNoUser: () => errors.accountScopeTakesNoUser(),
  expiresAtInPast: () => errors.expiresAtInPast(),
  expiresAtTooFar: () => errors.expiresAtTooFar(),
  idempotencyKeyInvalid: () => errors.idempotencyKeyInvalid(255),
  idempotencyMismatch: () => errors.idempotencyMismatch('k'),
  idempotencyOtherEndpoint: () => errors.idempotencyOtherEndpoint('k', '/v1/apps/secrets', '/v1/apps/secrets/delete'),
  idempotencyInFlight: () => errors.idempotencyInFlight(),
  rateLimited: () => errors.rateLimited(25, false),
  malformedRequest: () => errors.malformedRequest(),
  headersTooLarge: () => errors.headersTooLarge(),
  requestTimeout: () => errors.requestTimeout(),
  testToolsNeedTestKey: () => errors.testToolsNeedTestKey(),
  testToolsNeedUnboundKey: () => errors.testToolsNeedUnboundKey('usr_1'),
  clockBackwards: () => errors.clockBackwards(100),
  upstreamUnreachable: () => errors.upstreamUnreachable('http://127.0.0.1:1', 'ECONNREFUSED'),
  internal: () => errors.internal(),
  storageUnavailable: () => errors.storageUnavailable(),
  corruptSecret: () => errors.corruptSecret('n'),
};

const every = Object.entries(EVERY_ERROR).map(([name, make]) => [name, make()] as const);

describe('the error catalogue', () => {
  const stripeCodes = stripeErrorCodes();

  it('reads a long list of Stripe codes from the stripe package', () => {
    expect(stripeCodes.size).toBeGreaterThan(100);
    expect(stripeCodes.has('parameter_missing')).toBe(true);
  });

  it("declares only codes that are in Stripe's list", () => {
    for (const code of STRIPE_ERROR_CODES) expect(stripeCodes.has(code), code).toBe(true);
  });

  it.each(every)('%s sends a Stripe code or none', (_, error) => {
    if (error.code !== undefined) expect(stripeCodes.has(error.code)).toBe(true);
  });

  it.each(every)("%s renders in Stripe's bytes: sorted keys, a doc_url exactly beside a code", (_, error) => {
    const text = errorBody(error);
    const body = JSON.parse(text) as { error: Record<string, string> };
    expect(text).toBe(`${JSON.stringify(body, null, 2)}\n`);
    expect(Object.keys(body.error)).toEqual(Object.keys(body.error).sort());
    expect(body.error.doc_url).toBe(
      error.code === undefined ? undefined : `https://stripe.com/docs/error-codes/${error.code.replace(/_/g, '-')}`,
    );
    expect(body.error.type).toBe(error.type);
    expect(body.error.message?.length).toBeLessThanOrEqual(40_000);
    expect(error.reason).toMatch(/^[a-z_]+$/);
  });

  it('sends no code for the answers Stripe sends without one', () => {
    const uncoded = [
      errors.missingApiKey(),
      errors.invalidApiKey('sk_test_****1234'),
      errors.unrecognizedUrl('GET', '/v1/customers'),
      errors.invalidApiVersion('2099-01-01'),
      errors.unexpandableField('bogus'),
      errors.bothCursors(),
      errors.unsupportedContentType(''),
      errors.idempotencyMismatch('k'),
      errors.internal(),
    ];
    for (const error of uncoded) expect(error.code, error.message).toBeUndefined();
  });
});
