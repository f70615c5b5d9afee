/** A scripted HTTP server for client tests: records each request and answers from a script. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export type Answer =
  | { status: number; body: unknown; headers?: Record<string, string> }
  /** Drops the connection without answering. */
  | 'hang-up';

export interface FakeServer {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeServer(
  answer: (request: RecordedRequest, index: number) => Answer,
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(recorded);
      const reply = answer(recorded, requests.length - 1);
      if (reply === 'hang-up') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, {
        'Content-Type': 'application/json',
        'Request-Id': `req_fake${requests.length}`,
        ...reply.headers,
      });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sampleSecret = {
  id: 'appsecret_5110QzMIZ0005GiEH1m0419O8KAxCG',
  object: 'apps.secret',
  created: 1_700_000_000,
  expires_at: null,
  livemode: false,
  name: 'k',
  scope: { type: 'account' },
};
