import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { createHttpLogger, createRootLogger, type LoggingSettings } from './logging';

/** The pino-http middleware; app.factory mounts it first so every request gets an id and an access line. */
export const HTTP_LOGGER = Symbol('HTTP_LOGGER');

/** Structured logs: one pino logger behind Nest's Logger and the access log, request-scoped via nestjs-pino. */
@Module({})
export class LoggingModule {
  static forRoot(settings: LoggingSettings): DynamicModule {
    const logger = createRootLogger(settings);
    return {
      module: LoggingModule,
      global: true,
      // useExisting + no routes: the request logger comes from our own pino-http, mounted by app.factory before the
      // body parsers (nestjs-pino's own middleware would be registered as catch-all routes, polluting route matching).
      imports: [LoggerModule.forRoot({ pinoHttp: { logger }, useExisting: true, forRoutes: [] })],
      providers: [{ provide: HTTP_LOGGER, useValue: createHttpLogger(logger) }],
      exports: [HTTP_LOGGER],
    };
  }
}
