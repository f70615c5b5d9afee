/**
 * Sample usage of the published client declarations (`secret-store/client`, resolved through the
 * package's own exports to dist/). Compiled by test/acceptance/client.test.ts; every
 * `@ts-expect-error` must be an error, every other line must compile.
 */
import {
  AuthenticationError,
  type DeletedSecret,
  type Secret,
  type SecretList,
  SecretStoreClient,
  SecretStoreError,
} from 'secret-store/client';

const client = new SecretStoreClient({ apiKey: 'sk_test_123', baseUrl: 'http://127.0.0.1:12111', maxRetries: 1 });

export async function sample(): Promise<void> {
  const created: Secret = await client.secrets.create(
    { name: 'k', payload: 'v', scope: { type: 'user', user: 'usr_1' }, expiresAt: 2_000_000_000, expand: ['payload'] },
    { idempotencyKey: 'abc', stripeAccount: 'acct_1' },
  );
  const when: number | null = created.expires_at;
  const payload: string | null | undefined = created.payload;
  const found = await client.secrets.find({ name: 'k', scope: { type: 'account' } });
  const scopeType: 'account' | 'user' = found.scope.type;
  const deleted: DeletedSecret = await client.secrets.deleteWhere({ name: 'k', scope: { type: 'account' } });
  const flag: true = deleted.deleted;
  const page: SecretList = await client.secrets.list({
    scope: { type: 'account' },
    limit: 5,
    expand: ['data.payload'],
  });
  const more: boolean = page.has_more;
  for await (const secret of client.secrets.listAll({ scope: { type: 'account' } })) {
    const id: string = secret.id;
    void id;
  }
  try {
    await client.secrets.find({ name: 'missing', scope: { type: 'account' } });
  } catch (error) {
    if (error instanceof SecretStoreError) {
      const status: number | undefined = error.statusCode;
      const requestId: string | undefined = error.requestId;
      void [status, requestId, error instanceof AuthenticationError];
    }
  }
  void [when, payload, scopeType, flag, more];

  // @ts-expect-error a user scope needs its user
  await client.secrets.create({ name: 'k', payload: 'v', scope: { type: 'user' } });
  // @ts-expect-error payload is required
  await client.secrets.create({ name: 'k', scope: { type: 'account' } });
  // @ts-expect-error only payload and scope can be expanded on find
  await client.secrets.find({ name: 'k', scope: { type: 'account' }, expand: ['data.payload'] });
  // @ts-expect-error scope types are account or user
  await client.secrets.list({ scope: { type: 'team' } });
  // @ts-expect-error the wire object is snake_case
  void created.expiresAt;
}
