/**
 * Logging. Lines carry ids, never values: callers pass request ids, key ids, operation names and
 * statuses only, so payloads and API keys cannot reach a log by construction. pino's redaction of
 * credential-shaped fields is a second net, not the first.
 *
 * Two formats: JSON lines (pino) for machines, the default when stdout is not a terminal; and plain
 * lines for people at a terminal.
 */
import pino from 'pino';

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Writes out what is still buffered; call before the process exits. */
  flush(): void;
}

export type LogFormat = 'json' | 'pretty';

const REDACT = [
  'authorization',
  'Authorization',
  'payload',
  'api_key',
  'apiKey',
  'key',
  '*.authorization',
  '*.payload',
  '*.api_key',
];

/**
 * JSON lines to `destination`, or by default to stdout through an asynchronous buffer: a synchronous
 * write per request costs a system call on the request's path, while the buffer writes the lines
 * that pile up meanwhile in one go. `flush` empties it before an exit.
 */
export function jsonLogger(destination?: NodeJS.WritableStream): Logger {
  const stdout = destination ? undefined : pino.destination({ dest: 1, sync: false });
  const log = pino(
    { base: { service: 'secret-store' }, redact: { paths: REDACT, censor: '[redacted]' }, messageKey: 'msg' },
    destination ?? stdout,
  );
  return {
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    flush: () => stdout?.flushSync(),
  };
}

const REDACTED_FIELDS = new Set(REDACT.filter((p) => !p.includes('*')));

export function prettyLogger(out: NodeJS.WritableStream = process.stdout): Logger {
  const line = (level: string, message: string, fields?: LogFields) => {
    const shown = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${REDACTED_FIELDS.has(k) ? '[redacted]' : String(v)}`)
          .join(' ')
      : '';
    out.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}${shown ? ` ${shown}` : ''}\n`);
  };
  return {
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    error: (message, fields) => line('error', message, fields),
    flush: () => {},
  };
}

export function createLogger(format: LogFormat | undefined): Logger {
  const chosen = format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  return chosen === 'json' ? jsonLogger() : prettyLogger();
}
