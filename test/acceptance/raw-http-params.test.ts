/**
 * Parameter validation over raw HTTP, with Stripe's error codes (none where Stripe sends none),
 * params and words: unknown, missing, empty and malformed parameters, length caps, `expand`,
 * Content-Type handling, and the request size limits. A test of Stripe's wording cites where that
 * wording was seen in a real Stripe answer.
 */
import { describe, expect, it } from 'vitest';
import { call, exchangeRaw, expectApiError, expectOk, fromRawReply } from '../support/api-assertions.js';
import { bearer, form, type RawResponse, serverForFile } from '../support/in-process-server.js';
import { rawRequest, sendAndHold, type UploadReply, uploadRaw } from '../support/raw-http.js';

const server = serverForFile();

interface Secret {
  readonly name: string;
  readonly payload?: string | null;
}

const KEY = 'sk_test_params';
const create = (body: string | Uint8Array, headers: Record<string, string> = form(KEY)) =>
  call(server, 'POST', '/v1/apps/secrets', { headers, body });
const get = (path: string, headers: Record<string, string> = bearer(KEY)) => call(server, 'GET', path, { headers });

const invalid = (code: string | undefined, param?: string) => ({ status: 400, code, param });

describe('unknown parameters', () => {
  it('names a top-level unknown parameter', async () => {
    const error = expectApiError(
      await create('name=n&payload=p&scope[type]=account&foo=1'),
      invalid('parameter_unknown', 'foo'),
    );
    expect(error.message).toBe('Received unknown parameter: foo');
  });

  it('reports an unknown parameter before a missing one', async () => {
    expectApiError(await create('foo=1'), invalid('parameter_unknown', 'foo'));
    expectApiError(await get('/v1/apps/secrets/find?foo=1'), invalid('parameter_unknown', 'foo'));
  });

  it('cuts a huge unknown parameter name short, within the error schema', async () => {
    const huge = 'x'.repeat(60_000);
    for (const [body, code] of [
      [`name=n&payload=p&scope[type]=account&${huge}=1`, 'parameter_unknown'],
      [`name=n&payload=p&scope[type]=account&scope[${huge}]=1`, 'parameter_unknown'],
      [`name=n&payload=p&scope[type]=account&a[b][c][d][e][${huge}]=1`, undefined],
      [`name=n&payload=p&scope=x&scope[${huge}]=1`, undefined],
    ] as const) {
      const res = await create(body);
      expect(res.status).toBe(400);
      // The schema caps `param` at 5000 and `message` at 40000 characters (expectApiError checks it).
      const error = (res.json as { error: { param: string } }).error;
      expectApiError(res, invalid(code, error.param));
      expect(error.param.length).toBeLessThan(300);
      expect(res.text.length).toBeLessThan(2000);
    }
  });

  it('names a nested unknown parameter', async () => {
    const error = expectApiError(
      await create('name=n&payload=p&scope[type]=account&scope[foo]=1'),
      invalid('parameter_unknown', 'scope[foo]'),
    );
    expect(error.message).toBe('Received unknown parameter: scope[foo]');
  });

  it.each(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'])(
    'treats %s as an unknown parameter',
    async (name) => {
      expectApiError(
        await create(`name=n&payload=p&scope[type]=account&${name}=1`),
        invalid('parameter_unknown', name),
      );
    },
  );

  it('treats a nested __proto__ as an unknown parameter', async () => {
    expectApiError(
      await create('name=n&payload=p&scope[type]=account&scope[__proto__][type]=user'),
      invalid('parameter_unknown', 'scope[__proto__]'),
    );
  });

  it('rejects unknown parameters on the GET endpoints', async () => {
    expectApiError(await get('/v1/apps/secrets?scope[type]=account&name=x'), invalid('parameter_unknown', 'name'));
    expectApiError(
      await get('/v1/apps/secrets/find?name=x&scope[type]=account&payload=p'),
      invalid('parameter_unknown', 'payload'),
    );
  });
});

