/**
 * Form encodings the SDK never sends: invalid percent-escapes and bytes that are not UTF-8 (rejected,
 * storing nothing), percent-encoded brackets, `expand[]` and `expand[0]`, `+` for space, and POST
 * parameters in the query string (fact 39).
 */
import { describe, expect, it } from 'vitest';
import { call, exchangeRaw, expectApiError, expectOk } from '../support/api-assertions.js';
import { bearer, form, serverForFile } from '../support/in-process-server.js';
import { rawRequest } from '../support/raw-http.js';

const server = serverForFile();

interface Secret {
  readonly id: string;
  readonly name: string;
  readonly payload?: string | null;
  readonly scope: { type: string; user?: string };
}

const post = (key: string, path: string, body: string | Uint8Array) =>
  call(server, 'POST', path, { headers: form(key), body });
const get = (key: string, path: string) => call(server, 'GET', path, { headers: bearer(key) });

async function namesIn(key: string): Promise<string[]> {
  const body = expectOk<{ data: Secret[] }>(await get(key, '/v1/apps/secrets?scope[type]=account'), 'list');
  return body.data.map((s) => s.name);
}

const ENCODING_ERROR = { status: 400, code: undefined } as const;

describe('invalid encodings in a POST body', () => {
  it.each([
    ['an invalid percent-escape in the name', 'name=bad%zz&payload=p&scope[type]=account'],
    ['an invalid percent-escape in the payload', 'name=ok&payload=p%zz&scope[type]=account'],
    ['a truncated escape', 'name=ok&payload=p%E0%A4%A&scope[type]=account'],
    ['a trailing %', 'name=ok&scope[type]=account&payload=p%'],
    ['an escaped byte that is not UTF-8', 'name=ok&payload=%ff&scope[type]=account'],
    ['an escaped invalid sequence', 'name=ok%C3%28&payload=p&scope[type]=account'],
    ['an escaped surrogate', 'name=ok&payload=%ED%A0%80&scope[type]=account'],
    ['an overlong escape', 'name=ok&payload=%C0%AF&scope[type]=account'],
    ['an invalid escape in a key', 'name=ok&payload=p&scope%5Gtype%5D=account'],
  ])('rejects %s with 400 and stores nothing', async (_label, body) => {
    const key = `sk_test_enc_body_${Buffer.from(body).toString('hex').slice(0, 40)}`;
    const error = expectApiError(await post(key, '/v1/apps/secrets', body), ENCODING_ERROR);
    expect(error.message).toContain('request body');
    expect(await namesIn(key)).toEqual([]);
  });

  it('rejects a raw 0xFF byte in the body with 400 and stores nothing', async () => {
    const key = 'sk_test_enc_raw_ff';
    const body = Buffer.concat([
      Buffer.from('name=raw&payload=bad'),
      Buffer.from([0xff]),
      Buffer.from('&scope[type]=account'),
    ]);
    expectApiError(await post(key, '/v1/apps/secrets', new Uint8Array(body)), ENCODING_ERROR);
    expect(await namesIn(key)).toEqual([]);
  });

  it('rejects raw Latin-1 bytes in the body with 400', async () => {
    const key = 'sk_test_enc_latin1';
    const body = Buffer.from('name=caf\xe9&payload=p&scope[type]=account', 'latin1');
    expectApiError(await post(key, '/v1/apps/secrets', new Uint8Array(body)), ENCODING_ERROR);
    expect(await namesIn(key)).toEqual([]);
  });

  it('accepts raw UTF-8 bytes in the body', async () => {
    const key = 'sk_test_enc_raw_utf8';
    const body = Buffer.from('name=café&payload=🔑&scope[type]=account', 'utf8');
    const secret = expectOk<Secret>(await post(key, '/v1/apps/secrets', new Uint8Array(body)), 'secret');
    expect(secret.name).toBe('café');
    expect(await namesIn(key)).toEqual(['café']);
  });

  it('rejects a delete with an invalid escape and deletes nothing', async () => {
    const key = 'sk_test_enc_delete';
    expectOk(await post(key, '/v1/apps/secrets', 'name=keep&payload=p&scope[type]=account'), 'secret');
    expectApiError(await post(key, '/v1/apps/secrets/delete', 'name=keep%zz&scope[type]=account'), ENCODING_ERROR);
    expectApiError(await post(key, '/v1/apps/secrets/delete', 'name=keep&scope[type]=account%ff'), ENCODING_ERROR);
    expect(await namesIn(key)).toEqual(['keep']);
  });
});

