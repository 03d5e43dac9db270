import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModelLoader } from '@app/inference';
import { createApp } from './app.factory';
import { ConfigurationError, type EnvironmentVariables } from './config/environment';
import { installGracefulShutdown } from './lifecycle/graceful-shutdown';

async function bootstrap(): Promise<void> {
  const started = performance.now();
  const app = await createApp(process.env);
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  const logger = new Logger('Bootstrap');
  installGracefulShutdown(app, { drainTimeoutMs: config.get('SHUTDOWN_DRAIN_TIMEOUT_MS'), logger });
  // Listen before the model is loaded: Heroku kills a dyno that has not bound $PORT within 60 s.
  await app.listen(config.get('PORT'), config.get('HOST'));
  const address = await app.getUrl();
  logger.log(`Listening on ${address} (docs at ${address}/docs); loading the model in the background`);
  const state = await app.get(ModelLoader).load();
  const elapsed = Math.round(performance.now() - started);
  if (state.status === 'ready') {
    const { resolved, runtime } = state.model;
    logger.log(
      `Ready on ${address}: model ${resolved.manifest.name}@${resolved.manifest.version} on ${runtime.engine}/${runtime.backend}, ${elapsed} ms to ready`,
    );
  } else if (state.status === 'failed') {
    logger.warn(`Serving without a model (readiness stays 503): ${state.reason}`);
  }
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigurationError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `Start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