describe('missing and empty parameters', () => {
  it('names a missing name', async () => {
    const error = expectApiError(await create('payload=p&scope[type]=account'), invalid('parameter_missing', 'name'));
    expect(error.message).toBe('Missing required param: name.');
  });

  it('names a missing payload', async () => {
    expectApiError(await create('name=n&scope[type]=account'), invalid('parameter_missing', 'payload'));
  });

  it('names a missing scope', async () => {
    expectApiError(await create('name=n&payload=p'), invalid('parameter_missing', 'scope'));
    expectApiError(await get('/v1/apps/secrets'), invalid('parameter_missing', 'scope'));
    expectApiError(await get('/v1/apps/secrets/find?name=n'), invalid('parameter_missing', 'scope'));
  });

  it('names a missing scope[type]', async () => {
    expectApiError(await create('name=n&payload=p&scope[user]=usr_1'), invalid('parameter_missing', 'scope[type]'));
  });

  it('answers an empty name with parameter_invalid_empty', async () => {
    const error = expectApiError(
      await create('name=&payload=p&scope[type]=account'),
      invalid('parameter_invalid_empty', 'name'),
    );
    expect(error.message).toMatch(/^You passed an empty string for 'name'/);
  });

  it('answers an empty payload with parameter_invalid_empty', async () => {
    expectApiError(await create('name=n&payload=&scope[type]=account'), invalid('parameter_invalid_empty', 'payload'));
  });

  it('answers a user scope without a user with 400 on scope[user]', async () => {
    expectApiError(await create('name=n&payload=p&scope[type]=user'), invalid('parameter_missing', 'scope[user]'));
  });

  it('answers an account scope with a user with 400 on scope[user]', async () => {
    expectApiError(
      await create('name=n&payload=p&scope[type]=account&scope[user]=usr_1'),
      invalid('parameter_unknown', 'scope[user]'),
    );
  });
});

describe('malformed values', () => {
  it.each(['abc', '1.5', '', '1e2', '0x10', ' 5'])('rejects limit=%s', async (limit) => {
    const res = await get(`/v1/apps/secrets?scope[type]=account&limit=${encodeURIComponent(limit)}`);
    if (limit === '') {
      // An empty value means "not given" (Stripe treats empty strings as unset).
      expectOk(res, 'list');
      return;
    }
    expectApiError(res, invalid('parameter_invalid_integer', 'limit'));
  });

  // Stripe's words for a value under the range: stripe/stripe-php#982 ("This value must be greater than or equal to 1.").
  it.each([
    ['0', 'This value must be greater than or equal to 1.'],
    ['-1', 'This value must be greater than or equal to 1.'],
    ['101', 'This value must be less than or equal to 100.'],
  ])('rejects limit=%s as out of range, without a code', async (limit, message) => {
    const error = expectApiError(
      await get(`/v1/apps/secrets?scope[type]=account&limit=${limit}`),
      invalid(undefined, 'limit'),
    );
    expect(error.message).toBe(message);
  });

  // Stripe's body for a non-integer: stripe/stripe-cli#585 (code parameter_invalid_integer, "Invalid integer: 1.0038e+06").
  it.each(['1.5', 'soon', '1e10', '99999999999999999999'])('rejects expires_at=%s', async (value) => {
    const error = expectApiError(
      await create(`name=n&payload=p&scope[type]=account&expires_at=${value}`),
      invalid('parameter_invalid_integer', 'expires_at'),
    );
    expect(error.message).toBe(`Invalid integer: ${value}`);
  });

  // Stripe's words for an enum: stripe/stripe-dotnet#1092 ("Invalid usage: must be one of reusable or single_use", no code).
  it('rejects a scope type outside the enum, without a code', async () => {
    const error = expectApiError(await create('name=n&payload=p&scope[type]=team'), invalid(undefined, 'scope[type]'));
    expect(error.message).toBe('Invalid scope[type]: must be one of account or user');
  });

  // Stripe's body for a string where an object belongs: stripe/stripe-postman#17 ("Invalid object", no code).
  it('rejects a scope sent as a string', async () => {
    const error = expectApiError(await create('name=n&payload=p&scope=account'), invalid(undefined, 'scope'));
    expect(error.message).toBe('Invalid object');
  });

  it('rejects a name sent as an object or an array, without a code', async () => {
    const error = expectApiError(await create('name[a]=n&payload=p&scope[type]=account'), invalid(undefined, 'name'));
    expect(error.message).toBe('Invalid string');
    expectApiError(await create('name[]=n&payload=p&scope[type]=account'), invalid(undefined, 'name'));
  });

  it('rejects a scalar and a nested use of one name', async () => {
    expectApiError(await create('name=n&payload=p&scope=x&scope[type]=account'), invalid(undefined, 'scope[type]'));
  });

  it('rejects nesting deeper than the limit', async () => {
    expectApiError(
      await create('name=n&payload=p&scope[type]=account&a[b][c][d][e][f]=1'),
      invalid(undefined, 'a[b][c][d][e][f]'),
    );
  });
});