describe('invalid encodings in a query string', () => {
  it.each([
    ['%zz', '/v1/apps/secrets/find?name=%zz&scope[type]=account'],
    ['%ff', '/v1/apps/secrets/find?name=%ff&scope[type]=account'],
    ['a trailing %', '/v1/apps/secrets?scope[type]=account&limit=%'],
    ['an invalid sequence', '/v1/apps/secrets?scope[type]=account%C3%28'],
  ])('rejects %s in a GET with 400', async (_label, path) => {
    const error = expectApiError(await get('sk_test_enc_query', path), ENCODING_ERROR);
    expect(error.message).toContain('query string');
  });

  it('rejects a raw 0xFF byte in a GET query with a JSON 400', async () => {
    const target = Buffer.concat([
      Buffer.from('/v1/apps/secrets/find?name=a'),
      Buffer.from([0xff]),
      Buffer.from('&scope[type]=account'),
    ]);
    const reply = await exchangeRaw(
      server.port,
      rawRequest('GET', target, [['Authorization', 'Bearer sk_test_enc_q']]),
    );
    // Node's HTTP parser refuses a raw non-ASCII byte in the request target before the API reads it.
    expectApiError(reply, { status: 400, code: undefined });
  });

  it('rejects a POST whose query has an invalid escape, and stores nothing', async () => {
    const key = 'sk_test_enc_post_query';
    const res = await post(key, '/v1/apps/secrets?name=q%zz&scope[type]=account', 'payload=p');
    const error = expectApiError(res, ENCODING_ERROR);
    expect(error.message).toContain('query string');
    const resFf = await post(key, '/v1/apps/secrets?name=q%ff', 'payload=p&scope[type]=account');
    expectApiError(resFf, ENCODING_ERROR);
    expect(await namesIn(key)).toEqual([]);
  });
});

