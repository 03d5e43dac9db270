import { type LogLevel } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { EnvironmentVariables } from './config/environment';
import { buildOpenApiDocument, setupSwaggerUi } from './openapi/openapi-document';

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export interface CreateAppOptions {
  /** false silences Nest's logger (tests, the OpenAPI script). */
  logger?: false;
}

/** Builds the configured app (body limits, CORS, Swagger UI) without listening; shared by main, tests and scripts. */
export async function createApp(
  env: Record<string, string | undefined> = process.env,
  options: CreateAppOptions = {},
): Promise<NestExpressApplication> {
  const module = AppModule.forRoot(env);
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bodyParser: false,
    logger:
      options.logger ?? LOG_LEVELS.slice(0, LOG_LEVELS.indexOf((env.LOG_LEVEL as LogLevel) ?? 'log') + 1),
  });
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  // Base64 inflates by 4/3; leave room for the JSON around it.
  const jsonLimit = Math.ceil((config.get('MAX_IMAGE_BYTES') * 4) / 3) + 64 * 1024;
  app.useBodyParser('json', { limit: jsonLimit });
  const origins = config.get('CORS_ORIGINS', { infer: true });
  app.enableCors({ origin: origins.includes('*') ? true : origins, credentials: true });
  app.disable('x-powered-by');
  setupSwaggerUi(app, buildOpenApiDocument(app));
  app.enableShutdownHooks();
  return app;
}