// Stripe's words for an over-long string, its value cut to four characters each side, no code:
// "Invalid string: P1_e...Gvxg; must be at most 5000 characters" (quoted from a Stripe form in a public repo's notes).
describe('length caps', () => {
  it('accepts a name of 5000 characters and rejects 5001', async () => {
    const ok = expectOk<Secret>(await create(`name=${'n'.repeat(5000)}&payload=p&scope[type]=account`), 'secret');
    expect(ok.name).toHaveLength(5000);
    const error = expectApiError(
      await create(`name=abcd${'n'.repeat(4993)}wxyz&payload=p&scope[type]=account`),
      invalid(undefined, 'name'),
    );
    expect(error.message).toBe('Invalid string: abcd...wxyz; must be at most 5000 characters');
  });

  it('counts characters, not bytes: 5000 two-byte characters are fine', async () => {
    const name = 'é'.repeat(5000);
    const ok = expectOk<Secret>(
      await create(`name=${encodeURIComponent(name)}&payload=p&scope[type]=account`),
      'secret',
    );
    expect(ok.name).toBe(name);
  });

  it('accepts a payload of 5000 characters and rejects 5001', async () => {
    const payload = 'p'.repeat(5000);
    const ok = expectOk<Secret>(
      await create(`name=long-payload&payload=${payload}&scope[type]=account&expand[]=payload`),
      'secret',
    );
    expect(ok.payload).toBe(payload);
    const res = await create(`name=long-payload&payload=SECR${'p'.repeat(4993)}ETXX&scope[type]=account`);
    const error = expectApiError(res, invalid(undefined, 'payload'));
    // Not even a part of a payload is repeated.
    expect(error.message).toBe('Invalid string: (not shown); must be at most 5000 characters');
    expect(res.text).not.toMatch(/SECR|ETXX/);
  });

  it('rejects a scope[user] of 5001 characters', async () => {
    expectApiError(
      await create(`name=n&payload=p&scope[type]=user&scope[user]=${'u'.repeat(5001)}`),
      invalid(undefined, 'scope[user]'),
    );
  });
});

describe('expand', () => {
  // Stripe's answer: gitpod-io/gitpod#13035 ("This property cannot be expanded (data).", no code, no param).
  it("rejects a field that cannot be expanded, in Stripe's words, without a code or param", async () => {
    const error = expectApiError(
      await create('name=n&payload=p&scope[type]=account&expand[]=bogus'),
      invalid(undefined, undefined),
    );
    expect(error.message).toBe('This property cannot be expanded (bogus).');
    // A field the secret has, but which is no expandable object, in the same words.
    const notExpandable = expectApiError(
      await create('name=n&payload=p&scope[type]=account&expand[]=livemode'),
      invalid(undefined, undefined),
    );
    expect(notExpandable.message).toBe('This property cannot be expanded (livemode).');
    expectApiError(
      await get('/v1/apps/secrets/find?name=n&scope[type]=account&expand[]=bogus'),
      invalid(undefined, undefined),
    );
  });

  // Stripe's body for expand as a string: stripe/stripe-cli#47 ("Invalid array", param expand, no code).
  it('rejects expand sent as a string rather than an array', async () => {
    const error = expectApiError(
      await get('/v1/apps/secrets/find?name=n&scope[type]=account&expand=payload'),
      invalid(undefined, 'expand'),
    );
    expect(error.message).toBe('Invalid array');
    expectApiError(await create('name=n&payload=p&scope[type]=account&expand=payload'), invalid(undefined, 'expand'));
  });

  it('rejects expand sent as an object', async () => {
    expectApiError(
      await create('name=n&payload=p&scope[type]=account&expand[a]=payload'),
      invalid(undefined, 'expand'),
    );
  });

  it('expands data.payload on list, but not payload', async () => {
    const key = 'sk_test_params_list_expand';
    expectOk(await create('name=one&payload=p1&scope[type]=account', form(key)), 'secret');
    const listed = expectOk<{ data: Secret[] }>(
      await get('/v1/apps/secrets?scope[type]=account&expand[]=data.payload', bearer(key)),
      'list',
    );
    expect(listed.data.map((s) => s.payload)).toEqual(['p1']);
    // Stripe's hint on a list: stripe/stripe-python#316 ("... (application). You may want to try expanding 'data.application' instead.").
    const error = expectApiError(
      await get('/v1/apps/secrets?scope[type]=account&expand[]=payload', bearer(key)),
      invalid(undefined, undefined),
    );
    expect(error.message).toBe(
      "This property cannot be expanded (payload). You may want to try expanding 'data.payload' instead.",
    );
  });
});

