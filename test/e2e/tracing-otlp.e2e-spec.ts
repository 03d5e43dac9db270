/**
 * Tracing against the real thing: the built server, started with the specification's OTEL_* variables, exports to
 * an OTLP receiver this test runs on 127.0.0.1, which decodes every request with the official opentelemetry-proto
 * definitions (vendored byte for byte), over HTTP protobuf, HTTP JSON and gRPC. One trace per request: a URL
 * prediction through a redirect, a gRPC infer, a batch, a refused fetch; worker spans inside their request's trace;
 * durations that agree with the response's `timings`; logs and exemplars that name the trace; and a collector that
 * never answers, which must cost the predictions nothing.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, freePort, runNode, type ServerProcess } from '../support/built-server';
import { builtEntrypoint } from '../support/deploy-files';
import { grpcClient } from '../support/grpc-client';
import { startImageServer, serveBytes, type ImageServer } from '../support/image-server';
import { startOtlpReceiver, traceOf, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { HAS_PROMETHEUS, SKIP_PROMETHEUS_TESTS, startPrometheus } from '../support/prometheus';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';

const MODEL = FIXTURE_MODELS.food101Tflite;
const MODEL_NAME = (JSON.parse(readFileSync(MODEL.manifest, 'utf8')) as { name: string }).name;
const photos = foodPhotos();
const PIZZA = readFileSync(photos.find((photo) => photo.label === 'pizza')!.path);
const STEAK = readFileSync(photos.find((photo) => photo.label === 'steak')!.path);
const SERVER = 2; // SpanKind
const CLIENT = 3;
const ERROR = 2; // status code

interface Running {
  process: ServerProcess;
  base: string;
  grpcPort: number;
  service: string;
}

interface PredictionBody {
  model: { name: string; version: string };
  predictions: Array<{ label: string }>;
  timings: { fetch_ms: number; decode_ms: number; inference_ms: number; total_ms: number };
}

const traceIdOf = (traceparent: string | null | undefined): string => {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparent ?? '');
  if (!match) throw new Error(`not a sampled traceparent: ${traceparent}`);
  return match[1];
};
const spanIdOf = (traceparent: string): string => traceparent.split('-')[2];
const ofService = (spans: ReceivedSpan[], service: string) =>
  spans.filter((span) => span.resource['service.name'] === service);

/** `inner` lies within `outer`, allowing `slackMs` for clocks read on two threads. */
function expectWithin(inner: ReceivedSpan, outer: ReceivedSpan, slackMs = 1): void {
  const slack = BigInt(Math.round(slackMs * 1e6));
  expect(inner.startNs + slack).toBeGreaterThanOrEqual(outer.startNs);
  expect(inner.endNs).toBeLessThanOrEqual(outer.endNs + slack);
}

