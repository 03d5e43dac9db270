import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { ImageFetchModule } from '@app/image-fetch';
import { InferenceModule } from '@app/inference';
import { validateEnvironment, type EnvironmentVariables } from './config/environment';
import { DataPlaneModule } from './data-plane/data-plane.module';
import { DemoModule } from './demo/demo.module';
import { GrpcModule } from './grpc/grpc.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { ModelsModule } from './models/models.module';
import { MonitorModule } from './monitor/monitor.module';
import { wantsPrettyLogs } from './observability/logging';
import { LoggingModule } from './observability/logging.module';
import { MetricsModule } from './observability/metrics.module';
import { TracingModule } from './observability/tracing/tracing.module';
import { PredictionLogModule } from './prediction-log/prediction-log.module';
import { PredictionsModule } from './predictions/predictions.module';
import { ProblemDetailsFilter } from './problem/problem-details.filter';
import { SecurityModule } from './security/security.module';
import { SeedModule } from './seed/seed.module';
import { OpenInferenceModule } from './open-inference/open-inference.module';

type Config = ConfigService<EnvironmentVariables, true>;

export interface AppModuleOptions {
  /** Write no logs (tests, the OpenAPI script); request ids and metrics still work. */
  quiet?: boolean;
}

@Module({})
export class AppModule {
  /** The whole API, configured from `env` (validated here, so a bad value stops the start). */
  static forRoot(
    env: Record<string, string | undefined> = process.env,
    options: AppModuleOptions = {},
  ): DynamicModule {
    const config = validateEnvironment(env);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          skipProcessEnv: true,
          load: [() => ({ ...config })],
        }),
        InferenceModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (c: Config) => ({
            manifestPath: c.get('MODEL_MANIFEST'),
            modelDir: c.get('MODEL_DIR'),
            modelStore: c.get('MODEL_STORE'),
            defaultModel: c.get('DEFAULT_MODEL'),
            storePollSeconds: c.get('MODEL_STORE_POLL_SECONDS'),
            maxLoaded: c.get('MODEL_STORE_MAX_LOADED'),
            pinned: c.get('MODEL_STORE_PINNED'),
            loadWaitMs: c.get('MODEL_LOAD_WAIT_SECONDS') * 1000,
            warmup: c.get('MODEL_WARMUP'),
            workers: c.get('INFERENCE_WORKERS'),
            threadsPerWorker: c.get('INFERENCE_THREADS_PER_WORKER'),
            queueSize: c.get('INFERENCE_QUEUE_SIZE'),
            backgroundWorkers: c.get('BACKGROUND_WORKERS'),
            backgroundQueueSize: c.get('BACKGROUND_QUEUE_SIZE'),
            timeoutMs: c.get('INFERENCE_TIMEOUT_MS'),
            floatEngine: c.get('INFERENCE_FLOAT_ENGINE'),
            maxImagePixels: c.get('MAX_IMAGE_PIXELS'),
            loadTimeoutMs: c.get('MODEL_LOAD_TIMEOUT_SECONDS') * 1000,
          }),
        }),
        ImageFetchModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (c: Config) => ({
            maxBytes: c.get('MAX_IMAGE_BYTES'),
            connectTimeoutMs: c.get('IMAGE_FETCH_CONNECT_TIMEOUT_MS'),
            totalTimeoutMs: c.get('IMAGE_FETCH_TIMEOUT_MS'),
            maxRedirects: c.get('IMAGE_FETCH_MAX_REDIRECTS'),
            allowedPorts: c.get('IMAGE_FETCH_ALLOWED_PORTS'),
            allowHosts: c.get('IMAGE_FETCH_ALLOW_HOSTS'),
          }),
        }),
        LoggingModule.forRoot({
          level: config.LOG_LEVEL,
          quiet: options.quiet ?? false,
          pretty: wantsPrettyLogs(env),
        }),
        LifecycleModule,
        MetricsModule,
        TracingModule.forRoot(env),
        SecurityModule.forRoot({
          apiKeys: config.API_KEYS,
          rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
        }),
        DataPlaneModule,
        PredictionLogModule,
        SeedModule,
        PredictionsModule,
        JobsModule,
        ModelsModule,
        HealthModule,
        OpenInferenceModule,
        DemoModule,
        MonitorModule,
        GrpcModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
