import { describe, expect, it } from 'vitest';
import { serverForFile } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';

const server = serverForFile();

describe('a set then find round trip through stripe-node', () => {
  it('gives back what was stored', async () => {
    const stripe = server.stripe('sk_test_smoke');
    const created = await stripe.apps.secrets.create({
      name: 'api-key',
      payload: 's3cr3t',
      scope: { type: 'account' },
    });
    assertMatchesSchema('create', created);
    const found = await stripe.apps.secrets.find({ name: 'api-key', scope: { type: 'account' }, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found.payload).toBe('s3cr3t');
    expect(found.id).toBe(created.id);
  });
});
