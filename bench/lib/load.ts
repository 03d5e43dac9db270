import autocannon, { type Result } from 'autocannon';

export interface LoadResult {
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  total: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts (not HTTP statuses). */
  errors: number;
  /** CPU time per request of the server under test, when measured: whole process, and its event-loop thread. */
  cpuPerRequest?: { processMs: number; mainThreadMs: number };
}

export interface RequestBody {
  headers: Record<string, string>;
  body: Buffer;
}

/** One multipart/form-data upload of `bytes` as field `image`, the way browsers and curl -F send it. */
export function multipartUpload(file: string, bytes: Buffer): RequestBody {
  const boundary = '----food-vision-bench-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${file}"\r\nContent-Type: image/jpeg\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat([head, bytes, tail]),
  };
}

export function jsonBody(value: unknown): RequestBody {
  return { headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)) };
}

function summarise(result: Result, connections: number): LoadResult {
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {}))
    statuses[code] = Number(count);
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    connections,
    // Completed responses over the run's own duration (autocannon's per-second average drops partial seconds).
    requestsPerSecond: total / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    total,
    statuses,
    errors: result.errors + result.timeouts,
  };
}

/**
 * Sends POSTs to `url` from `connections` concurrent connections, cycling through `bodies`, for `duration`
 * seconds or `amount` requests.
 */
export async function postLoad(options: {
  url: string;
  connections: number;
  bodies: RequestBody[];
  duration?: number;
  amount?: number;
}): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration }),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const { headers, body } = options.bodies[next++ % options.bodies.length];
          return { ...request, headers: { ...request.headers, ...headers }, body };
        },
      },
    ],
  });
  return summarise(result, options.connections);
}

/**
 * A probe's view of the service: GETs `url` from one connection, `perSecond` times a second, for `duration`
 * seconds (a Kubernetes probe comes every few seconds; 50 a second gives enough samples for a p99).
 */
export async function probeLoad(url: string, duration: number, perSecond = 50): Promise<LoadResult> {
  return summarise(
    await autocannon({ url, connections: 1, duration, timeout: 30, overallRate: perSecond }),
    1,
  );
}