describe('accepted encodings', () => {
  it('reads percent-encoded brackets in a body and a query', async () => {
    const key = 'sk_test_enc_brackets';
    const made = expectOk<Secret>(
      await post(key, '/v1/apps/secrets', 'name=pb&payload=v&scope%5Btype%5D=user&scope%5Buser%5D=usr_1'),
      'secret',
    );
    expect(made.scope).toEqual({ type: 'user', user: 'usr_1' });
    const found = expectOk<Secret>(
      await get(key, '/v1/apps/secrets/find?name=pb&scope%5Btype%5D=user&scope%5Buser%5D=usr_1&expand%5B%5D=payload'),
      'secret',
    );
    expect(found.payload).toBe('v');
    expect(found.id).toBe(made.id);
  });

  it('reads percent-encoded brackets for account scope', async () => {
    const key = 'sk_test_enc_brackets_acct';
    expectOk(await post(key, '/v1/apps/secrets', 'name=acct&payload=v&scope%5Btype%5D=account'), 'secret');
    const listed = expectOk<{ data: Secret[] }>(await get(key, '/v1/apps/secrets?scope%5Btype%5D=account'), 'list');
    expect(listed.data.map((s) => s.name)).toEqual(['acct']);
  });

  it('returns the payload on find with expand[]=payload and with expand[0]=payload', async () => {
    const key = 'sk_test_enc_expand';
    expectOk(await post(key, '/v1/apps/secrets', 'name=ex&payload=the-payload&scope[type]=account'), 'secret');
    for (const expand of ['expand[]=payload', 'expand[0]=payload', 'expand%5B%5D=payload', 'expand%5B0%5D=payload']) {
      const found = expectOk<Secret>(
        await get(key, `/v1/apps/secrets/find?name=ex&scope[type]=account&${expand}`),
        'secret',
      );
      expect(found.payload, expand).toBe('the-payload');
    }
    const plain = expectOk<Secret>(await get(key, '/v1/apps/secrets/find?name=ex&scope[type]=account'), 'secret');
    expect(plain).not.toHaveProperty('payload');
  });

  it('returns the payload on create with expand[]=payload', async () => {
    const key = 'sk_test_enc_expand_create';
    const made = expectOk<Secret>(
      await post(key, '/v1/apps/secrets', 'name=ex&payload=shown&scope[type]=account&expand[]=payload'),
      'secret',
    );
    expect(made.payload).toBe('shown');
  });

  it("reads '+' in a value as a space", async () => {
    const key = 'sk_test_enc_plus';
    const made = expectOk<Secret>(
      await post(key, '/v1/apps/secrets', 'name=my+key&payload=a+b%2Bc&scope[type]=account'),
      'secret',
    );
    expect(made.name).toBe('my key');
    const found = expectOk<Secret>(
      await get(key, '/v1/apps/secrets/find?name=my%20key&scope[type]=account&expand[]=payload'),
      'secret',
    );
    expect(found.payload).toBe('a b+c');
    const viaPlus = expectOk<Secret>(await get(key, '/v1/apps/secrets/find?name=my+key&scope[type]=account'), 'secret');
    expect(viaPlus.id).toBe(made.id);
  });
});

describe('query parameters on a POST', () => {
  it('are merged with the body', async () => {
    const key = 'sk_test_enc_merge';
    const made = expectOk<Secret>(
      await post(key, '/v1/apps/secrets?name=from-query&scope[type]=account', 'payload=from-body'),
      'secret',
    );
    expect(made.name).toBe('from-query');
    const found = expectOk<Secret>(
      await get(key, '/v1/apps/secrets/find?name=from-query&scope[type]=account&expand[]=payload'),
      'secret',
    );
    expect(found.payload).toBe('from-body');
  });

  it('lose to the body on a clash', async () => {
    const key = 'sk_test_enc_clash';
    const made = expectOk<Secret>(
      await post(
        key,
        '/v1/apps/secrets?name=query-name&payload=query-payload&scope[type]=account',
        'name=body-name&payload=body-payload',
      ),
      'secret',
    );
    expect(made.name).toBe('body-name');
    expect(await namesIn(key)).toEqual(['body-name']);
    const found = expectOk<Secret>(
      await get(key, '/v1/apps/secrets/find?name=body-name&scope[type]=account&expand[]=payload'),
      'secret',
    );
    expect(found.payload).toBe('body-payload');
    expectApiError(await get(key, '/v1/apps/secrets/find?name=query-name&scope[type]=account'), {
      status: 404,
      code: 'resource_missing',
      param: 'name',
    });
  });

  it('may carry everything, with an empty body', async () => {
    const key = 'sk_test_enc_all_query';
    const made = expectOk<Secret>(
      await post(key, '/v1/apps/secrets?name=q&payload=p&scope[type]=account', ''),
      'secret',
    );
    expect(made.name).toBe('q');
  });

  it('are merged for delete too', async () => {
    const key = 'sk_test_enc_merge_delete';
    expectOk(await post(key, '/v1/apps/secrets', 'name=gone&payload=p&scope[type]=account'), 'secret');
    const deleted = expectOk<{ deleted: boolean }>(
      await post(key, '/v1/apps/secrets/delete?scope[type]=account', 'name=gone'),
      'delete',
    );
    expect(deleted.deleted).toBe(true);
    expect(await namesIn(key)).toEqual([]);
  });
});
