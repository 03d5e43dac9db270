import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { Logger, PinoLogger } from 'nestjs-pino';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { EnvironmentVariables } from './config/environment';
import { refuseDeclaredOversize } from './http/declared-length';
import { lingeringClose } from './http/lingering-close';
import { applyHttpTimeouts } from './http/http-timeouts';
import { verifyJsonDepth } from './http/json-depth';
import { InFlightRequests } from './lifecycle/in-flight-requests';
import { isJobUpload } from './jobs/job-upload';
import { HttpMetrics } from './observability/http-metrics';
import { requestLogContext } from './observability/logging';
import { HTTP_LOGGER } from './observability/logging.module';
import { httpTracing } from './observability/tracing/http-tracing';
import { TracingState } from './observability/tracing/tracing.module';
import { buildOpenApiDocument, setupSwaggerUi } from './openapi/openapi-document';
import { corsPolicy } from './security/cors-policy';
import { securityHeaders } from './security/security-headers';

export interface CreateAppOptions {
  /** false writes no logs at all (tests, the OpenAPI script); otherwise JSON logs through pino (LOG_LEVEL). */
  logger?: false;
}

/** Builds the configured app (body limits, CORS, Swagger UI) without listening; shared by main, tests and scripts. */
export async function createApp(
  env: Record<string, string | undefined> = process.env,
  options: CreateAppOptions = {},
): Promise<NestExpressApplication> {
  const quiet = options.logger === false;
  const module = AppModule.forRoot(env, { quiet });
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bodyParser: false,
    ...(quiet ? { logger: false } : { bufferLogs: true }),
  });
  if (!quiet) app.useLogger(app.get(Logger));
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  // First, before the body parsers: every request gets a span (when tracing), an id, an access line, a metric and
  // a drain slot.
  if (app.get(TracingState).enabled) app.use(httpTracing());
  app.use(app.get<RequestHandler>(HTTP_LOGGER));
  app.use(requestLogContext(await app.resolve(PinoLogger)));
  app.use(app.get(InFlightRequests).middleware);
  app.use(app.get(HttpMetrics).middleware);
  // A refused body still arriving is read off the wire after the answer, so every client gets the status.
  app.use(lingeringClose());
  // Before anything can answer (body-parser errors included), so every response carries them.
  app.use(securityHeaders());
  const proxyHops = config.get('TRUST_PROXY_HOPS', { infer: true });
  if (proxyHops > 0) app.set('trust proxy', proxyHops);
  // Base64 inflates by 4/3; leave room for the JSON around it.
  const jsonLimit = Math.ceil((config.get('MAX_IMAGE_BYTES') * 4) / 3) + 64 * 1024;
  // express.json itself rather than useBodyParser, whose types drop `verify`: the depth check runs before parsing.
  // No route reads more than this: JSON, or a multipart image with its form fields (8 × 64 KiB, predictions.module).
  const bodyLimit = refuseDeclaredOversize(jsonLimit + 8 * 64 * 1024);
  // A job's JSONL list or archive has its own limit (JOBS_MAX_ARCHIVE_BYTES), applied as it is streamed to disk.
  app.use((request: Request, response: Response, next: NextFunction) =>
    isJobUpload(request) ? next() : bodyLimit(request, response, next),
  );
  app.use(json({ limit: jsonLimit, verify: verifyJsonDepth(config.get('MAX_JSON_DEPTH')) }));
  applyHttpTimeouts(app.getHttpServer(), config.get('HTTP_REQUEST_TIMEOUT_MS'));
  const origins = config.get('CORS_ORIGINS', { infer: true });
  app.enableCors(corsPolicy(origins));
  app.disable('x-powered-by');
  setupSwaggerUi(app, buildOpenApiDocument(app));
  // No enableShutdownHooks(): main.ts installs the graceful shutdown (drain, then exit 0), see lifecycle/.
  return app;
}
