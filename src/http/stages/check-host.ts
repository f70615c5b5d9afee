/**
 * Emulator mode's defence against DNS rebinding. The emulator accepts any well-formed test key,
 * and its documented example key is public, so a page on a hostile domain that its DNS later points
 * at 127.0.0.1 could call the local store from the victim's browser, as same-origin. A browser
 * always sends the name it resolved in `Host`, so requests are answered only when that name is a
 * loopback one (localhost and *.localhost, which browsers never resolve elsewhere; 127.0.0.0/8;
 * ::1) or a name the operator allowed with --allow-host. A request without Host comes from no
 * browser and passes. Runs first, before routing: a refused page learns nothing about the server.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { errors } from '../../errors/api-error.js';
import type { Stage } from '../request-context.js';

/** The host name of a Host header value, without port, brackets or a final dot, lower-cased. */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  const close = value.indexOf(']');
  const name = value.startsWith('[') ? value.slice(1, close === -1 ? undefined : close) : value.replace(/:\d*$/, '');
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(name) || /^::ffff:127\./.test(name);
  return false;
}

/** Whether `req` names a host the emulator answers: a loopback one, one of `allowed`, or none. */
export function allowsHost(allowed: ReadonlySet<string>, req: IncomingMessage): boolean {
  const header = req.headers.host;
  if (header === undefined || header === '') return true;
  const name = hostName(header);
  return isLoopbackName(name) || allowed.has(name);
}

/** Refuses, with a 403, a request whose Host is neither loopback nor allowed (see above). */
export function checkHost(allowed: ReadonlySet<string>): Stage {
  return (context) => {
    if (!allowsHost(allowed, context.req)) {
      throw errors.hostNotAllowed(hostName(context.req.headers.host ?? '').slice(0, 100));
    }
  };
}
