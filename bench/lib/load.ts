import autocannon from 'autocannon';

/** How one response counts: the work asked for, an answer the scenario intends (429, 503), or an error. */
export type Outcome = 'ok' | 'intended' | 'error';

export interface LoadSpec {
  title: string;
  /**
   * Always 127.0.0.1 URLs: load never leaves the machine. Several URLs (replicas) share the
   * connections in turn, autocannon's own balancing: one histogram, no proxy in between.
   */
  baseUrl: string | readonly string[];
  method: 'GET' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  /** Request paths, used in turn (one entry: a fixed path). */
  paths: readonly string[];
  /** Request bodies, used in turn; empty for none. */
  bodies?: readonly string[];
  connections: number;
  durationSeconds: number;
  /** Send exactly this many requests (each body once), still bounded by durationSeconds × 3. */
  amount?: number;
  /** Requests per second over all connections; unlimited when absent. */
  overallRate?: number;
  /** Hard stop after this many seconds (default: durationSeconds × 3 + 5). */
  maxSeconds?: number;
  /** Stops the run early when this settles. */
  until?: Promise<unknown>;
  classify(status: number, body: string): Outcome;
}

export interface LoadResult {
  title: string;
  seconds: number;
  responses: number;
  ok: number;
  intended: number;
  errors: number;
  /** ok responses per second */
  rps: number;
  /** all responses per second */
  responsesPerSecond: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  statuses: Record<string, number>;
  /** a sample body of the first unexpected answer, to explain errors */
  firstError?: string;
  /** CLOCK_MONOTONIC microseconds, the clock of V8 CPU profiles: which samples belong to this run */
  windowUs: [number, number];
}

const REQUEST_TIMEOUT_SECONDS = 10;

function assertLoopback(url: string): void {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`load is only ever sent to 127.0.0.1, not ${hostname}`);
}

/** Runs one autocannon instance over loopback and counts every answer with spec.classify. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const urls = typeof spec.baseUrl === 'string' ? [spec.baseUrl] : spec.baseUrl;
  for (const url of urls) assertLoopback(url);
  const counts = { ok: 0, intended: 0, error: 0 };
  const statuses: Record<string, number> = {};
  let firstError: string | undefined;
  let cursor = 0;
  const bodies = spec.bodies ?? [];
  const paths = spec.paths;
  const rotating = bodies.length > 1 || paths.length > 1;

  const request: autocannon.Request = {
    method: spec.method,
    path: paths[0],
    headers: { ...(bodies.length > 0 ? { 'content-type': 'application/json' } : {}), ...spec.headers },
    ...(bodies.length > 0 ? { body: bodies[0] } : {}),
    ...(rotating
      ? {
          setupRequest: (req: autocannon.Request) => {
            const index = cursor++;
            if (bodies.length > 1) req.body = bodies[index % bodies.length];
            if (paths.length > 1) req.path = paths[index % paths.length];
            return req;
          },
        }
      : {}),
    onResponse: (status: number, body: string) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      const outcome = spec.classify(status, body);
      counts[outcome === 'intended' ? 'intended' : outcome]++;
      if (outcome === 'error' && firstError === undefined) firstError = `${status} ${body.slice(0, 300)}`;
    },
  };

  const started = process.hrtime.bigint();
  const instance = autocannon({
    // autocannon takes a list of URLs and gives connection i the URL i % length; @types/autocannon
    // only knows the single string.
    url: (urls.length === 1 ? urls[0]! : [...urls]) as string,
    connections: spec.connections,
    pipelining: 1,
    timeout: REQUEST_TIMEOUT_SECONDS,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationSeconds }),
    ...(spec.overallRate !== undefined ? { overallRate: spec.overallRate } : {}),
    requests: [request],
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  // An amount-bounded run still ends in bounded time.
  const guard = setTimeout(() => instance.stop(), (spec.maxSeconds ?? spec.durationSeconds * 3 + 5) * 1000);
  void spec.until?.then(() => instance.stop());
  let result: autocannon.Result;
  try {
    result = await instance;
  } finally {
    clearTimeout(guard);
  }
  const ended = process.hrtime.bigint();
  const seconds = Number(ended - started) / 1e9;
  const socketErrors = result.errors;
  if (socketErrors > 0 && firstError === undefined) firstError = `${socketErrors} socket errors or timeouts`;
  const responses = counts.ok + counts.intended + counts.error;
  return {
    title: spec.title,
    seconds,
    responses,
    ok: counts.ok,
    intended: counts.intended,
    errors: counts.error + socketErrors,
    rps: counts.ok / seconds,
    responsesPerSecond: responses / seconds,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    statuses,
    ...(firstError !== undefined ? { firstError } : {}),
    windowUs: [Number(started / 1000n), Number(ended / 1000n)],
  };
}

/** A load that runs until `stop()` (bounded by maxSeconds), for what is measured alongside it; stop() answers its result. */
export function backgroundLoad(spec: Omit<LoadSpec, 'until'>): { stop(): Promise<LoadResult> } {
  let stop: () => void = () => {};
  const until = new Promise<void>((resolveStop) => (stop = resolveStop));
  const run = runLoad({ ...spec, until });
  // A failure surfaces through stop(); until then it must not count as unhandled.
  run.catch(() => undefined);
  return {
    stop: () => {
      stop();
      return run;
    },
  };
}