describe('Content-Type', () => {
  it('lets a GET carry a JSON Content-Type with no body (stripe-node sends one on GETs)', async () => {
    const headers = { ...bearer(KEY), 'Content-Type': 'application/json' };
    expectOk(await get('/v1/apps/secrets?scope[type]=account', headers), 'list');
    expectApiError(await get('/v1/apps/secrets/find?name=missing&scope[type]=account', headers), {
      status: 404,
      code: 'resource_missing',
      param: 'name',
    });
  });

  it('lets a GET carry the form Content-Type with no body', async () => {
    expectOk(await get('/v1/apps/secrets?scope[type]=account', form(KEY)), 'list');
  });

  /** Stripe's 400 for a body it will not read, naming the type sent; and nothing is stored for `key`. */
  const expectUnsupported = async (res: RawResponse, type: string, key: string) => {
    const error = expectApiError(res, invalid(undefined));
    expect(error.message).toBe(
      `Invalid request: unsupported Content-Type ${type}. If error persists and you need assistance, please contact support@stripe.com.`,
    );
    const listed = expectOk<{ data: unknown[] }>(
      await get('/v1/apps/secrets?scope[type]=account', bearer(key)),
      'list',
    );
    expect(listed.data).toEqual([]);
  };

  // Stripe's body: MarcinusX/flutter_stripe_demo#9 ("Invalid request: unsupported Content-Type text/plain; charset=utf-8. ...", no code).
  it("rejects a POST with a JSON body, in Stripe's words and without a code", async () => {
    const key = 'sk_test_params_json';
    const res = await create(JSON.stringify({ name: 'n', payload: 'p', scope: { type: 'account' } }), {
      ...bearer(key),
      'Content-Type': 'application/json',
    });
    await expectUnsupported(res, 'application/json', key);
  });

  it('rejects a POST with a multipart body', async () => {
    expectApiError(
      await create('--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nn\r\n--b--', {
        ...bearer(KEY),
        'Content-Type': 'multipart/form-data; boundary=b',
      }),
      invalid(undefined),
    );
  });

  // Stripe refuses a body without a Content-Type, naming an empty type: thephpleague/omnipay-stripe#197 ("unsupported Content-Type . If error persists...").
  it('rejects a POST with a body and no Content-Type, and stores nothing', async () => {
    const key = 'sk_test_params_no_type';
    // Over a raw socket: fetch would add a text/plain Content-Type to a string body.
    const request = rawRequest(
      'POST',
      '/v1/apps/secrets',
      [['Authorization', `Bearer ${key}`]],
      'name=untyped&payload=p',
    );
    await expectUnsupported(await exchangeRaw(server.port, request), '', key);
  });

  it('reads a POST with an empty body and no Content-Type as having no parameters', async () => {
    const request = rawRequest('POST', '/v1/apps/secrets', [['Authorization', `Bearer ${KEY}`]]);
    expectApiError(await exchangeRaw(server.port, request), invalid('parameter_missing', 'name'));
  });

  it('accepts the form Content-Type with a charset and in any case', async () => {
    for (const type of ['application/x-www-form-urlencoded; charset=utf-8', 'Application/X-WWW-Form-Urlencoded']) {
      expectOk(
        await create('name=ct&payload=p&scope[type]=account', { ...bearer(KEY), 'Content-Type': type }),
        'secret',
      );
    }
  });
});

