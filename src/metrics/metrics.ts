/**
 * Prometheus metrics, on a registry of our own (never prom-client's global one), so two servers in
 * one process, or tests, do not share counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { elapsedMs, type RequestRecord } from '../logging/request-record.js';

export interface StoredCounts {
  readonly test: number;
  readonly live: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'secret_store_requests_total',
    help: 'API requests by operation and HTTP status',
    labelNames: ['operation', 'status'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'secret_store_request_duration_seconds',
    help: 'API request latency by operation',
    labelNames: ['operation'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly replays = new Counter({
    name: 'secret_store_idempotent_replays_total',
    help: 'Responses replayed for a repeated Idempotency-Key',
    registers: [this.registry],
  });
  private readonly sweeps = new Counter({
    name: 'secret_store_expiry_sweeps_total',
    help: 'Expiry sweeps run',
    registers: [this.registry],
  });
  private readonly swept = new Counter({
    name: 'secret_store_expired_secrets_deleted_total',
    help: 'Expired secrets deleted by sweeps',
    registers: [this.registry],
  });

  /**
   * `processMetrics`: also the process's own (CPU, memory, event loop delay), which watch the process
   * from the moment they are made; off where nothing serves the metrics (`startSecretStore`).
   */
  constructor(countStored: () => Promise<StoredCounts>, options: { readonly processMetrics?: boolean } = {}) {
    new Gauge({
      name: 'secret_store_secrets_stored',
      help: 'Secrets stored, by mode (expired ones not yet swept included)',
      labelNames: ['mode'],
      registers: [this.registry],
      async collect() {
        const counts = await countStored();
        this.set({ mode: 'test' }, counts.test);
        this.set({ mode: 'live' }, counts.live);
      },
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'secret_store_' });
  }

  observeRequest(record: RequestRecord): void {
    this.requests.inc({ operation: record.operation, status: String(record.status) });
    this.latency.observe({ operation: record.operation }, elapsedMs(record) / 1000);
    if (record.replayed) this.replays.inc();
  }

  observeSweep(deleted: number): void {
    this.sweeps.inc();
    this.swept.inc(deleted);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
