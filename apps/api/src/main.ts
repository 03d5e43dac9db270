import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModelRegistry } from '@app/inference';
import { createApp } from './app.factory';
import { ConfigurationError, type EnvironmentVariables } from './config/environment';
import { servingEnvironment } from './config/serving-environment';
import { GrpcFrontEnd } from './grpc/grpc-front-end';
import { installGracefulShutdown } from './lifecycle/graceful-shutdown';

async function bootstrap(): Promise<void> {
  const started = performance.now();
  // KServe's flags (--model_name, --model_dir, --http_port, --grpc_port), merged into the environment.
  const serving = await servingEnvironment(process.argv.slice(2), process.env);
  const app = await createApp(serving.env);
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  const logger = new Logger('Bootstrap');
  serving.notes.forEach((note) => logger.log(note));
  serving.warnings.forEach((warning) => logger.warn(warning));
  const grpc = app.get(GrpcFrontEnd);
  installGracefulShutdown(app, {
    drainTimeoutMs: config.get('SHUTDOWN_DRAIN_TIMEOUT_MS'),
    logger,
    alsoDrain: [grpc],
  });
  // Listen before the model is loaded: Heroku kills a dyno that has not bound $PORT within 60 s.
  await app.listen(config.get('PORT'), config.get('HOST'));
  const address = await app.getUrl();
  const grpcPort = config.get('GRPC_PORT', { infer: true });
  const grpcNote =
    grpcPort === undefined
      ? ''
      : `, gRPC on ${config.get('HOST')}:${await grpc.start(grpcPort, config.get('HOST'))}${grpc.tls ? ' (TLS)' : ''}`;
  logger.log(
    `Listening on ${address} (docs at ${address}/docs)${grpcNote}; loading the model in the background`,
  );
  const state = await app.get(ModelRegistry).load();
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
