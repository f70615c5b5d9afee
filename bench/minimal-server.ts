/**
 * A third reference: the least a server can do and still keep a secret. It answers find with payload
 * by one better-sqlite3 select and one AES-256-GCM open, and set by one AES-GCM seal and one
 * `INSERT ... ON CONFLICT DO UPDATE` committed with synchronous=FULL, with no authentication, no
 * validation beyond the two parameters, no audit log and no request log. The gap between it and the
 * bare server is what storage and encryption alone cost on this machine; the gap between it and
 * secret-store is what the rest of the promises cost.
 *
 * Usage: minimal-server.ts <port> <database file>. It seeds the bench's first 1,000 slots itself.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { slot } from './seed.js';

const [portText, file] = process.argv.slice(2);
const db = new Database(file as string);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(
  'create table if not exists secrets (scope_user text, name text, ciphertext blob, primary key (scope_user, name))',
);

const key = randomBytes(32);
function seal(plaintext: string): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), body]);
}
function open(envelope: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(0, 12));
  decipher.setAuthTag(envelope.subarray(12, 28));
  return Buffer.concat([decipher.update(envelope.subarray(28)), decipher.final()]).toString('utf8');
}

const select = db.prepare('select ciphertext from secrets where scope_user = ? and name = ?');
const upsert = db.prepare(
  'insert into secrets (scope_user, name, ciphertext) values (?, ?, ?) on conflict (scope_user, name) do update set ciphertext = excluded.ciphertext',
);
db.transaction(() => {
  for (let i = 0; i < 1000; i++) upsert.run(slot(i).user, slot(i).name, seal(`payload-${i}-${'x'.repeat(40)}`));
})();

const answer = (res: import('node:http').ServerResponse, status: number, body: string) => {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
};

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const params = new URLSearchParams(
      req.method === 'POST' ? Buffer.concat(chunks).toString() : query === -1 ? '' : url.slice(query + 1),
    );
    const user = params.get('scope[user]') ?? '';
    const name = params.get('name') ?? '';
    if (req.method === 'POST') {
      upsert.run(user, name, seal(params.get('payload') ?? ''));
      return answer(res, 200, JSON.stringify({ object: 'apps.secret', name, scope: { type: 'user', user } }));
    }
    const row = select.get(user, name) as { ciphertext: Buffer } | undefined;
    if (!row) return answer(res, 404, '{"error":{"type":"invalid_request_error"}}');
    answer(
      res,
      200,
      JSON.stringify({ object: 'apps.secret', name, payload: open(row.ciphertext), scope: { type: 'user', user } }),
    );
  });
}).listen(Number(portText), '127.0.0.1', () => process.stdout.write(`listening on ${portText}\n`));
