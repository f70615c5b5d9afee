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

export interface UploadReply {
  readonly reply: RawReply;
  /** The socket error the upload ran into (EPIPE, ECONNRESET), if any. */
  readonly errorCode: string | undefined;
  /** Whether the whole answer (head and Content-Length bytes of body) was in before that error. */
  readonly answeredBeforeError: boolean;
  /** Whether the server's FIN came, and came after the whole answer: an orderly close. */
  readonly endedAfterAnswer: boolean;
}

/** Whether `bytes` hold a complete HTTP answer with a Content-Length body. */
export function isCompleteAnswer(bytes: Buffer): boolean {
  const split = bytes.indexOf('\r\n\r\n');
  if (split === -1) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(bytes.subarray(0, split).toString('latin1'));
  return length !== null && bytes.length - (split + 4) >= Number(length[1]);
}

/** Sends `request` and reads what comes back until the connection closes, noting how it ended. */
function exchange(port: number, request: Buffer, endAfter: boolean, timeoutMs: number): Promise<UploadReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let errorCode: string | undefined;
    let answeredBeforeError = false;
    let endedAfterAnswer = false;
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      endedAfterAnswer = isCompleteAnswer(Buffer.concat(chunks));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode ??= error.code ?? error.message;
      answeredBeforeError = isCompleteAnswer(Buffer.concat(chunks));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: parseReply(Buffer.concat(chunks)), errorCode, answeredBeforeError, endedAfterAnswer });
    });
    if (endAfter) socket.end(request);
    else socket.write(request);
  });
}

/**
 * Sends `request` while reading whatever the server answers, and reports how the upload ended. A
 * server may answer and close before a large upload is done (a 413): the upload then fails with
 * EPIPE or ECONNRESET, and what matters is whether the whole answer came first.
 *
 * The request goes to the socket in one call, before the server can have answered: what does not
 * fit into the kernel's buffer is written by libuv, which reads a readable socket before it writes
 * to it. A write issued from JavaScript after the server closed would fail before the answer
 * already waiting in the kernel was read, and the socket would be destroyed with it unread (that is
 * how fetch lost the 413: `write EPIPE`).
 */
export const uploadRaw = (port: number, request: Buffer, timeoutMs = 10_000): Promise<UploadReply> =>
  exchange(port, request, true, timeoutMs);

/**
 * Sends `request` and then nothing more, without closing the sending side: for a server that must
 * answer a request it will not read to the end. Resolves with what arrived once the server closed.
 */
export const sendAndHold = (port: number, request: Buffer, timeoutMs = 10_000): Promise<UploadReply> =>
  exchange(port, request, false, timeoutMs);

/** One exchange on a kept-alive connection: the answer, and whether the server then closed it. */
export interface KeptReply {
  readonly reply: RawReply;
  /** The server closed the connection after this answer (it said `Connection: close`, or hung up). */
  readonly closed: boolean;
}

/**
 * Sends `requests` one after another on one connection, each once the answer to the one before is
 * complete (a request built without `Connection: close`: see `keptRequest`). Stops at the first
 * answer after which the server closes the connection; the answers are in order.
 */
export function exchangeKeptAlive(port: number, requests: readonly Buffer[], timeoutMs = 10_000): Promise<KeptReply[]> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const replies: KeptReply[] = [];
    let pending = Buffer.alloc(0);
    let next = 0;
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    const sendNext = () => {
      const request = requests[next++];
      if (request) socket.write(request);
      else socket.end();
    };
    socket.on('connect', sendNext);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      if (!isCompleteAnswer(pending)) return;
      const reply = parseReply(pending);
      pending = Buffer.alloc(0);
      const closing = reply.headers.connection?.toLowerCase() === 'close';
      replies.push({ reply, closed: closing });
      if (!closing) sendNext();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const last = replies.at(-1);
      if (last && next < requests.length && !last.closed) replies[replies.length - 1] = { ...last, closed: true };
      resolve(replies);
    });
  });
}

/** A request like `rawRequest`'s, but without `Connection: close`: HTTP/1.1 keeps the connection. */
export function keptRequest(
  method: string,
  target: string,
  headers: ReadonlyArray<[string, string]>,
  body?: string,
): Buffer {
  const text = rawRequest(method, target, headers, body ?? '').toString('latin1');
  const withoutClose = text.replace('Connection: close\r\n', '');
  // A GET without a body announces none: no Content-Length at all, as clients send it.
  const bare = body === undefined ? withoutClose.replace('Content-Length: 0\r\n', '') : withoutClose;
  return Buffer.from(bare, 'latin1');
}
