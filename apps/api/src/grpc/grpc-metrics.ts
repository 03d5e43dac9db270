import { Injectable } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { Counter, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS, METRIC_PREFIX } from '../observability/metrics-registry';

type GrpcLabel = 'method' | 'code';

/** Every gRPC call by method (`inference.GRPCInferenceService/ModelInfer`) and status code name (`OK`, `NOT_FOUND`). */
@Injectable()
export class GrpcMetrics {
  private readonly calls: Counter<GrpcLabel>;
  private readonly duration: Histogram<GrpcLabel>;

  constructor(registry: Registry) {
    this.calls = new Counter({
      name: `${METRIC_PREFIX}grpc_requests_total`,
      help: 'gRPC calls answered, by method and status code.',
      labelNames: ['method', 'code'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: `${METRIC_PREFIX}grpc_request_duration_seconds`,
      help: 'gRPC call latency from the request message to the status, by method and status code.',
      labelNames: ['method', 'code'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** Starts timing a call; the returned function records it with its final status. */
  start(method: string): (code: status) => void {
    const stop = this.duration.startTimer({ method });
    return (code) => {
      const labels = { method, code: status[code] ?? String(code) };
      stop(labels);
      this.calls.inc(labels);
    };
  }
}
