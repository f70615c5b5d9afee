import { describe, expect, it } from 'vitest';
import { assertMatchesSchema } from '../support/openapi.js';

// The schema checks elsewhere are only as good as the validator: prove it accepts Stripe's own
// fixture and rejects what Stripe's schema forbids.
describe('the OpenAPI validator', () => {
  const fixture = {
    id: 'appsecret_5110QzMIZ0005GiEH1m0419O8KAxCG',
    object: 'apps.secret',
    created: 1234567890,
    expires_at: 1234567890,
    livemode: false,
    name: 'test-secret',
    scope: { type: 'account' },
  };

  it("accepts Stripe's published fixture and a list of it", () => {
    assertMatchesSchema('secret', fixture);
    assertMatchesSchema('list', { object: 'list', url: '/v1/apps/secrets', has_more: false, data: [fixture] });
  });

  it('rejects a wrong object name, a missing field and a wrong list url', () => {
    expect(() => assertMatchesSchema('secret', { ...fixture, object: 'secret' })).toThrow();
    const { livemode: _, ...withoutLivemode } = fixture;
    expect(() => assertMatchesSchema('secret', withoutLivemode)).toThrow();
    expect(() =>
      assertMatchesSchema('list', { object: 'list', url: '/v1/other', has_more: false, data: [] }),
    ).toThrow();
  });

  it('accepts a Stripe error body and rejects an unknown error type', () => {
    assertMatchesSchema('error', { error: { type: 'invalid_request_error', message: 'x' } });
    expect(() => assertMatchesSchema('error', { error: { type: 'nope' } })).toThrow();
  });
});
