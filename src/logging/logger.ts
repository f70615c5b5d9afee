/**
 * Logging. Lines carry ids, never values: callers pass request ids, key ids, operation names and
 * statuses only, so payloads and API keys cannot reach a log by construction. pino's redaction of
 * credential-shaped fields is a second net, not the first.
 *
 * Two formats: JSON lines (pino) for machines, the default when stdout is not a terminal; and plain
 * lines for people at a terminal.
 */
import pino from 'pino';
import { elapsedMs, type RequestRecord } from './request-record.js';
import { TurnBuffer } from './turn-buffer.js';

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** The line logged for every API request: ids and outcomes only, fixed by this type. */
export interface RequestLine {
  readonly request_id: string;
  readonly operation: string;
  readonly method: string;
  readonly status: number;
  readonly code: string | undefined;
  readonly latency_ms: number;
  /** A registered key's id (never the key), 'emulator', or undefined before authentication. */
  readonly key_id: string | undefined;
  readonly livemode: boolean | undefined;
  readonly replayed: true | undefined;
}

export interface Logger {
  /**
   * Logs one API request as `request`. Its fields cannot hold a value or a key (see RequestLine),
   * so it skips the redaction pass, which doubled the cost of the line written for every request.
   */
  request(line: RequestLine): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Writes out what is still buffered; call before the process exits. */
  flush(): void;
}

export type LogFormat = 'json' | 'pretty';

/** The log line of a finished request: its record's ids and outcome, never a value. */
export const requestLine = (record: RequestRecord): RequestLine => ({
  request_id: record.requestId,
  operation: record.operation,
  method: record.method,
  status: record.status,
  code: record.code,
  latency_ms: Math.round(elapsedMs(record) * 100) / 100,
  key_id: record.keyId ?? (record.keyId === null ? 'emulator' : undefined),
  livemode: record.livemode,
  replayed: record.replayed || undefined,
});

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
  const turn = stdout && new TurnBuffer(stdout);
  const options = { base: { service: 'secret-store' }, messageKey: 'msg' };
  // Lines are gathered per turn of the event loop (turn-buffer.ts), in the order they were logged.
  const log = pino({ ...options, redact: { paths: REDACT, censor: '[redacted]' } }, destination ?? turn);
  const requests = pino(options, destination ?? turn);
  return {
    request: (line) => requests.info(line, 'request'),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    flush: () => {
      turn?.drain();
      stdout?.flushSync();
    },
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
    request: (fields) => line('info', 'request', { ...fields }),
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    error: (message, fields) => line('error', message, fields),
    flush: () => {},
  };
}

/** A logger to stdout, or to `out` (a CLI run's own stream, see cli-io.ts). */
export function createLogger(format: LogFormat | undefined, out?: NodeJS.WritableStream & { isTTY?: boolean }): Logger {
  const chosen = format ?? ((out ?? process.stdout).isTTY ? 'pretty' : 'json');
  return chosen === 'json' ? jsonLogger(out) : prettyLogger(out);
}
