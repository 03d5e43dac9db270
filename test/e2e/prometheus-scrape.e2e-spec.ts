/**
 * Debian's Prometheus scrapes the real app under a little load (every protocol, a failing image URL) and evaluates
 * every recording rule and every query of the Grafana dashboard through its HTTP API: each must parse and return
 * data, so the rules and the dashboard speak of the metrics the service really exposes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GrpcFrontEnd } from '../../apps/api/src/grpc/grpc-front-end';
import { grpcClient } from '../support/grpc-client';
import { serveBytes, startImageServer, type ImageServer } from '../support/image-server';
import {
  DASHBOARD_FILE,
  RULES_FILE,
  SKIP_PROMETHEUS_TESTS,
  startPrometheus,
  type RunningPrometheus,
} from '../support/prometheus';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const records = (
  parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Array<{ record?: string }> }> }
).groups
  .flatMap((group) => group.rules)
  .flatMap((rule) => (rule.record ? [rule.record] : []));
const panels = (
  JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  }
).panels;

describe.skipIf(SKIP_PROMETHEUS_TESTS)('Prometheus scraping the service', () => {
  let running: RunningApp;
  let images: ImageServer;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
    const photo = readFileSync(foodPhotos()[0].path);
    images = await startImageServer({ '/food.jpg': serveBytes(photo) });
    prometheus = await startPrometheus(new URL(running.baseUrl).host);
    // Traffic only once Prometheus scrapes: every counter then has a sample before and after it.
    while ((await prometheus.query('up{job="food-vision-api"}')).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const grpcPort = await running.app.get(GrpcFrontEnd).start(0, '127.0.0.1');
    const client = grpcClient(`127.0.0.1:${grpcPort}`);
    const post = (path: string, body: object) =>
      fetch(`${running.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((response) => response.status);
    // A little traffic on every protocol, twice, with scrapes between: rates need two samples.
    for (let round = 0; round < 2; round++) {
      expect(await post('/v1/predictions', { url: images.url('/food.jpg') })).toBe(200);
      expect(await post('/v1/predictions', { url: images.url('/missing.jpg') })).toBe(502);
      expect(await post('/v1/predictions', { image: photo.toString('base64') })).toBe(200);
      expect(
        await post('/v2/models/food101-mobilenet-v1-int8/infer', {
          inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [photo.toString('base64')] }],
        }),
      ).toBe(200);
      const grpc = await client.call('ModelInfer', {
        model_name: 'food101-mobilenet-v1-int8',
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [photo] } }],
      });
      expect(grpc.error).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
    }
    client.close();
    // The recording rules are evaluated every second on the scraped samples.
    while (
      (await prometheus.query('food_vision:inference_request_duration_seconds:p95_rate5m')).length === 0
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await images?.close();
    await running?.close();
  });

  it('scrapes the service', async () => {
    expect(await prometheus.query('up{job="food-vision-api"}')).toEqual([
      expect.objectContaining({ value: [expect.any(Number), '1'] }),
    ]);
  });

  it('evaluates every recording rule to data', async () => {
    for (const record of records) {
      const result = await prometheus.query(record);
      expect(result.length, record).toBeGreaterThan(0);
      for (const { value } of result)
        expect(Number.isNaN(Number(value[1])) ? 'NaN' : 'number', record).toBe('number');
    }
  });

  it('evaluates every query of the Grafana dashboard to data', async () => {
    for (const panel of panels) {
      for (const { expr } of panel.targets) {
        const result = await prometheus.query(expr.replaceAll('$job', '.*'));
        expect(result.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
      }
    }
  });

  it('sees the failing image URL and the protocols in the data', async () => {
    const failures = await prometheus.query('food_vision:image_fetch_failures:ratio_rate5m');
    expect(Number(failures[0].value[1])).toBeGreaterThan(0);
    const protocols = (await prometheus.query('food_vision:inference_requests:rate5m')).map(
      ({ metric }) => metric.protocol,
    );
    expect(protocols.sort()).toEqual(['grpc', 'v1', 'v2']);
  });
});