describe('OpenTelemetry traces from the built server', () => {
  let outDir: string;
  let removeBuild: () => void;
  let receiver: OtlpReceiver;
  let images: ImageServer;
  let blackHole: Server;
  const held: Socket[] = [];
  const servers: Running[] = [];
  let protobufServer: Running;
  let jsonServer: Running;
  let grpcExportServer: Running;
  let downCollectorServer: Running;

  const start = async (service: string, env: Record<string, string>): Promise<Running> => {
    const [port, grpcPort] = [await freePort(), await freePort()];
    const process = runNode(join(outDir, builtEntrypoint().replace(/^dist\//, '')), {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      MODEL_MANIFEST: MODEL.manifest,
      MODEL_DIR: MODEL.dir,
      MODEL_STORE: '',
      INFERENCE_WORKERS: '1',
      IMAGE_FETCH_ALLOW_HOSTS: 'localhost,127.0.0.1',
      OTEL_SERVICE_NAME: service,
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    });
    const running = { process, base: `http://127.0.0.1:${port}`, grpcPort, service };
    servers.push(running);
    await process.waitForLine(/Ready on/);
    return running;
  };

  beforeAll(async () => {
    [{ outDir, remove: removeBuild }, receiver] = await Promise.all([buildApp(), startOtlpReceiver()]);
    images = await startImageServer({
      '/pizza.jpg': serveBytes(PIZZA),
      '/steak.jpg': serveBytes(STEAK),
      '/moved': (_request, response) =>
        response.writeHead(302, { location: `http://127.0.0.1:${images.port}/pizza.jpg` }).end(),
    });
    // A collector that accepts connections and never answers.
    blackHole = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const blackHolePort = (blackHole.address() as { port: number }).port;
    [protobufServer, jsonServer, grpcExportServer, downCollectorServer] = await Promise.all([
      start('traced-protobuf', {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      }),
      // The per-signal endpoint is used as it is (the specification): the full path.
      start('traced-json', {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.httpEndpoint}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }),
      start('traced-grpc', {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      }),
      start('traced-down-collector', {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${blackHolePort}`,
        OTEL_BSP_MAX_QUEUE_SIZE: '16',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '8',
        OTEL_BSP_SCHEDULE_DELAY: '10',
        OTEL_BSP_EXPORT_TIMEOUT: '60000',
        OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
      }),
    ]);
  }, 240_000);

  afterAll(async () => {
    for (const server of servers) server.process.child.kill('SIGKILL');
    held.forEach((socket) => socket.destroy());
    blackHole?.close();
    await Promise.all([images?.close(), receiver?.close()]);
    removeBuild?.();
  });

  const predictUrl = async (server: Running, url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.base}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ url }),
    });
    return { response, body: (await response.json()) as PredictionBody & Record<string, unknown> };
  };

  /** Waits for the trace's server span (the last span to end) and returns the whole trace. */
  const awaitTrace = async (traceId: string, serverSpanName: string) => {
    await receiver.waitFor((spans) =>
      spans.some((span) => span.traceId === traceId && span.kind === SERVER && span.name === serverSpanName),
    );
    // Children end before their parent, and a batch of spans is exported together: give one more tick.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return traceOf(receiver.spans, traceId);
  };

  it('continues the caller’s trace for a URL prediction: fetch (each redirect hop, DNS, connect), queue, worker stages, postprocess', async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const { response, body } = await predictUrl(protobufServer, `http://localhost:${images.port}/moved`, {
      traceparent: `00-${callerTrace}-${callerSpan}-01`,
      'x-request-id': 'trace-test-url-1',
    });
    expect(response.status).toBe(200);
    const traceparent = response.headers.get('traceparent')!;
    expect(traceIdOf(traceparent)).toBe(callerTrace);

    const trace = await awaitTrace(callerTrace, 'POST /v1/predictions');
    expect(receiver.rejected).toEqual([]);
    const server = trace.one('POST /v1/predictions');
    expect(server.transport).toBe('http/protobuf');
    expect(server.kind).toBe(SERVER);
    expect(server.parentSpanId).toBe(callerSpan);
    expect(server.spanId).toBe(spanIdOf(traceparent));
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/predictions',
      'http.response.status_code': 200,
      'food_vision.protocol': 'v1',
      'food_vision.model.name': body.model.name,
      'food_vision.model.version': body.model.version,
    });
    expect(server.resource).toMatchObject({
      'service.name': 'traced-protobuf',
      'deployment.environment.name': 'test',
    });

    const fetchSpan = trace.one('image.fetch');
    expect(fetchSpan.parentSpanId).toBe(server.spanId);
    expect(fetchSpan.attributes).toMatchObject({
      'food_vision.image.source': 'url',
      'food_vision.image.bytes': PIZZA.length,
    });
    const hops = trace.childrenOf(fetchSpan).sort((a, b) => Number(a.startNs - b.startNs));
    expect(hops.map((hop) => [hop.name, hop.kind, hop.attributes['food_vision.fetch.hop']])).toEqual([
      ['GET', CLIENT, 0],
      ['GET', CLIENT, 1],
    ]);
    expect(hops.map((hop) => hop.attributes['http.response.status_code'])).toEqual([302, 200]);
    expect(hops.map((hop) => hop.attributes['server.address'])).toEqual(['localhost', '127.0.0.1']);
    // The first hop resolves `localhost`; the second is an address literal, with nothing to resolve.
    expect(
      trace
        .childrenOf(hops[0])
        .map((span) => span.name)
        .sort(),
    ).toEqual(['connect', 'dns.lookup']);
    expect(trace.childrenOf(hops[1]).map((span) => span.name)).toEqual(['connect']);
    expect(trace.childrenOf(hops[0]).find((span) => span.name === 'dns.lookup')!.attributes).toMatchObject({
      'dns.question.name': 'localhost',
    });

    const queue = trace.one('inference.queue');
    const worker = trace.one('inference.worker');
    const postprocess = trace.one('model.postprocess');
    for (const span of [queue, worker, postprocess]) expect(span.parentSpanId).toBe(server.spanId);
    expect(queue.endNs).toBeLessThanOrEqual(worker.startNs);
    expect(worker.endNs).toBeLessThanOrEqual(postprocess.startNs);
    const stages = trace.childrenOf(worker).sort((a, b) => Number(a.startNs - b.startNs));
    expect(stages.map((span) => span.name)).toEqual([
      'image.decode',
      'image.resize',
      'model.preprocess',
      'model.inference',
    ]);
    for (const stage of stages) {
      expectWithin(stage, worker);
      expect(stage.attributes).toMatchObject({
        'food_vision.model.name': body.model.name,
        'food_vision.engine': expect.any(String),
        'food_vision.backend': expect.any(String),
        'food_vision.image.format': 'jpeg',
        'food_vision.image.width': expect.any(Number),
      });
    }
    // Each step starts where the one before ended, on the worker's clock.
    for (let index = 1; index < stages.length; index++)
      expect(stages[index].startNs).toBe(stages[index - 1].endNs);

    // The spans agree with the response's own timings (rounded to 0.1 ms there).
    const sum = (...spans: ReceivedSpan[]) => spans.reduce((total, span) => total + span.durationMs, 0);
    expect(Math.abs(sum(stages[0], stages[1]) - body.timings.decode_ms)).toBeLessThan(0.2);
    expect(Math.abs(sum(stages[2], stages[3]) - body.timings.inference_ms)).toBeLessThan(0.2);
    // The fetch span sits inside the time the response reports for the fetch, and holds both hops.
    expect(fetchSpan.durationMs).toBeLessThanOrEqual(body.timings.fetch_ms + 0.2);
    for (const hop of hops) expectWithin(hop, fetchSpan, 0);
    expect(server.durationMs).toBeGreaterThanOrEqual(body.timings.total_ms - 0.1);
    for (const span of trace.spans.filter((one) => one !== server)) expectWithin(span, server);
  });

  it('writes trace_id and span_id on every log line of a traced request', () => {
    const lines = protobufServer.process
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"trace-test-url-1"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('continues a gRPC caller’s trace from its metadata and answers with traceparent', async () => {
    const client = grpcClient(`127.0.0.1:${protobufServer.grpcPort}`);
    try {
      const callerTrace = 'a3ce929d0e0e47364bf92f3577b34da6';
      const callerSpan = '0ba902b700f067aa';
      const { response, error, headers } = await client.call(
        'ModelInfer',
        {
          model_name: MODEL_NAME,
          inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [STEAK] } }],
        },
        { metadata: { traceparent: `00-${callerTrace}-${callerSpan}-01` } },
      );
      expect(error).toBeUndefined();
      expect(response).toBeDefined();
      expect(traceIdOf(headers?.traceparent)).toBe(callerTrace);
      const trace = await awaitTrace(callerTrace, 'inference.GRPCInferenceService/ModelInfer');
      const server = trace.one('inference.GRPCInferenceService/ModelInfer');
      expect(server.kind).toBe(SERVER);
      expect(server.parentSpanId).toBe(callerSpan);
      expect(server.spanId).toBe(spanIdOf(headers!.traceparent));
      expect(server.attributes).toMatchObject({
        'rpc.system': 'grpc',
        'rpc.service': 'inference.GRPCInferenceService',
        'rpc.method': 'ModelInfer',
        'rpc.grpc.status_code': 0,
        'food_vision.protocol': 'grpc',
      });
      const item = trace.one('classify.item');
      expect(item.parentSpanId).toBe(server.spanId);
      expect(item.attributes['food_vision.batch.index']).toBe(0);
      const worker = trace.one('inference.worker');
      expect(worker.parentSpanId).toBe(item.spanId);
      expect(trace.childrenOf(worker).map((span) => span.name)).toContain('model.inference');
      expect(trace.one('image.fetch').attributes['food_vision.image.source']).toBe('bytes');
    } finally {
      client.close();
    }
  });

  it('gives each item of a batch its own span, fetch and worker stages, in one trace', async () => {
    const response = await fetch(`${protobufServer.base}/v1/predictions/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ url: images.url('/pizza.jpg') }, { url: images.url('/steak.jpg') }] }),
    });
    expect(response.status).toBe(200);
    const traceId = traceIdOf(response.headers.get('traceparent'));
    const trace = await awaitTrace(traceId, 'POST /v1/predictions/batch');
    const server = trace.one('POST /v1/predictions/batch');
    expect(server.parentSpanId).toBe('');
    const items = trace.byName('classify.item');
    expect(items.map((item) => item.attributes['food_vision.batch.index']).sort()).toEqual([0, 1]);
    for (const item of items) {
      expect(item.parentSpanId).toBe(server.spanId);
      const children = trace
        .childrenOf(item)
        .map((span) => span.name)
        .sort();
      expect(children).toEqual(['image.fetch', 'inference.queue', 'inference.worker', 'model.postprocess']);
      const worker = trace.childrenOf(item).find((span) => span.name === 'inference.worker')!;
      expect(trace.childrenOf(worker)).toHaveLength(4);
    }
    expect(
      trace
        .byName('image.fetch')
        .map((span) => span.attributes['food_vision.image.bytes'])
        .sort(),
    ).toEqual([PIZZA.length, STEAK.length].sort());
  });

  it('records a refused fetch as an error event, and puts the trace id in the problem', async () => {
    const { response, body } = await predictUrl(protobufServer, 'http://169.254.169.254/latest/meta-data/');
    expect(response.status).toBe(400);
    expect(body.code).toBe('url_forbidden_address');
    const traceId = traceIdOf(response.headers.get('traceparent'));
    expect(body.trace_id).toBe(traceId);
    const trace = await awaitTrace(traceId, 'POST /v1/predictions');
    const hop = trace.one('GET');
    expect(hop.status.code).toBe(ERROR);
    expect(hop.attributes['error.type']).toBe('url_forbidden_address');
    const exception = hop.events.find((event) => event.name === 'exception');
    expect(exception?.attributes['exception.message']).toMatch(/private, loopback, link-local/);
    expect(trace.one('image.fetch').status.code).toBe(ERROR);
    // Nothing was connected to, and nothing was queued for the model.
    expect(trace.byName('connect')).toEqual([]);
    expect(trace.byName('inference.queue')).toEqual([]);
    // A client's mistake is not the server's: the server span's status stays unset (HTTP conventions for 4xx).
    const server = trace.one('POST /v1/predictions');
    expect(server.attributes['http.response.status_code']).toBe(400);
    expect(server.status.code).toBe(0);
  });

  it('does not trace probes and scrapes', async () => {
    const probes = ['/health/live', '/health/ready', '/v2/health/ready', '/metrics'];
    for (const path of probes) {
      const response = await fetch(`${protobufServer.base}${path}`);
      expect(response.headers.get('traceparent')).toBeNull();
      await response.arrayBuffer();
    }
    // A traced request after them: once its span is in, theirs would have been too.
    const { response } = await predictUrl(protobufServer, images.url('/pizza.jpg'));
    await awaitTrace(traceIdOf(response.headers.get('traceparent')), 'POST /v1/predictions');
    const paths = ofService(receiver.spans, 'traced-protobuf').map((span) => span.attributes['url.path']);
    for (const path of probes) expect(paths).not.toContain(path);
  });

  it('links latency histograms to traces with OpenMetrics exemplars', async () => {
    const { response } = await predictUrl(protobufServer, images.url('/steak.jpg'));
    const traceId = traceIdOf(response.headers.get('traceparent'));
    const metrics = await fetch(`${protobufServer.base}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(metrics.headers.get('content-type')).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    const text = await metrics.text();
    expect(text.endsWith('# EOF\n')).toBe(true);
    const exemplar = new RegExp(
      `^food_vision_inference_request_duration_seconds_bucket\\{le="[^"]+",protocol="v1"\\} \\d+ # \\{trace_id="${traceId}"\\} [0-9.e-]+ [0-9.]+$`,
      'm',
    );
    expect(text).toMatch(exemplar);
    // The Prometheus text format stays exemplar-free and keeps its counter names.
    const plain = await (await fetch(`${protobufServer.base}/metrics`)).text();
    expect(plain).not.toContain('trace_id');
    expect(plain).toMatch(/^food_vision_inference_requests_total\{protocol="v1",code="ok"\} \d+$/m);
  });

  it.skipIf(SKIP_PROMETHEUS_TESTS)(
    'Prometheus scrapes the OpenMetrics and stores the exemplars, each the id of an exported trace',
    async () => {
      expect(HAS_PROMETHEUS, 'prometheus is missing (apt-get install prometheus)').toBe(true);
      const prometheus = await startPrometheus(new URL(protobufServer.base).host, { exemplars: true });
      try {
        const deadline = Date.now() + 30_000;
        let stored: string[] = [];
        while (stored.length === 0 && Date.now() < deadline) {
          await predictUrl(protobufServer, images.url('/pizza.jpg'));
          await new Promise((resolve) => setTimeout(resolve, 1000));
          const series = await prometheus.queryExemplars(
            'food_vision_inference_request_duration_seconds_bucket',
          );
          stored = series.flatMap((one) => one.exemplars.map((exemplar) => exemplar.labels.trace_id));
        }
        expect(stored.length).toBeGreaterThan(0);
        // Each exemplar leads to a trace the collector received.
        await receiver.waitFor((spans) =>
          stored.every((traceId) => spans.some((span) => span.traceId === traceId)),
        );
      } finally {
        await prometheus.stop();
      }
    },
    60_000,
  );

  it('exports the same trace over OTLP/HTTP JSON, checked field by field against the definitions', async () => {
    const { response } = await predictUrl(jsonServer, images.url('/pizza.jpg'));
    expect(response.status).toBe(200);
    const trace = await awaitTrace(traceIdOf(response.headers.get('traceparent')), 'POST /v1/predictions');
    expect(receiver.rejected).toEqual([]);
    const server = trace.one('POST /v1/predictions');
    expect(server.transport).toBe('http/json');
    expect(server.resource['service.name']).toBe('traced-json');
    const worker = trace.one('inference.worker');
    expect(
      trace
        .childrenOf(worker)
        .map((span) => span.name)
        .sort(),
    ).toEqual(['image.decode', 'image.resize', 'model.inference', 'model.preprocess']);
    expect(trace.one('image.fetch').parentSpanId).toBe(server.spanId);
  });

  it('exports over OTLP/gRPC to the official TraceService', async () => {
    const { response } = await predictUrl(grpcExportServer, images.url('/steak.jpg'));
    expect(response.status).toBe(200);
    const trace = await awaitTrace(traceIdOf(response.headers.get('traceparent')), 'POST /v1/predictions');
    const server = trace.one('POST /v1/predictions');
    expect(server.transport).toBe('grpc');
    expect(server.resource['service.name']).toBe('traced-grpc');
    expect(trace.one('inference.worker').parentSpanId).toBe(server.spanId);
  });

  it('keeps predicting when the collector never answers: spans past the bounded queue are dropped and counted', async () => {
    const answers = [];
    for (let index = 0; index < 12; index++) {
      const started = performance.now();
      const { response, body } = await predictUrl(downCollectorServer, images.url('/pizza.jpg'));
      answers.push({
        status: response.status,
        ms: performance.now() - started,
        label: body.predictions?.[0]?.label,
      });
    }
    expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(200));
    // Every answer came at the pace of the model, not of an export that never ends (60 s timeout).
    for (const answer of answers) expect(answer.ms).toBeLessThan(5_000);
    const metrics = await (await fetch(`${downCollectorServer.base}/metrics`)).text();
    const dropped = Number(/^food_vision_trace_spans_total\{outcome="dropped"\} (\d+)$/m.exec(metrics)?.[1]);
    const queued = Number(/^food_vision_trace_span_queue_size (\d+)$/m.exec(metrics)?.[1]);
    // 12 requests of 10 spans, a queue of 16: most of them could only be dropped.
    expect(dropped).toBeGreaterThan(50);
    expect(queued).toBeLessThanOrEqual(16);
    // And it still stops promptly on SIGTERM, though its last export can never finish.
    const stopped = performance.now();
    downCollectorServer.process.child.kill('SIGTERM');
    expect((await downCollectorServer.process.exited).code).toBe(0);
    expect(performance.now() - stopped).toBeLessThan(8_000);
  });
});
