import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcFrontEnd } from '../../apps/api/src/grpc/grpc-front-end';
import { grpcClient } from '../support/grpc-client';
import { serveBytes, startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** `name{labels} value` lines of the Prometheus text format, as a lookup by the exact series text. */
function samples(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    series.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return series;
}

/** The sum of every series of `name` whose labels include all of `labels`. */
function total(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of series) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([label, wanted]) => key.includes(`${label}="${wanted}"`))) sum += value;
  }
  return sum;
}

describe('metrics and request ids', () => {
  let running: RunningApp;
  let images: ImageServer;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
    images = await startImageServer({ '/pizza.jpg': serveBytes(readFileSync(foodPhotos()[0].path)) });
  });

  afterAll(async () => {
    await images?.close();
    await running?.close();
  });

  const metrics = async () => {
    const response = await fetch(`${running.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };
  const predictUrl = (url: string, headers: Record<string, string> = {}) =>
    fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ url }),
    });

  it('exposes the served model as an info gauge, readiness and the process metrics', async () => {
    const series = samples(await metrics());
    expect(
      series.get(
        'food_vision_model_info{name="food101-mobilenet-v1-int8",version="1",format="tflite",engine="litert",backend="wasm-xnnpack"}',
      ),
    ).toBe(1);
    expect(series.get('food_vision_model_ready{name="food101-mobilenet-v1-int8"}')).toBe(1);
    expect(series.get('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(series.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(series.has('process_cpu_seconds_total')).toBe(true);
  });

  it('counts HTTP requests by route pattern and status, times image fetches and inference', async () => {
    const before = samples(await metrics());
    const ok = await predictUrl(images.url('/pizza.jpg'));
    expect(ok.status).toBe(200);
    const missing = await predictUrl(images.url('/missing.jpg'));
    expect(missing.status).toBe(502);
    expect(((await missing.json()) as { code: string }).code).toBe('upstream_status');
    expect((await fetch(`${running.baseUrl}/v1/models/no-such-model`)).status).toBe(404);
    expect((await fetch(`${running.baseUrl}/no/such/path/12345`)).status).toBe(404);

    const text = await metrics();
    const after = samples(text);
    const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
    expect(delta('food_vision_http_requests_total{method="POST",route="/v1/predictions",status="200"}')).toBe(
      1,
    );
    expect(delta('food_vision_http_requests_total{method="POST",route="/v1/predictions",status="502"}')).toBe(
      1,
    );
    expect(delta('food_vision_http_requests_total{method="GET",route="/v1/models/:name",status="404"}')).toBe(
      1,
    );
    expect(delta('food_vision_http_requests_total{method="GET",route="none",status="404"}')).toBe(1);
    expect(
      delta(
        'food_vision_http_request_duration_seconds_count{method="POST",route="/v1/predictions",status="200"}',
      ),
    ).toBe(1);
    // The raw URL never becomes a label value (bounded cardinality).
    expect(text).not.toContain('12345');
    expect(text).not.toContain('no-such-model');

    const v1 = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, { protocol: 'v1', ...labels }) - total(before, name, { protocol: 'v1', ...labels });
    expect(v1('food_vision_image_fetch_duration_seconds_count', { source: 'url', outcome: 'ok' })).toBe(1);
    expect(v1('food_vision_image_fetch_duration_seconds_count', { source: 'url', outcome: 'error' })).toBe(1);
    expect(v1('food_vision_image_fetch_failures_total', { source: 'url', code: 'upstream_status' })).toBe(1);
    expect(v1('food_vision_inference_duration_seconds_count')).toBe(1);
    expect(v1('food_vision_inference_duration_seconds_sum')).toBeGreaterThan(0);
    expect(v1('food_vision_inference_queue_duration_seconds_count')).toBe(1);
    expect(v1('food_vision_image_decode_duration_seconds_count')).toBe(1);
    expect(v1('food_vision_inference_requests_total', { code: 'ok' })).toBe(1);
    expect(v1('food_vision_inference_requests_total', { code: 'upstream_status' })).toBe(1);
    expect(v1('food_vision_inference_request_images_count')).toBe(2);
    // Nothing observes a "batch size" of model runs any more: the workers run one image at a time.
    expect(text).not.toContain('food_vision_inference_batch_size');
    expect(after.get('food_vision_inference_queue_depth{model="food101-mobilenet-v1-int8"}')).toBe(0);
    expect(after.get('food_vision_inference_running{model="food101-mobilenet-v1-int8"}')).toBe(0);
    expect(
      after.get('food_vision_inference_workers{model="food101-mobilenet-v1-int8"}'),
    ).toBeGreaterThanOrEqual(0);
    expect(
      after.get('food_vision_inference_queue_capacity{model="food101-mobilenet-v1-int8"}'),
    ).toBeGreaterThan(0);
    expect(
      after.get(
        'food_vision_inference_rejections_total{model="food101-mobilenet-v1-int8",outcome="overloaded"}',
      ),
    ).toBe(0);
  });

  it('meters every protocol alike: /v1, the seed route, /v2 (JSON and tensors) and gRPC', async () => {
    const photo = readFileSync(foodPhotos()[0].path);
    const port = await running.app.get(GrpcFrontEnd).start(0, '127.0.0.1');
    const client = grpcClient(`127.0.0.1:${port}`);
    try {
      const before = samples(await metrics());
      const seed = await fetch(
        `${running.baseUrl}/net/image/prediction/?image_link=${encodeURIComponent(images.url('/pizza.jpg'))}`,
        { method: 'POST' },
      );
      expect(seed.status).toBe(200);
      const image = { name: 'image', datatype: 'BYTES', shape: [1], data: [photo.toString('base64')] };
      const tensor = {
        name: 'input',
        datatype: 'UINT8',
        shape: [1, 224, 224, 3],
        data: new Array(224 * 224 * 3).fill(7),
      };
      for (const input of [image, tensor]) {
        const v2 = await fetch(`${running.baseUrl}/v2/models/food101-mobilenet-v1-int8/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [input] }),
        });
        expect(v2.status).toBe(200);
      }
      const grpc = await client.call('ModelInfer', {
        model_name: 'food101-mobilenet-v1-int8',
        inputs: [
          { name: 'image', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [photo, photo] } },
        ],
      });
      expect(grpc.error).toBeUndefined();
      const refused = await client.call('ModelInfer', { model_name: 'no-such-model', inputs: [image] });
      expect(refused.error).toBeDefined();

      const after = samples(await metrics());
      const delta = (name: string, labels: Record<string, string>) =>
        total(after, name, labels) - total(before, name, labels);
      for (const [protocol, requests, images, fetched, inferred] of [
        ['seed', 1, 1, 1, 1],
        ['v2', 2, 2, 1, 2],
        ['grpc', 1, 3, 2, 2], // the refused call's one image counts among the images sent
      ] as const) {
        expect(delta('food_vision_inference_requests_total', { protocol, code: 'ok' }), protocol).toBe(
          requests,
        );
        expect(delta('food_vision_inference_request_images_sum', { protocol }), protocol).toBe(images);
        expect(delta('food_vision_image_fetch_duration_seconds_count', { protocol }), protocol).toBe(fetched);
        expect(delta('food_vision_image_decode_duration_seconds_count', { protocol }), protocol).toBe(
          fetched,
        );
        expect(delta('food_vision_inference_queue_duration_seconds_count', { protocol }), protocol).toBe(
          inferred,
        );
        expect(delta('food_vision_inference_duration_seconds_count', { protocol }), protocol).toBe(inferred);
      }
      expect(
        delta('food_vision_inference_requests_total', { protocol: 'grpc', code: 'model_not_found' }),
      ).toBe(1);
      expect(
        delta('food_vision_image_fetch_duration_seconds_count', { protocol: 'seed', source: 'url' }),
      ).toBe(1);
    } finally {
      client.close();
    }
  });

  it('names every metric of its own food_vision_*, counters *_total, durations *_seconds', async () => {
    const types = [...(await metrics()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({
      name,
      type,
    }));
    const ours = types.filter(({ name }) => name.startsWith('food_vision_'));
    expect(ours.length).toBeGreaterThanOrEqual(9);
    for (const { name, type } of ours) {
      expect(name).toMatch(/^[a-z_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (name.includes('duration')) expect(name).toMatch(/_seconds$/);
    }
  });

  it('makes up a request id, returns it, and puts it in problem bodies', async () => {
    const response = await fetch(`${running.baseUrl}/v1/models/no-such-model`);
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    const body = (await response.json()) as { code: string; request_id: string };
    expect(body.request_id).toBe(id);
    const other = await fetch(`${running.baseUrl}/health/live`);
    expect(other.headers.get('x-request-id')).toMatch(UUID);
    expect(other.headers.get('x-request-id')).not.toBe(id);
  });

  it('documents every metric of its own in docs/observability.md', async () => {
    const documentation = readFileSync(join(__dirname, '..', '..', 'docs', 'observability.md'), 'utf8');
    const names = [...(await metrics()).matchAll(/^# TYPE (food_vision_\S+) /gm)].map(([, name]) => name);
    for (const name of names) expect(documentation, name).toContain(`\`${name}\``);
  });

  it("reuses the caller's X-Request-Id when it is safe, and replaces it otherwise", async () => {
    const mine = 'trace-42.abc_DEF';
    const kept = await predictUrl('ftp://example.invalid/x.jpg', { 'x-request-id': mine });
    expect(kept.status).toBe(400);
    expect(kept.headers.get('x-request-id')).toBe(mine);
    expect(((await kept.json()) as { request_id: string }).request_id).toBe(mine);

    for (const unsafe of ['a'.repeat(129), 'has space', 'new\\nline', 'quote"d', '']) {
      const replaced = await fetch(`${running.baseUrl}/health/live`, { headers: { 'x-request-id': unsafe } });
      expect(replaced.headers.get('x-request-id')).toMatch(UUID);
    }
  });

  it('gives a request id to requests rejected before routing (body too large, bad JSON)', async () => {
    const response = await fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad-json-1' },
      body: '{"url": ',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { request_id: string }).request_id).toBe('bad-json-1');
  });
});
