/**
 * Reads the body (POST only, within the size limit) and parses the parameters of the query string
 * and the body. Runs only for authenticated requests.
 */
import type { IncomingMessage } from 'node:http';
import { errors } from '../../errors/api-error.js';
import {
  decodeUtf8,
  type FormLimits,
  type FormObject,
  finishForm,
  newFormObject,
  parseFormInto,
} from '../form-params.js';
import type { Stage } from '../request-context.js';
import { singleHeader } from './stripe-headers.js';

export interface HttpLimits extends FormLimits {
  readonly maxBodyBytes: number;
}

export const DEFAULT_LIMITS: HttpLimits = { maxBodyBytes: 256 * 1024, maxParams: 256, maxDepth: 4 };

const FORM_TYPE = 'application/x-www-form-urlencoded';

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw errors.bodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw errors.bodyTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/**
 * A body is read as a form only when it says it is one: without a Content-Type, Stripe refuses it
 * too, naming an empty type ("unsupported Content-Type . If error persists...", quoted in
 * thephpleague/omnipay-stripe#197). An empty body needs no type.
 */
function checkContentType(req: IncomingMessage, bodyLength: number): void {
  if (bodyLength === 0) return;
  const type = singleHeader(req, 'content-type') ?? '';
  const mediaType = type.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== FORM_TYPE) throw errors.unsupportedContentType(type.slice(0, 100));
}

/** The query's raw bytes reach us as latin1 code units; re-read them as UTF-8, strictly. */
const queryText = (rawQuery: string): string =>
  /[^\x20-\x7e]/.test(rawQuery) ? decodeUtf8(Buffer.from(rawQuery, 'latin1'), 'query string') : rawQuery;

function parseParams(rawQuery: string, body: Buffer | undefined, limits: FormLimits): FormObject {
  const state = { params: newFormObject(), count: 0 };
  parseFormInto(state, queryText(rawQuery), 'query string', limits);
  // Stripe also reads POST parameters from the query string; the body wins on a clash.
  if (body && body.length > 0) parseFormInto(state, decodeUtf8(body, 'request body'), 'request body', limits);
  return finishForm(state);
}

export function readParams(limits: HttpLimits): Stage {
  return async (context) => {
    const { req } = context;
    const body = req.method === 'POST' ? await readBody(req, limits.maxBodyBytes) : undefined;
    if (body) checkContentType(req, body.length);
    context.params = parseParams(context.rawQuery, body, limits);
  };
}
