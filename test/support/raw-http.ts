/**
 * A raw HTTP/1.1 client over a TCP socket, for requests no HTTP library will send: invalid bytes in
 * the path, odd methods, huge or broken headers. One request per connection (`Connection: close`).
 */
import { connect } from 'node:net';

export interface RawReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The connection closed without a parseable answer. */
  readonly dropped: boolean;
}

export function sendRaw(port: number, request: Buffer, timeoutMs = 10_000): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseReply(Buffer.concat(chunks)));
    });
    socket.end(request);
  });
}

export function parseReply(bytes: Buffer): RawReply {
  const text = bytes.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
  if (split === -1 || !status) return { status: 0, headers: {}, body: text, dropped: true };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, split).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status: Number(status[1]), headers, body, dropped: false };
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

export function rawRequest(
  method: string,
  target: Buffer | string,
  headers: ReadonlyArray<[string, string | Buffer]>,
  body: Buffer | string = '',
): Buffer {
  const bodyBytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const head: Buffer[] = [
    Buffer.from(`${method} `),
    Buffer.isBuffer(target) ? target : Buffer.from(target, 'latin1'),
    Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'),
  ];
  for (const [name, value] of headers)
    head.push(
      Buffer.from(`${name}: `),
      Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'),
      Buffer.from('\r\n'),
    );
  head.push(Buffer.from(`Content-Length: ${bodyBytes.length}\r\n\r\n`));
  return Buffer.concat([...head, bodyBytes]);
}
