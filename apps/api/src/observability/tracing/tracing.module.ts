import { type DynamicModule, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Registry } from 'prom-client';
import { startTracing, type Tracing } from './tracing-sdk';
import { tracingSettings } from './tracing-settings';

/** Longest the last export may take when the service stops (the shutdown hooks get 5 s in all). */
const FLUSH_AT_EXIT_MS = 2_000;

/** Whether this app traces, and the SDK to flush when it stops. */
export class TracingState implements OnApplicationShutdown {
  constructor(private readonly tracing?: Tracing) {}

  get enabled(): boolean {
    return this.tracing !== undefined;
  }

  /**
   * Sends the spans still queued (Nest calls this from app.close(), after the drain), for at most
   * FLUSH_AT_EXIT_MS: a collector that is down must not hold the process past its shutdown budget.
   */
  async onApplicationShutdown(): Promise<void> {
    if (!this.tracing) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_AT_EXIT_MS)));
    await Promise.race([this.tracing.shutdown().catch(() => undefined), late]);
    clearTimeout(timer);
  }
}

/**
 * OpenTelemetry tracing, configured by the specification's OTEL_* environment variables (tracing-settings.ts);
 * off, and nothing registered, when none asks for it.
 */
@Module({})
export class TracingModule {
  static forRoot(env: Record<string, string | undefined>): DynamicModule {
    return {
      module: TracingModule,
      global: true,
      providers: [
        {
          provide: TracingState,
          inject: [Registry],
          useFactory: async (registry: Registry) => {
            const logger = new Logger('Tracing');
            const { settings, why, warnings } = tracingSettings(env);
            warnings.forEach((warning) => logger.warn(warning));
            if (!settings) {
              logger.debug?.(`Tracing off: ${why}`);
              return new TracingState();
            }
            logger.log(`Tracing on: ${why}`);
            return new TracingState(await startTracing(settings, registry));
          },
        },
      ],
      exports: [TracingState],
    };
  }
}
