import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../data-plane/prediction-feed';
import { CaptureWriter, type CaptureSidecar } from './capture-writer';
import { PredictionLogMetrics } from './prediction-log-metrics';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function recordOf(
  bytes: Uint8Array,
  confidence: number,
  extra: Partial<PredictionRecord> = {},
): PredictionRecord {
  return {
    at: Date.parse('2026-05-01T10:00:00Z'),
    protocol: 'v2',
    requestId: 'req-1',
    model: { name: 'food', version: '3' },
    label: 'ramen',
    confidence,
    margin: 0.05,
    top: [
      { label: 'ramen', confidence },
      { label: 'pho', confidence: confidence - 0.05 },
    ],
    image: { origin: 'base64', format: 'png', size: 'under_224', width: 8, height: 8, bytes },
    timings: { fetchMs: 0, decodeMs: 1, queueMs: 0, inferenceMs: 2 },
    ...extra,
  };
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function setUp(settings: { below?: number; sample?: number; maxBytes?: number } = {}, random = () => 0) {
  const dir = mkdtempSync(join(tmpdir(), 'capture-'));
  dirs.push(dir);
  const registry = new Registry();
  const writer = new CaptureWriter(
    { dir, below: 0.5, sample: 1, maxBytes: 1024 * 1024, ...settings },
    new PredictionLogMetrics(registry),
    random,
  );
  const outcome = async (name: string) => {
    const { values } = await registry.getSingleMetric('food_vision_prediction_capture_images_total')!.get();
    return values.find((value) => value.labels.outcome === name)?.value ?? 0;
  };
  const folderBytes = async () =>
    (await registry.getSingleMetric('food_vision_prediction_capture_bytes')!.get()).values[0].value;
  return { dir, writer, outcome, folderBytes };
}

describe('CaptureWriter', () => {
  it('wants low-confidence or abstained image files, in the sampled share, never tensors', () => {
    const { writer } = setUp({ below: 0.5, sample: 0.3 });
    const bytes = new Uint8Array([1, 2, 3]);
    expect(writer.wants(recordOf(bytes, 0.49))).toBe(true);
    expect(writer.wants(recordOf(bytes, 0.5))).toBe(false);
    const abstained = recordOf(bytes, 0.8, {
      abstention: { reason: 'low_confidence', detail: 'under', min_confidence: 0.9, candidates: [] },
    });
    expect(writer.wants(abstained)).toBe(true);
    const tensor = recordOf(bytes, 0.1, { image: { origin: 'tensor', format: 'tensor', size: 'tensor' } });
    expect(writer.wants(tensor)).toBe(false);

    const draws = [0.29, 0.31];
    const sampled = setUp({ sample: 0.3 }, () => draws.shift()!).writer;
    expect([sampled.wants(recordOf(bytes, 0.1)), sampled.wants(recordOf(bytes, 0.1))]).toEqual([true, false]);
  });

  it('writes <sha256>.<ext> with the bytes as sent and a <sha256>.json sidecar for relabelling', async () => {
    const { dir, writer, outcome, folderBytes } = setUp();
    await writer.start();
    const bytes = new Uint8Array([137, 80, 78, 71, 9, 9, 9]);
    const record = recordOf(bytes, 0.3);
    writer.offer(record, bytes, sha(bytes));
    await writer.flush(1_000);
    expect(readdirSync(dir).sort()).toEqual([`${sha(bytes)}.json`, `${sha(bytes)}.png`]);
    expect(new Uint8Array(readFileSync(join(dir, `${sha(bytes)}.png`)))).toEqual(bytes);
    const sidecar = JSON.parse(readFileSync(join(dir, `${sha(bytes)}.json`), 'utf8')) as CaptureSidecar;
    expect(sidecar).toEqual({
      sha256: sha(bytes),
      file: `${sha(bytes)}.png`,
      label: 'ramen',
      confidence: 0.3,
      margin: 0.05,
      top: record.top,
      abstained: false,
      model: 'food',
      version: '3',
      protocol: 'v2',
      request_id: 'req-1',
      time: '2026-05-01T10:00:00.000Z',
      image: { origin: 'base64', format: 'png', width: 8, height: 8, bytes: 7 },
    });
    expect(await outcome('written')).toBe(1);
    const onDisk = readdirSync(dir).reduce((total, file) => total + statSync(join(dir, file)).size, 0);
    expect(await folderBytes()).toBe(onDisk);

    // The same image again is not written twice.
    writer.offer(record, bytes, sha(bytes));
    await writer.flush(1_000);
    expect(await outcome('duplicate')).toBe(1);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('stops writing at the budget, counting what was in the folder at start, and counts each refusal', async () => {
    const { dir, writer, outcome, folderBytes } = setUp({ maxBytes: 6_500 });
    writeFileSync(join(dir, 'already-there.jpg'), Buffer.alloc(2_000));
    await writer.start();
    expect(await folderBytes()).toBe(2_000);
    const images = [1, 2, 3, 4].map((seed) => new Uint8Array(1_500).fill(seed));
    for (const bytes of images) writer.offer(recordOf(bytes, 0.2), bytes, sha(bytes));
    await writer.flush(1_000);
    // Each image is 1,500 bytes and its sidecar 631: two fit under 6,500 beside the 2,000 already there.
    expect(await outcome('written')).toBe(2);
    expect(await outcome('over_budget')).toBe(2);
    const onDisk = readdirSync(dir).reduce((total, file) => total + statSync(join(dir, file)).size, 0);
    expect(onDisk).toBe(2_000 + 2 * (1_500 + 631));
    expect(await folderBytes()).toBe(onDisk);
    expect(readdirSync(dir)).toContain('already-there.jpg');
  });

  it('counts a folder it cannot write to as failed and gives the budget back', async () => {
    const { dir, writer, outcome, folderBytes } = setUp();
    await writer.start();
    rmSync(dir, { recursive: true });
    const bytes = new Uint8Array([1, 2, 3]);
    writer.offer(recordOf(bytes, 0.2), bytes, sha(bytes));
    await writer.flush(1_000);
    expect(await outcome('failed')).toBe(1);
    expect(await folderBytes()).toBe(0);
  });
});
