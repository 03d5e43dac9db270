import { readFileSync } from 'node:fs';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/environment';
import { InferenceDataPlane } from '../data-plane/inference-data-plane';
import { ServingState } from '../data-plane/serving-state';
import { TracingState } from '../observability/tracing/tracing.module';
import { ApiKeySet } from '../security/api-key-set';
import type { CallWrapperDeps } from './grpc-call';
import { widenFlowControlWindows } from './flow-control';
import { GrpcMetrics } from './grpc-metrics';
import { healthServiceHandlers } from './health-service.handlers';
import { inferenceServiceHandlers } from './inference-service.handlers';
import { loadProtocolDefinition } from './protocol-definition';

/**
 * The largest message accepted: the REST body limit (base64 of MAX_IMAGE_BYTES plus 64 KiB), so whatever REST
 * takes, gRPC takes; larger messages get RESOURCE_EXHAUSTED from grpc-js before any parsing.
 */
export function maxMessageBytes(maxImageBytes: number): number {
  return Math.ceil((maxImageBytes * 4) / 3) + 64 * 1024;
}

/** The Open Inference Protocol over gRPC (plus health and reflection), beside the HTTP server; off unless GRPC_PORT is set. */
@Injectable()
export class GrpcFrontEnd implements OnApplicationShutdown {
  readonly name = 'gRPC';
  private readonly logger = new Logger('Grpc');
  private server?: Server;
  private active = 0;
  private boundPort?: number;

  constructor(
    private readonly config: ConfigService<EnvironmentVariables, true>,
    private readonly serving: ServingState,
    private readonly dataPlane: InferenceDataPlane,
    private readonly metrics: GrpcMetrics,
    private readonly tracing: TracingState,
  ) {}

  /** Calls being answered. */
  get inFlight(): number {
    return this.active;
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  get tls(): boolean {
    return this.config.get('GRPC_TLS_CERT', { infer: true }) !== undefined;
  }

  /** Binds `host:port` (port 0: any free one) and serves; resolves with the bound port. */
  async start(port: number, host: string): Promise<number> {
    if (this.server) throw new Error('The gRPC server is already started.');
    const limit = maxMessageBytes(this.config.get('MAX_IMAGE_BYTES', { infer: true }));
    const server = new Server({
      'grpc.max_receive_message_length': limit,
      'grpc.max_send_message_length': limit,
    });
    const definition = loadProtocolDefinition();
    const wrap: CallWrapperDeps = {
      keys: new ApiKeySet(this.config.get('API_KEYS', { infer: true })),
      metrics: this.metrics,
      logger: this.logger,
      track: (delta) => (this.active += delta),
      tracing: this.tracing.enabled,
    };
    const deps = { serving: this.serving, dataPlane: this.dataPlane };
    server.addService(definition.inference, inferenceServiceHandlers(wrap, deps));
    server.addService(definition.health, healthServiceHandlers(wrap, deps));
    new ReflectionService(definition.packageDefinition).addToServer(server);
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, this.credentials(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    widenFlowControlWindows(server);
    this.server = server;
    return this.boundPort;
  }

  /**
   * Stops taking calls and waits for those in flight (at most `timeoutMs`, then cancels them). Resolves true when
   * every call finished.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const server = this.server;
    if (!server) return true;
    this.server = undefined;
    const finished = new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(true)));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    if (!drained) server.forceShutdown();
    return drained;
  }

  onApplicationShutdown(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  private credentials(): ServerCredentials {
    const cert = this.config.get('GRPC_TLS_CERT', { infer: true });
    const key = this.config.get('GRPC_TLS_KEY', { infer: true });
    if (cert === undefined || key === undefined) return ServerCredentials.createInsecure();
    return ServerCredentials.createSsl(
      null,
      [{ cert_chain: readFileSync(cert), private_key: readFileSync(key) }],
      false,
    );
  }
}
