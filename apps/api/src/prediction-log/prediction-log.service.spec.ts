import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateEnvironment, type EnvironmentVariables } from '../config/environment';
import { PredictionFeed, type PredictionRecord } from '../data-plane/prediction-feed';
import { PredictionLogMetrics } from './prediction-log-metrics';
import { PredictionLog, SHUTDOWN_FLUSH_MS } from './prediction-log.service';

const record = (bytes: Uint8Array): PredictionRecord => ({
  at: Date.now(),
  protocol: 'v1',
  requestId: 'req-7',
  model: { name: 'food', version: '1' },
  label: 'pizza',
  confidence: 0.9,
  margin: 0.8,
  top: [{ label: 'pizza', confidence: 0.9 }],
  image: { origin: 'upload', format: 'jpeg', size: 'under_1024', width: 10, height: 10, bytes },
  timings: { fetchMs: 0, decodeMs: 1, queueMs: 0, inferenceMs: 1 },
});

function startLog(env: Record<string, string>) {
  const config = validateEnvironment(env);
  const feed = new PredictionFeed();
  const registry = new Registry();
  const log = new PredictionLog(
    { get: (key: keyof EnvironmentVariables) => config[key] } as unknown as ConfigService<
      EnvironmentVariables,
      true
    >,
    feed,
    new PredictionLogMetrics(registry),
    () => Promise.reject(new Error('no DNS in this test')),
  );
  const count = async (name: string, labels: Record<string, string>) => {
    const { values } = await registry.getSingleMetric(`food_vision_${name}`)!.get();
    return (
      values.find((one) => Object.entries(labels).every(([key, v]) => one.labels[key] === v))?.value ?? 0
    );
  };
  return { feed, log, count };
}

describe('PredictionLog', () => {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  let hang = false;
  const sink = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      if (!hang) response.writeHead(204).end();
    });
  });
  let url: string;

  beforeAll(async () => {
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/events`;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    sink.closeAllConnections();
    await new Promise((resolve) => sink.close(resolve));
  });

  it('does not listen to the feed unless configured', async () => {
    const { feed, log } = startLog({});
    await log.onModuleInit();
    expect(feed.watched).toBe(false);
  });

  it('refuses a loopback sink at start with a clear error, unless private sinks are allowed', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const { feed, log } = startLog({ PREDICTION_LOG_URL: url });
      await log.onModuleInit();
      expect(feed.watched).toBe(false);
      expect(errors).toHaveBeenCalledWith(
        expect.stringMatching(
          /PREDICTION_LOG_URL is refused: the sink 127\.0\.0\.1:\d+ is a private.*PREDICTION_LOG_ALLOW_PRIVATE=true/,
        ),
      );
    } finally {
      errors.mockRestore();
    }
  });

  it('only queues on the prediction’s path: hashing a 10 MiB image and sending come later', async () => {
    const { feed, log, count } = startLog({ PREDICTION_LOG_URL: url, PREDICTION_LOG_ALLOW_PRIVATE: 'true' });
    await log.onModuleInit();
    expect(feed.watched).toBe(true);
    const big = new Uint8Array(10 * 1024 * 1024).fill(7);
    const before = received.length;
    const publishMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      feed.publish(record(big));
      publishMs.push(performance.now() - started);
    }
    // Hashing 10 MiB takes about 9 ms here; the listener must not.
    expect(Math.min(...publishMs)).toBeLessThan(1);
    expect(received.length).toBe(before);
    await vi.waitFor(() => expect(received.length - before).toBe(10), { timeout: 5_000 });
    const types = received.slice(before).map((one) => one.headers['ce-type']);
    expect(types.filter((type) => type === 'org.kubeflow.serving.inference.request')).toHaveLength(5);
    await log.onApplicationShutdown();
    expect(await count('prediction_log_events_sent_total', { type: 'response' })).toBe(5);
  });

  it('on shutdown, gives a sink that hangs at most the flush time, then drops what is left', async () => {
    hang = true;
    try {
      const { feed, log, count } = startLog({
        PREDICTION_LOG_URL: url,
        PREDICTION_LOG_ALLOW_PRIVATE: 'true',
        PREDICTION_LOG_CONCURRENCY: '1',
      });
      await log.onModuleInit();
      for (let i = 0; i < 3; i++) feed.publish(record(new Uint8Array([i])));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      await log.onApplicationShutdown();
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(SHUTDOWN_FLUSH_MS - 20);
      expect(took).toBeLessThan(SHUTDOWN_FLUSH_MS + 500);
      expect(await count('prediction_log_dropped_total', { reason: 'shutdown' })).toBe(6);
      expect(feed.watched).toBe(false);
    } finally {
      hang = false;
    }
  });
});
