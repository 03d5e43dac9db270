import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { ImageFetchModule } from '@app/image-fetch';
import { InferenceModule } from '@app/inference';
import { validateEnvironment, type EnvironmentVariables } from './config/environment';
import { HealthModule } from './health/health.module';
import { ModelsModule } from './models/models.module';
import { PredictionsModule } from './predictions/predictions.module';
import { ProblemDetailsFilter } from './problem/problem-details.filter';

type Config = ConfigService<EnvironmentVariables, true>;

@Module({})
export class AppModule {
  /** The whole API, configured from `env` (validated here, so a bad value stops the start). */
  static forRoot(env: Record<string, string | undefined> = process.env): DynamicModule {
    const config = validateEnvironment(env);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => ({ ...config })] }),
        InferenceModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (c: Config) => ({
            manifestPath: c.get('MODEL_MANIFEST'),
            modelDir: c.get('MODEL_DIR'),
            warmup: c.get('MODEL_WARMUP'),
          }),
        }),
        ImageFetchModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (c: Config) => ({
            maxBytes: c.get('MAX_IMAGE_BYTES'),
            maxPixels: c.get('MAX_IMAGE_PIXELS'),
            connectTimeoutMs: c.get('IMAGE_FETCH_CONNECT_TIMEOUT_MS'),
            totalTimeoutMs: c.get('IMAGE_FETCH_TIMEOUT_MS'),
            maxRedirects: c.get('IMAGE_FETCH_MAX_REDIRECTS'),
            allowedPorts: c.get('IMAGE_FETCH_ALLOWED_PORTS'),
            allowHosts: c.get('IMAGE_FETCH_ALLOW_HOSTS'),
          }),
        }),
        PredictionsModule,
        ModelsModule,
        HealthModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
