import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { PinoLogger } from 'nestjs-pino';
import { pino, stdTimeFunctions, type Level, type Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id';

/** Nest's level names (LOG_LEVEL) to pino's. */
const PINO_LEVELS: Record<string, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Probes and scrapes arrive every few seconds; an access line for each would drown the rest. */
const UNLOGGED_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/** Header values that are credentials; the request serializer leaves headers out, this is the second fence. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export interface LoggingSettings {
  /** LOG_LEVEL, in Nest's names. */
  level: string;
  /** Nothing is written (tests, the OpenAPI script); request ids still work. */
  quiet: boolean;
  /** Human-readable lines through pino-pretty instead of JSON. */
  pretty: boolean;
}

/** Pretty logs for a developer at a terminal; JSON everywhere else (containers, CI, NODE_ENV=production). */
export function wantsPrettyLogs(env: Record<string, string | undefined>): boolean {
  if (process.stdout.isTTY !== true || env.NODE_ENV === 'production') return false;
  try {
    require.resolve('pino-pretty'); // a devDependency: absent from the production image
    return true;
  } catch {
    return false;
  }
}

/**
 * `trace_id` and `span_id` of the span active where a line is written, so the lines written while serving a
 * traced request lead to its trace. Without tracing there is no active span and nothing is added. A new object
 * each time: pino merges the line into it.
 */
export function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const context = span.spanContext();
  return isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
}

export function createRootLogger(settings: LoggingSettings): Logger {
  const options = {
    mixin: traceFields,
    level: settings.quiet ? 'silent' : (PINO_LEVELS[settings.level] ?? 'info'),
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    transport: settings.pretty
      ? {
          target: 'pino-pretty',
          options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
        }
      : undefined,
  };
  if (settings.pretty || settings.quiet) return pino(options);
  // Asynchronous writes: a synchronous write(2) per access line cost the event loop about a tenth of its time
  // under load (docs/performance.md). Lines written while one write is in flight go out together with the next;
  // pino flushes what is left when the process exits.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

const pathOf = (url: string | undefined): string => (url ?? '/').split('?')[0];

/**
 * The access log and request id middleware: reuses a safe `X-Request-Id` or makes one, echoes it in the response,
 * and logs one line per request with method, path (never the query: it can carry signed image URLs), status and
 * time. No headers and no bodies are logged, so neither images nor API keys reach the logs.
 */
export function createHttpLogger(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (request: IncomingMessage, response: ServerResponse) => {
      const id = resolveRequestId(request.headers['x-request-id']);
      response.setHeader(REQUEST_ID_HEADER, id);
      return id;
    },
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    quietReqLogger: true,
    autoLogging: { ignore: (request) => UNLOGGED_PATHS.has(pathOf(request.url)) },
    customLogLevel: (_request, response, error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
    customSuccessMessage: (request, response) =>
      `${request.method} ${pathOf(request.url)} ${response.statusCode}`,
    customErrorMessage: (request, response) =>
      `${request.method} ${pathOf(request.url)} ${response.statusCode}`,
    serializers: {
      req: (request: {
        method?: string;
        url?: string;
        remoteAddress?: string;
        headers?: Record<string, unknown>;
      }) => ({
        method: request.method,
        path: pathOf(request.url),
        remote_address: request.remoteAddress,
        user_agent: request.headers?.['user-agent'],
        content_length: request.headers?.['content-length'],
      }),
      res: (response: { statusCode?: number }) => ({ status: response.statusCode }),
    },
  });
}

/** Binds the request id to every log Nest's Logger writes while handling the request (after the access logger). */
export function requestLogContext(logger: PinoLogger): RequestHandler {
  return (request: Request, _response: Response, next: NextFunction) =>
    logger.runInContext(next, { bindings: { request_id: (request as Request & { id?: unknown }).id } });
}
