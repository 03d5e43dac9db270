import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, Registry } from 'prom-client';
import { exemplarOf, observeTraced } from './exemplars';
import { LATENCY_BUCKETS, METRIC_PREFIX } from './metrics-registry';
import { serverSpanOf } from './tracing/server-spans';

type HttpLabel = 'method' | 'route' | 'status';

/** Label for requests that no route handled (404s, Swagger UI assets): the raw URL would make cardinality unbounded. */
export const UNMATCHED_ROUTE = 'none';

/**
 * Counts and times every HTTP request by method, route pattern (`/v1/models/:name`, never the raw URL) and status.
 * Mounted as the first Express middleware so requests that fail before routing (body too large) count too.
 */
@Injectable()
export class HttpMetrics {
  private readonly requests: Counter<HttpLabel>;
  private readonly duration: Histogram<HttpLabel>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by method, route pattern and status (`aborted` when the client left first).',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request latency from the first byte read to the last byte written, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      enableExemplars: true,
      registers: [registry],
    });
  }

  readonly middleware = (request: Request, response: Response, next: NextFunction): void => {
    const started = performance.now();
    response.once('close', () => {
      const labels = {
        method: request.method,
        route: routePattern(request),
        status: response.writableFinished ? String(response.statusCode) : 'aborted',
      };
      // Outside the request's async context here: the exemplar comes from the request's own server span.
      const exemplar = exemplarOf(serverSpanOf(request));
      observeTraced(this.duration, labels, (performance.now() - started) / 1000, exemplar);
      this.requests.inc(labels);
    });
    next();
  };
}

/** The pattern of the route that handled the request, e.g. `/v1/models/:name`. */
export function routePattern(request: Request): string {
  const { route } = request as unknown as { route?: { path?: unknown } };
  return typeof route?.path === 'string' ? `${request.baseUrl ?? ''}${route.path}` : UNMATCHED_ROUTE;
}
