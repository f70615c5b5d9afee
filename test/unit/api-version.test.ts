/**
 * The list of Stripe API versions and the rule for `Stripe-Version` (README, "API versions"): the
 * list matches the one the installed stripe package ships, the default is stripe-node's, and a
 * version is accepted only if Stripe published it or it is a named release newer than the list and
 * not dated after today.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEFAULT_API_VERSION, isAcceptedApiVersion } from '../../src/http/api-version.js';
import { STRIPE_API_VERSIONS } from '../../src/http/stripe-api-versions.js';
import { ROOT } from '../support/server-process.js';

const NOW = Date.UTC(2026, 11, 1, 12); // 2026-12-01, noon UTC

/** Every API version the stripe package knows (the enum a webhook endpoint's api_version takes). */
function packageVersions(): string[] {
  const types = readFileSync(join(ROOT, 'node_modules/stripe/cjs/resources/WebhookEndpoints.d.ts'), 'utf8');
  const line = types.split('\n').find((l) => l.includes('type ApiVersion ='));
  if (!line) throw new Error('the stripe package no longer lists API versions where this test looks');
  return [...line.matchAll(/'([^']+)'/g)].map((m) => m[1] as string);
}

describe('the list of Stripe API versions', () => {
  it('is the list the stripe package ships, in order (add new versions at the end)', () => {
    expect(STRIPE_API_VERSIONS).toEqual(packageVersions());
  });

  it("ends with stripe-node's default version, which answers a request that names none", () => {
    expect(DEFAULT_API_VERSION).toBe(Stripe.API_VERSION);
    expect(STRIPE_API_VERSIONS.at(-1)).toBe(DEFAULT_API_VERSION);
  });

  it('is sorted by date, without duplicates', () => {
    const dates = STRIPE_API_VERSIONS.map((v) => v.slice(0, 10));
    expect(dates).toEqual([...dates].sort());
    expect(new Set(STRIPE_API_VERSIONS).size).toBe(STRIPE_API_VERSIONS.length);
  });
});

describe('isAcceptedApiVersion', () => {
  it.each(['2011-01-01', '2020-08-27', '2024-06-20', '2024-09-30.acacia', '2025-03-01.dashboard', '2026-10-28.endive'])(
    'accepts the published %s',
    (version) => expect(isAcceptedApiVersion(version, NOW)).toBe(true),
  );

  it.each([
    ['2099-01-01', 'a date that is no release'],
    ['2099-13-45', 'no date at all'],
    ['2025-07-30', 'a named release without its name (stripe/stripe-node#2387)'],
    ['2022-08-02', 'a day after a release (pay-rails/pay#680)'],
    ['2024-06-20.basil', 'a release with another name'],
    ['2026-11-31.endive', 'a later release on a day that does not exist'],
    ['2026-12-02.endive', 'a later release dated after today'],
    ['2026-11-30', 'a later date without a release name'],
    ['latest', 'not a version'],
    ['', 'empty'],
    [' 2024-06-20', 'spaces'],
  ])('refuses %s (%s)', (version) => {
    expect(isAcceptedApiVersion(version, NOW)).toBe(false);
  });

  it('accepts a named release newer than the list, up to today', () => {
    expect(isAcceptedApiVersion('2026-11-25.endive', NOW)).toBe(true);
    expect(isAcceptedApiVersion('2026-12-01.fig', NOW)).toBe(true);
    expect(isAcceptedApiVersion('2026-12-02.fig', NOW)).toBe(false);
    expect(isAcceptedApiVersion('2026-12-02.fig', NOW + 86_400_000)).toBe(true);
  });

  it('accepts beta flags after a version it accepts, and nothing else after it', () => {
    expect(isAcceptedApiVersion('2020-08-27;search_api_beta=v1', NOW)).toBe(true);
    expect(isAcceptedApiVersion('2024-06-20; a_beta=v2; b_beta=v1', NOW)).toBe(true);
    expect(isAcceptedApiVersion('2024-06-20;drop', NOW)).toBe(false);
    expect(isAcceptedApiVersion('2024-06-21;search_api_beta=v1', NOW)).toBe(false);
  });
});
