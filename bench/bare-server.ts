/**
 * The physical limit: a bare node:http server answering the Secret Store routes with fixed,
 * pre-serialised bodies (it reads and form-parses POST bodies, as any server must). Nothing
 * secret-store does can be faster than this on the same machine.
 */
import { createServer } from 'node:http';

const secret = JSON.stringify({
  id: 'appsecret_5110QzMIZ0005GiEH1m0419O8KAxCG',
  object: 'apps.secret',
  created: 1_700_000_000,
  expires_at: null,
  livemode: false,
  name: 'my-api-key',
  payload: 'sk_live_0123456789abcdefghijklmnopqrstuvwxyz',
  scope: { type: 'user', user: 'usr_1' },
});
const list = JSON.stringify({
  object: 'list',
  url: '/v1/apps/secrets',
  has_more: false,
  data: Array(10).fill(JSON.parse(secret)),
});
const headers = (body: string) => ({ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });

const port = Number(process.argv[2]);
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'POST') new URLSearchParams(Buffer.concat(chunks).toString());
    const body = req.method === 'GET' && req.url?.startsWith('/v1/apps/secrets?') ? list : secret;
    res.writeHead(200, headers(body));
    res.end(body);
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`listening on ${port}\n`));
