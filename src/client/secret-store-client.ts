/**
 * A typed client for the Secret Store API with the surface of Stripe's SDKs, and nothing else: no
 * runtime dependency beyond `fetch`, so it runs in Node 20 and in a browser bundle alike.
 */
import { encodeForm, type FormInput } from './encode.js';
import { ConnectionError, errorFromResponse, type SecretStoreError } from './errors.js';
import type {
  CreateSecretParams,
  DeletedSecret,
  DeleteSecretParams,
  FindSecretParams,
  ListSecretsParams,
  RequestOptions,
  Secret,
  SecretList,
} from './types.js';

export interface ClientOptions {
  apiKey: string;
  /** Where the server is; the default is the local emulator's address. */
  baseUrl?: string;
  stripeAccount?: string;
  stripeVersion?: string;
  /** Retries after a connection error, a 409 or a 5xx (default 2, as stripe-node). */
  maxRetries?: number;
  /** Per attempt (default 80 s, as stripe-node). */
  timeoutMs?: number;
  /** The first retry waits about this long, doubling up to 5 s (default 500 ms). */
  minRetryDelayMs?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:12111';
const MAX_RETRY_DELAY_MS = 5000;

interface Call {
  method: 'GET' | 'POST';
  path: string;
  params: { [key: string]: FormInput };
  options: RequestOptions | undefined;
}

const randomKey = () =>
  typeof globalThis.crypto?.randomUUID === 'function'
    ? globalThis.crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

export class SecretStoreClient {
  readonly secrets: SecretsResource;
  private readonly baseUrl: string;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly minRetryDelayMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly config: ClientOptions) {
    if (!config.apiKey) throw new TypeError('SecretStoreClient needs an apiKey');
    this.baseUrl = (config.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.maxRetries = config.maxRetries ?? 2;
    this.timeoutMs = config.timeoutMs ?? 80_000;
    this.minRetryDelayMs = config.minRetryDelayMs ?? 500;
    this.fetchImpl = config.fetch ?? globalThis.fetch.bind(globalThis);
    this.secrets = new SecretsResource(this);
  }

  /** @internal Sends one API call with retries; resources use it. */
  async request<T>(call: Call): Promise<T> {
    const query = encodeForm(call.params);
    const url = `${this.baseUrl}${call.path}${call.method === 'GET' && query ? `?${query}` : ''}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.config.apiKey}`,
      Accept: 'application/json',
      'Content-Type': 'application/x-www-form-urlencoded',
    };
    const account = call.options?.stripeAccount ?? this.config.stripeAccount;
    if (account) headers['Stripe-Account'] = account;
    if (this.config.stripeVersion) headers['Stripe-Version'] = this.config.stripeVersion;
    // Every POST carries a key, so a retry after a lost answer cannot act twice.
    if (call.method === 'POST')
      headers['Idempotency-Key'] = call.options?.idempotencyKey ?? `secret-store-client-${randomKey()}`;
    const body = call.method === 'POST' ? query : undefined;

    for (let attempt = 0; ; attempt++) {
      let error: SecretStoreError;
      try {
        return await this.attempt<T>(url, call.method, headers, body, call.options?.signal);
      } catch (thrown) {
        error = thrown as SecretStoreError;
        if (!(error instanceof Error) || call.options?.signal?.aborted) throw thrown;
      }
      if (attempt >= this.maxRetries || !shouldRetry(error)) throw error;
      await sleep(this.retryDelay(attempt + 1));
    }
  }

  private retryDelay(retry: number): number {
    const base = Math.min(this.minRetryDelayMs * 2 ** (retry - 1), MAX_RETRY_DELAY_MS);
    return Math.max(this.minRetryDelayMs, base * (0.5 + Math.random() / 2));
  }

  private async attempt<T>(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (thrown) {
      const reason = timeout.aborted ? `timed out after ${this.timeoutMs} ms` : (thrown as Error).message;
      throw new ConnectionError({ message: `Could not reach the Secret Store at ${this.baseUrl}: ${reason}` });
    }
    const requestId = response.headers.get('request-id') ?? undefined;
    const retryHeader = response.headers.get('stripe-should-retry');
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw errorFromResponse({
        message: `Invalid JSON received from the Secret Store (HTTP ${response.status})`,
        statusCode: response.status,
        requestId,
      });
    }
    const apiError = (json as { error?: Record<string, unknown> } | null)?.error;
    if (apiError && typeof apiError === 'object') {
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      throw errorFromResponse({
        message: str(apiError.message) ?? `HTTP ${response.status}`,
        type: str(apiError.type),
        code: str(apiError.code),
        param: str(apiError.param),
        docUrl: str(apiError.doc_url),
        statusCode: response.status,
        requestId,
        shouldRetry: retryHeader === null ? undefined : retryHeader === 'true',
      });
    }
    return json as T;
  }
}

/** stripe-node's rule: the server's Stripe-Should-Retry wins; else connection errors, 409 and 5xx. */
function shouldRetry(error: SecretStoreError): boolean {
  if (error.shouldRetry !== undefined) return error.shouldRetry;
  if (error instanceof ConnectionError) return true;
  const status = error.statusCode ?? 0;
  return status === 409 || status >= 500;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SecretsResource {
  constructor(private readonly client: SecretStoreClient) {}

  /** Creates a secret, or replaces the one with the same name in the same scope. */
  create(params: CreateSecretParams, options?: RequestOptions): Promise<Secret> {
    return this.client.request({
      method: 'POST',
      path: '/v1/apps/secrets',
      params: {
        name: params.name,
        payload: params.payload,
        scope: { ...params.scope },
        expires_at: params.expiresAt,
        expand: params.expand,
      },
      options,
    });
  }

  /** Finds a secret by name and scope; expand `payload` to get the value. */
  find(params: FindSecretParams, options?: RequestOptions): Promise<Secret> {
    return this.client.request({
      method: 'GET',
      path: '/v1/apps/secrets/find',
      params: { name: params.name, scope: { ...params.scope }, expand: params.expand },
      options,
    });
  }

  /** Deletes a secret by name and scope. */
  deleteWhere(params: DeleteSecretParams, options?: RequestOptions): Promise<DeletedSecret> {
    return this.client.request({
      method: 'POST',
      path: '/v1/apps/secrets/delete',
      params: { name: params.name, scope: { ...params.scope } },
      options,
    });
  }

  /** One page of a scope's secrets, newest first. */
  list(params: ListSecretsParams, options?: RequestOptions): Promise<SecretList> {
    return this.client.request({
      method: 'GET',
      path: '/v1/apps/secrets',
      params: {
        scope: { ...params.scope },
        limit: params.limit,
        starting_after: params.startingAfter,
        ending_before: params.endingBefore,
        expand: params.expand,
      },
      options,
    });
  }

  /** Every secret of a scope, following `starting_after` from page to page. */
  async *listAll(params: Omit<ListSecretsParams, 'endingBefore'>, options?: RequestOptions): AsyncGenerator<Secret> {
    let startingAfter = params.startingAfter;
    for (;;) {
      const page = await this.list({ ...params, startingAfter }, options);
      yield* page.data;
      const last = page.data.at(-1);
      if (!page.has_more || !last) return;
      startingAfter = last.id;
    }
  }
}
