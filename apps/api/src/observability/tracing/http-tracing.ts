import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { endSpan, traceparentOf, wallClockMs } from '@app/telemetry';
import { routePattern, UNMATCHED_ROUTE } from '../http-metrics';
import { setServerSpan } from './server-spans';

/**
 * Probes and scrapes are not traced: a span every few seconds per replica would bury the requests that matter.
 * `/health/*`, `/v2/health/*`, `/v2/models/{name}[/versions/{version}]/ready` and `/metrics`.
 */
export const isUntracedPath = (path: string): boolean =>
  path === '/metrics' ||
  path.startsWith('/health/') ||
  path.startsWith('/v2/health/') ||
  (path.startsWith('/v2/models/') && path.endsWith('/ready'));

const pathOf = (url: string): string => url.split('?')[0];

/**
 * The server span of every HTTP request (but probes and scrapes): a child of the caller's `traceparent` (and
 * `tracestate`, `baggage`) when it sent one, named `METHOD /route/pattern` once routed, with the HTTP semantic
 * conventions' attributes. The response carries the span's `traceparent`, so a caller without a tracer can still
 * quote the trace. Mounted first, so every later middleware and handler runs in the span's context.
 */
export function httpTracing(): RequestHandler {
  const tracer = trace.getTracer('food-vision-api');
  return (request: Request, response: Response, next: NextFunction) => {
    const path = pathOf(request.url);
    if (isUntracedPath(path)) return next();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      request.method,
      {
        kind: SpanKind.SERVER,
        startTime: wallClockMs(),
        attributes: {
          'http.request.method': request.method,
          'url.path': path,
          'url.scheme': request.protocol,
          'network.protocol.version': request.httpVersion,
          'client.address': request.socket.remoteAddress ?? '',
          'user_agent.original': request.headers['user-agent'] ?? '',
        },
      },
      parent,
    );
    setServerSpan(request, span);
    response.setHeader('traceparent', traceparentOf(span));
    const active = trace.setSpan(parent, span);
    // Body parsers and multer call on from stream events, which would otherwise run outside the request's context.
    context.bind(active, request);
    context.bind(active, response);
    response.once('close', () => endServerSpan(span, request, response));
    context.with(active, next);
  };
}

function endServerSpan(span: Span, request: Request, response: Response): void {
  const route = routePattern(request);
  if (route !== UNMATCHED_ROUTE) {
    span.updateName(`${request.method} ${route}`);
    span.setAttribute('http.route', route);
  }
  span.setAttribute('http.response.status_code', response.statusCode);
  if (!response.writableFinished) {
    span.setAttribute('error.type', 'client_closed_request');
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: 'The client closed the connection before the answer.',
    });
  } else if (response.statusCode >= 500) {
    span.setAttribute('error.type', String(response.statusCode));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  endSpan(span);
}
