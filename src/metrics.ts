import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Counts kept by a verification cache as plain numbers; read only when Prometheus scrapes. */
export interface VerifyCacheStats {
  readonly hits: number;
  readonly misses: number;
}

export interface MetricsSources {
  /** Callers waiting for an argon2 slot (SecretHasher). */
  hashQueueDepth: () => number;
  /** Resolves when the database answers; the scrape sets latchkey_store_up from it. */
  pingStore: () => Promise<void>;
}

const STORE_PING_TIMEOUT_MS = 1000;

/** A counter's collect(): its series are set from plain counts kept by the hot path. */
function collectCounts<L extends Record<string, string | number>>(counts: ReadonlyMap<string, { labels: L; value: number }>) {
  return function (this: Counter<Extract<keyof L, string>>) {
    this.reset();
    for (const { labels, value } of counts.values()) this.inc(labels as never, value);
  };
}

// The verify hot path answers in well under a millisecond from the cache; argon2 misses take ms.
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The Prometheus series of one app, in a registry of its own (tests build many apps in one
 * process). Per-request work is one counter increment and one histogram observation (and one more
 * increment on a verification); everything else is read from plain numbers when Prometheus scrapes.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #caches: VerifyCacheStats[] = [];
  /**
   * Request and verification counts as plain numbers by label set, handed to prom-client when
   * Prometheus scrapes: prom-client validates and hashes the labels object on every `inc`, which
   * on a cached verification cost as much as the verification itself. Label values are route
   * templates, methods, statuses, kinds and codes, so the maps stay small.
   */
  readonly #requestCounts = new Map<string, { labels: { method: string; route: string; status: number }; value: number }>();
  readonly #verificationCounts = new Map<string, { labels: { kind: string; code: string }; value: number }>();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
    collect: collectCounts(this.#requestCounts),
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by route template',
    labelNames: ['route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly verifications = new Counter({
    name: 'latchkey_verifications_total',
    help: 'Verification answers, by credential kind and the answer’s code',
    labelNames: ['kind', 'code'] as const,
    registers: [this.registry],
    collect: collectCounts(this.#verificationCounts),
  });

  readonly invalidationLag = new Histogram({
    name: 'latchkey_invalidation_lag_seconds',
    help: 'Time from a revocation’s NOTIFY to the eviction of the cached credential on this replica',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  /** One answered request: its count by method, route template and status, and its duration by route template. */
  countRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    const count = this.#requestCounts.get(key);
    if (count) count.value++;
    else this.#requestCounts.set(key, { labels: { method, route, status }, value: 1 });
    this.httpDuration.observe({ route }, seconds);
  }

  /** A verification answer, by credential kind and code; `by` 0 shows the series at zero before any. */
  countVerification(kind: string, code: string, by = 1): void {
    const key = `${kind} ${code}`;
    const count = this.#verificationCounts.get(key);
    if (count) count.value += by;
    else this.#verificationCounts.set(key, { labels: { kind, code }, value: by });
  }

  constructor(sources: MetricsSources) {
    const caches = this.#caches;
    new Counter({
      name: 'latchkey_verify_cache_hits_total',
      help: 'Verifications answered from the in-memory cache',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(caches.reduce((sum, cache) => sum + cache.hits, 0));
      },
    });
    new Counter({
      name: 'latchkey_verify_cache_misses_total',
      help: 'Verifications not answered from the in-memory cache (a database read, and argon2 or a signature check)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(caches.reduce((sum, cache) => sum + cache.misses, 0));
      },
    });
    new Gauge({
      name: 'latchkey_hash_queue_depth',
      help: 'Callers waiting for an argon2 slot',
      registers: [this.registry],
      collect() {
        this.set(sources.hashQueueDepth());
      },
    });
    new Gauge({
      name: 'latchkey_store_up',
      help: '1 when the database answered a trivial query during this scrape, else 0',
      registers: [this.registry],
      async collect() {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('store ping timed out')), STORE_PING_TIMEOUT_MS);
        });
        try {
          await Promise.race([sources.pingStore(), timeout]);
          this.set(1);
        } catch {
          this.set(0);
        } finally {
          clearTimeout(timer);
        }
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Adds a credential family's verification cache to the hit and miss counters. */
  watchVerifyCache(stats: VerifyCacheStats): void {
    this.#caches.push(stats);
  }

  /**
   * Prometheus text. A labelled family without samples still prints its HELP and TYPE lines, so
   * every family is visible from start-up.
   */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The metrics listener: GET /metrics in Prometheus text format, nothing else, on its own port. */
export async function startMetricsServer(metrics: Metrics, port: number, host: string): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at GET /metrics\n');
      return;
    }
    metrics.render().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      () => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
