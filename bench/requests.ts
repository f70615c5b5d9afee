/**
 * What the bench scripts share: the requests they load a server with (each on a random secret of
 * the seeded population, made by its platform's key, see seed.ts) and the server's CPU time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type autocannon from 'autocannon';
import { benchKey, slot } from './seed.js';

export type RequestSpec = autocannon.Request;

/** The CPU time (user and system, all threads) process `pid` has used, in seconds. */
export const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
};

export const pick = (n: number) => Math.floor(Math.random() * n);
export const bearer = (key: string) => ({
  authorization: `Bearer ${key}`,
  'content-type': 'application/x-www-form-urlencoded',
});

/** A GET on a random seeded secret's scope, made by its platform's key. */
function slotGet(population: number, pathOf: (s: ReturnType<typeof slot>) => string): RequestSpec {
  return {
    method: 'GET',
    setupRequest: (req) => {
      const s = slot(pick(population));
      return { ...req, path: pathOf(s), headers: bearer(benchKey(s.platform)) };
    },
  };
}

export const findRequest = (population: number): RequestSpec =>
  slotGet(
    population,
    (s) => `/v1/apps/secrets/find?name=${s.name}&scope[type]=user&scope[user]=${s.user}&expand[]=payload`,
  );

export const listRequest = (population: number, limit: number): RequestSpec =>
  slotGet(population, (s) => `/v1/apps/secrets?scope[type]=user&scope[user]=${s.user}&limit=${limit}`);

/**
 * A set of a random seeded secret's name, which replaces it. `idempotent`: with a fresh
 * Idempotency-Key, as stripe-node sends on every POST, so the write also claims and completes an
 * idempotency record.
 */
export function replaceRequest(population: number, options: { idempotent?: boolean } = {}): RequestSpec {
  return {
    method: 'POST',
    path: '/v1/apps/secrets',
    setupRequest: (req) => {
      const s = slot(pick(population));
      const headers: Record<string, string> = bearer(benchKey(s.platform));
      if (options.idempotent) headers['idempotency-key'] = `stripe-node-retry-${randomUUID()}`;
      return {
        ...req,
        headers,
        body: `name=${s.name}&payload=replaced-${randomBytes(8).toString('hex')}&scope[type]=user&scope[user]=${s.user}`,
      };
    },
  };
}
