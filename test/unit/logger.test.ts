import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonLogger, prettyLogger } from '../../src/logging/logger.js';

function capture() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { out, lines: () => text.trim().split('\n') };
}

const line = {
  request_id: 'req_1',
  operation: 'apps.secret.find',
  method: 'GET',
  status: 404,
  code: 'resource_missing',
  latency_ms: 1.5,
  key_id: 'emulator',
  livemode: false,
  replayed: undefined,
} as const;

describe('loggers', () => {
  it('write one JSON line per request, and redact credential-shaped fields of the other lines', async () => {
    const { out, lines } = capture();
    const logger = jsonLogger(out);
    logger.request(line);
    logger.info('something', { payload: 'TOP-SECRET', authorization: 'Bearer sk_test_x', detail: 'kept' });
    await new Promise((resolve) => setImmediate(resolve));
    const [request, other] = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const { replayed: _, ...written } = line;
    expect(request).toMatchObject({ ...written, msg: 'request', level: 30, service: 'secret-store' });
    expect(request).not.toHaveProperty('replayed');
    expect(other).toMatchObject({
      msg: 'something',
      payload: '[redacted]',
      authorization: '[redacted]',
      detail: 'kept',
    });
    expect(lines().join('\n')).not.toMatch(/TOP-SECRET|sk_test_x/);
  });

  it('write the request line as plain text for people', () => {
    const { out, lines } = capture();
    prettyLogger(out).request(line);
    expect(lines()[0]).toMatch(
      /^\S+Z info {2}request request_id=req_1 operation=apps\.secret\.find method=GET status=404 code=resource_missing latency_ms=1\.5 key_id=emulator livemode=false$/,
    );
  });
});