describe('request size limits', () => {
  const LIMIT = 256 * 1024;
  const bodyOf = (bytes: number) => {
    const head = 'name=big&scope[type]=account&payload=';
    return head + 'a'.repeat(bytes - head.length);
  };

  it('reads a body of exactly 256 KiB (and rejects its oversized payload as a parameter)', async () => {
    expectApiError(await create(bodyOf(LIMIT)), invalid(undefined, 'payload'));
  });

  const head = (length: number | 'chunked') =>
    Buffer.from(
      [
        'POST /v1/apps/secrets HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${KEY}`,
        'Content-Type: application/x-www-form-urlencoded',
        length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`,
        '',
        '',
      ].join('\r\n'),
    );
  const chunked = (body: string) => {
    const pieces: string[] = [];
    for (let at = 0; at < body.length; at += 65_536) pieces.push(body.slice(at, at + 65_536));
    return Buffer.from(`${pieces.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`);
  };
  const expect413 = (upload: UploadReply) => {
    // A reset is how an upload the server stopped reading ends; it is fine only after the whole answer.
    if (upload.errorCode !== undefined) expect(upload.answeredBeforeError, upload.errorCode).toBe(true);
    const error = expectApiError(fromRawReply(upload.reply), { status: 413, code: undefined });
    expect(error.message).toContain(String(LIMIT));
    expect(upload.reply.headers.connection).toBe('close');
  };

  it('answers a body over 256 KiB with a JSON 413 while the client is still uploading, and keeps serving', async () => {
    for (const size of [LIMIT + 1, 4 * LIMIT, 16 * LIMIT]) {
      const body = Buffer.from(bodyOf(size));
      expect413(await uploadRaw(server.port, Buffer.concat([head(body.length), body])));
    }
    const made = expectOk<Secret>(await create('name=after-413&payload=p&scope[type]=account'), 'secret');
    expect(made.name).toBe('after-413');
    expectOk(await get('/v1/apps/secrets?scope[type]=account'), 'list');
  });

  it('answers a chunked body over 256 KiB (no Content-Length) with a JSON 413', async () => {
    for (const size of [LIMIT + 1, 4 * LIMIT]) {
      expect413(await uploadRaw(server.port, Buffer.concat([head('chunked'), chunked(bodyOf(size))])));
    }
    expectOk(await get('/v1/apps/secrets?scope[type]=account'), 'list');
  });

  // The server's side of the exchange, without the race of a client still uploading: the client
  // sends the head and as much of the body as makes the request too large, then stops and waits.
  // Nothing it sent is left unread when the server answers, so the server's close can only be an
  // orderly one: the whole 413 arrives, then the server's FIN, and no reset.
  it('sends its whole 413 before it closes, every time, for a declared and for a chunked length', async () => {
    const overLimit = Buffer.from(bodyOf(LIMIT + 1));
    // The last chunk ends on the byte past the limit, with no CRLF after it: that byte is the last
    // the server reads before it answers.
    const chunks = [overLimit.subarray(0, LIMIT / 2), overLimit.subarray(LIMIT / 2)];
    const streamed = Buffer.concat(
      chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]).slice(0, -1),
    );
    for (let i = 0; i < 10; i++) {
      for (const request of [head(2 * LIMIT), Buffer.concat([head('chunked'), streamed])]) {
        const held = await sendAndHold(server.port, request);
        expect(held.errorCode).toBeUndefined();
        expect(held.endedAfterAnswer).toBe(true);
        expect413(held);
      }
    }
  });

  it('answers 300 parameters with 400', async () => {
    const extra = Array.from({ length: 297 }, (_, i) => `x${i}=1`).join('&');
    expectApiError(await create(`name=n&payload=p&scope[type]=account&${extra}`), invalid(undefined));
  });

  it('counts query and body parameters together', async () => {
    const query = Array.from({ length: 150 }, (_, i) => `q${i}=1`).join('&');
    const body = Array.from({ length: 150 }, (_, i) => `b${i}=1`).join('&');
    const res = await call(server, 'POST', `/v1/apps/secrets?${query}`, { headers: form(KEY), body });
    expectApiError(res, invalid(undefined));
  });

  it('answers 300 parameters in a GET query with 400', async () => {
    const query = Array.from({ length: 300 }, (_, i) => `expand[]=e${i}`).join('&');
    expectApiError(await get(`/v1/apps/secrets?scope[type]=account&${query}`), invalid(undefined));
  });
});
