/**
 * Shutting down: RunningServer.close() answers the requests in flight and ends every connection,
 * including those Node's HTTP server no longer knows (answered by the 'clientError' handler or
 * handed to the 'connect'/'upgrade' handlers, with no parser left) whose client holds them half
 * open. The grace is ten minutes: close() returning at all proves it waited for no timer.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessHandle, removeDir, startInProcess } from '../support/in-process-server.js';
import { isCompleteAnswer, parseReply } from '../support/raw-http.js';

const started: InProcessHandle[] = [];
afterEach(() => {
  for (const server of started.splice(0)) removeDir(server.dataDir);
});

async function start(): Promise<InProcessHandle> {
  const server = await startInProcess({ engine: 'sqlite', config: { shutdownGraceSeconds: 600 } });
  started.push(server);
  return server;
}

interface HeldConnection {
  readonly socket: Socket;
  readonly answer: Buffer;
  /** Resolves once the server has ended the connection (its FIN arrived, or the socket closed). */
  readonly ended: Promise<void>;
}

/**
 * Sends `bytes` and keeps the connection open after the answer: the client never ends its side, and
 * with `allowHalfOpen` it does not end it when the server ends its own either.
 */
function sendAndKeepOpen(port: number, bytes: string): Promise<HeldConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const ended = new Promise<void>((done) => {
      socket.once('end', done);
      socket.once('close', done);
    });
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const answer = Buffer.concat(chunks);
      if (isCompleteAnswer(answer)) resolve({ socket, answer, ended });
    });
    socket.write(bytes);
  });
}

describe('RunningServer.close()', () => {
  const unanswerable = [
    [
      'a CONNECT request with a body',
      'CONNECT /v1/apps/secrets HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody',
      404,
    ],
    ['a protocol upgrade', 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 404],
    ['malformed HTTP', 'THIS IS NOT HTTP\r\n\r\n', 400],
  ] as const;

  for (const [what, bytes, status] of unanswerable) {
    it(`ends a connection answered outside the request handler (${what}) that its client holds half open`, async () => {
      const server = await start();
      const held = await sendAndKeepOpen(server.port, bytes);
      expect(parseReply(held.answer).status).toBe(status);
      await server.stop();
      await held.ended;
      held.socket.destroy();
    });
  }

  it('ends idle kept-alive connections at once', async () => {
    const server = await start();
    const agent = new Agent({ keepAlive: true });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(Object.keys(agent.freeSockets)).toHaveLength(1);
      await server.stop();
    } finally {
      agent.destroy();
    }
  });

  it('answers a request already in flight, as the last on its kept-alive connection, then returns', async () => {
    const server = await start();
    const agent = new Agent({ keepAlive: true });
    const body = 'name=drained&payload=p&scope[type]=account';
    try {
      let stopped: Promise<void> | undefined;
      const answer = await new Promise<{ status: number; connection: string | undefined; text: string }>(
        (resolve, reject) => {
          const req = request(
            `${server.url}/v1/apps/secrets`,
            {
              method: 'POST',
              agent,
              headers: {
                Authorization: 'Bearer sk_test_drain',
                'Content-Type': 'application/x-www-form-urlencoded',
                'Content-Length': Buffer.byteLength(body),
                // The server's 100 Continue says the request reached the handler: the drain starts
                // with this request in flight, and its body is sent only then.
                Expect: '100-continue',
              },
            },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => {
                text += d.toString();
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
            },
          );
          req.on('error', reject);
          req.on('continue', () => {
            stopped = server.stop();
            req.end(body);
          });
        },
      );
      expect(answer.status, answer.text).toBe(200);
      expect(JSON.parse(answer.text)).toMatchObject({ object: 'apps.secret', name: 'drained' });
      expect(answer.connection).toBe('close');
      expect(stopped).toBeDefined();
      await stopped;
    } finally {
      agent.destroy();
    }
  });
});
