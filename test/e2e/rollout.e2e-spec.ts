/**
 * Rollouts on two real, different Food-101 models: the MobileNetV1 int8 as version 1 and the MobileNetV2 int8 as
 * version 2 of one model in a store. The agreement the service reports for shadow traffic over the 13 photos (and
 * their flipped and re-encoded variants) must equal the one computed here, through the library, with both models
 * run apart from the service. A canary at 20 % over 1,000 routing keys must land within the binomial 99 % interval,
 * each key always on the same version; a broken candidate is refused with stable serving on; promotion, rollback
 * and an automatic rollback change versions without a restart, and every answer says which version gave it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyLabelledPhotos, resolveModel, topTwo } from '@app/inference';
import { GrpcFrontEnd } from '../../apps/api/src/grpc/grpc-front-end';
import { grpcClient } from '../support/grpc-client';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { addModelVersion } from '../support/version-store';
import { startTestApp, type RunningApp } from '../support/test-app';

const NAME = 'food101';

interface Report {
  shed: number;
  stable?: string;
  candidate?: { version: string; status: string };
  policy: Record<string, unknown>;
  comparisons: Record<
    'canary' | 'shadow',
    {
      compared: number;
      agreement: number | null;
      mean_abs_confidence_delta: number | null;
      disagreements: Array<{ stable: string; candidate: string; count: number }>;
    }
  >;
  versions: Array<{ version: string; role: string; runs: number; errors: number }>;
  last_rollback?: { version: string; reason: string };
}

describe('rollouts: stable and candidate versions of one model', () => {
  let store: string;
  let api: RunningApp;
  let grpcPort: number;
  let inputs: Array<{ name: string; bytes: Buffer }>;
  /** Per input, each version's top-1 class and probability, computed through the library. */
  let offline: Array<{ v1: { label: string; p: number }; v2: { label: string; p: number } }>;
  const labels = readFileSync(join(FIXTURE_MODELS.food101Tflite.dir, 'labels.txt'), 'utf8')
    .trim()
    .split('\n');

  beforeAll(async () => {
    store = mkdtempSync(join(tmpdir(), 'rollout-store-'));
    const v1 = addModelVersion(store, NAME, '1');
    const v2 = addModelVersion(store, NAME, '2', { v2: true });
    addModelVersion(store, NAME, '3', { v2: true, corrupt: true });
    // The newest folder would be served by default; rollout.json pins version 1 as stable.
    writeFileSync(join(store, NAME, 'rollout.json'), JSON.stringify({ stable: '1' }));

    const photos = foodPhotos().map((photo) => ({ name: photo.file, bytes: readFileSync(photo.path) }));
    const flipped = await Promise.all(
      photos.map(async (photo) => ({
        name: `flipped-${photo.name}`,
        bytes: await sharp(photo.bytes).flop().toBuffer(),
      })),
    );
    const reencoded = await Promise.all(
      photos.map(async (photo) => ({
        name: `q40-${photo.name}`,
        bytes: await sharp(photo.bytes).jpeg({ quality: 40 }).toBuffer(),
      })),
    );
    inputs = [...photos, ...flipped, ...reencoded];
    const work = mkdtempSync(join(tmpdir(), 'rollout-inputs-'));
    for (const input of inputs) writeFileSync(join(work, input.name), input.bytes);
    const paths = inputs.map((input) => ({ path: join(work, input.name), label: 'any' }));
    const top = async (manifestPath: string) =>
      (await classifyLabelledPhotos(await resolveModel({ manifestPath }), paths)).map((row) => {
        const { index, first } = topTwo(row.probabilities);
        return { label: labels[index], p: first };
      });
    const [one, two] = [await top(v1), await top(v2)];
    offline = one.map((v1Top, index) => ({ v1: v1Top, v2: two[index] }));
    rmSync(work, { recursive: true, force: true });

    api = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      MODEL_STORE: store,
      DEFAULT_MODEL: NAME,
      INFERENCE_WORKERS: '2',
      ROLLOUT_MIRROR_MAX_IN_FLIGHT: '64',
    });
    grpcPort = await api.app.get(GrpcFrontEnd).start(0, '127.0.0.1');
  }, 180_000);

  afterAll(async () => {
    await api?.close();
    rmSync(store, { recursive: true, force: true });
  });

  const report = async () =>
    (await (await fetch(`${api.baseUrl}/v1/models/${NAME}/rollout`)).json()) as Report;
  const put = (body: object) =>
    fetch(`${api.baseUrl}/v1/models/${NAME}/rollout`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const predict = (bytes: Buffer, headers: Record<string, string> = {}) =>
    fetch(`${api.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ image: bytes.toString('base64'), top_k: 1 }),
    });
  async function until(check: (report: Report) => boolean): Promise<Report> {
    for (let attempt = 0; attempt < 1500; attempt++) {
      const current = await report();
      if (check(current)) return current;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`The rollout report never got there: ${JSON.stringify(await report())}`);
  }

  it('serves rollout.json’s stable version, not the newest folder', async () => {
    const response = await predict(inputs[0].bytes);
    expect(response.headers.get('x-model-version')).toBe('1');
    expect(await report()).toMatchObject({ stable: '1', possible: true });
  });

  it('refuses a candidate that cannot load, and stable keeps serving alone', async () => {
    const refused = await put({ candidate: '3', mode: 'shadow' });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: 'rollout_refused' });
    expect((await report()).candidate).toBeUndefined();
    expect(JSON.parse(readFileSync(join(store, NAME, 'rollout.json'), 'utf8'))).toEqual({ stable: '1' });
    const answer = await predict(inputs[0].bytes);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-model-version')).toBe('1');
    const unknown = await put({ candidate: '9' });
    expect(unknown.status).toBe(422);
    const invalid = await put({ candidate: '2', mode: 'sideways' });
    expect(invalid.status).toBe(400);
  });

  it('shadow: the client gets stable answers, and the agreement equals the offline computation', async () => {
    expect((await put({ candidate: '2', mode: 'shadow', weight: 100 })).status).toBe(200);
    const described = (await (await fetch(`${api.baseUrl}/v1/models/${NAME}`)).json()) as object;
    expect(described).toMatchObject({
      version: '1',
      candidate: { version: '2', status: 'ready', mode: 'shadow', weight: 100 },
    });
    // One input at a time, each until its copy is compared: a copy is shed (counted) when a worker is busy, as it
    // may be on a loaded machine, and then the same input is sent again, so each is compared exactly once.
    for (const input of inputs) {
      for (let attempt = 0; ; attempt++) {
        const before = await report();
        const response = await predict(input.bytes);
        expect(response.headers.get('x-model-version')).toBe('1');
        expect(((await response.json()) as { model: { version: string } }).model.version).toBe('1');
        const after = await until(
          (current) =>
            current.comparisons.shadow.compared > before.comparisons.shadow.compared ||
            current.shed > before.shed,
        );
        if (after.comparisons.shadow.compared > before.comparisons.shadow.compared) break;
        expect(attempt).toBeLessThan(5);
      }
    }
    const done = await until((current) => current.comparisons.shadow.compared === inputs.length);
    const agreed = offline.filter((pair) => pair.v1.label === pair.v2.label).length;
    const delta = offline.reduce((sum, pair) => sum + Math.abs(pair.v1.p - pair.v2.p), 0) / offline.length;
    const pairs = new Map<string, number>();
    for (const pair of offline)
      if (pair.v1.label !== pair.v2.label)
        pairs.set(
          `${pair.v1.label}>${pair.v2.label}`,
          (pairs.get(`${pair.v1.label}>${pair.v2.label}`) ?? 0) + 1,
        );
    console.info(
      `shadow over ${inputs.length} inputs: agreement ${agreed}/${inputs.length}, mean |Δ top-1| ${delta.toFixed(4)}`,
    );
    expect(done.comparisons.shadow.agreement).toBeCloseTo(agreed / inputs.length, 6);
    expect(done.comparisons.shadow.mean_abs_confidence_delta).toBeCloseTo(delta, 5);
    const reported = new Map(
      done.comparisons.shadow.disagreements.map((entry) => [
        `${entry.stable}>${entry.candidate}`,
        entry.count,
      ]),
    );
    for (const [pair, count] of [...pairs].slice(0, 10)) expect(reported.get(pair), pair).toBe(count);
    expect(done.versions.find((version) => version.role === 'candidate')).toMatchObject({
      version: '2',
      runs: inputs.length,
      errors: 0,
    });
  });

  it('canary at 20 %: the share of 1,000 routing keys is within the binomial 99 % interval, each key sticky', async () => {
    expect((await put({ candidate: '2', mode: 'canary', weight: 20 })).status).toBe(200);
    const small = await sharp(inputs[0].bytes).resize(64, 64).jpeg().toBuffer();
    const versions: string[] = [];
    for (let start = 0; start < 1000; start += 8) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, (_, offset) =>
          predict(small, { 'x-routing-key': `user-${start + offset}` }),
        ),
      );
      for (const response of batch) versions.push(response.headers.get('x-model-version')!);
    }
    const share = versions.filter((version) => version === '2').length;
    const sd = Math.sqrt(1000 * 0.2 * 0.8);
    console.info(`canary 20 %: ${share} of 1,000 keys on the candidate`);
    expect(share).toBeGreaterThanOrEqual(Math.floor(200 - 2.576 * sd));
    expect(share).toBeLessThanOrEqual(Math.ceil(200 + 2.576 * sd));
    for (const key of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((index) => `user-${index * 97}`)) {
      const again = await Promise.all([1, 2, 3].map(() => predict(small, { 'x-routing-key': key })));
      const seen = new Set(again.map((response) => response.headers.get('x-model-version')));
      expect(seen.size).toBe(1);
      expect([...seen][0]).toBe(versions[Number(key.slice(5))]);
    }
    // Without a key, the image decides: the same photo always meets the same version.
    const byImage = await Promise.all([1, 2, 3].map(() => predict(inputs[5].bytes)));
    expect(new Set(byImage.map((response) => response.headers.get('x-model-version'))).size).toBe(1);
  });

  it('gRPC says which version answered in its trailing metadata, routed by x-routing-key', async () => {
    const client = grpcClient(`127.0.0.1:${grpcPort}`);
    try {
      const seen = new Map<string, string>();
      for (const key of ['user-3', 'user-4', 'user-5', 'user-6', 'user-7', 'user-8']) {
        const { response, trailers, error } = await client.call(
          'ModelInfer',
          {
            model_name: NAME,
            inputs: [
              {
                name: 'image',
                datatype: 'BYTES',
                shape: [1],
                contents: { bytes_contents: [inputs[0].bytes] },
              },
            ],
          },
          { metadata: { 'x-routing-key': key } },
        );
        expect(error).toBeUndefined();
        expect(trailers?.['x-model-version']).toBe(response!.model_version);
        seen.set(key, String(response!.model_version));
      }
      const http = await Promise.all(
        [...seen.keys()].map((key) => predict(inputs[0].bytes, { 'x-routing-key': key })),
      );
      expect(http.map((response) => response.headers.get('x-model-version'))).toEqual([...seen.values()]);
    } finally {
      client.close();
    }
  });

  it('promotes the candidate, then rolls the promotion back, without a restart or a dropped request', async () => {
    // Traffic throughout: every request is answered, by one version or the other.
    let traffic = true;
    const statuses: number[] = [];
    const background = (async () => {
      while (traffic) {
        const answers = await Promise.all([0, 1, 2, 3].map((index) => predict(inputs[index].bytes)));
        statuses.push(...answers.map((answer) => answer.status));
      }
    })();
    const promoted = await fetch(`${api.baseUrl}/v1/models/${NAME}/promote`, { method: 'POST' });
    expect(promoted.status).toBe(200);
    expect(await promoted.json()).toMatchObject({ stable: '2' });
    expect((await predict(inputs[0].bytes)).headers.get('x-model-version')).toBe('2');
    expect(JSON.parse(readFileSync(join(store, NAME, 'rollout.json'), 'utf8'))).toMatchObject({
      stable: '2',
      previous_stable: '1',
    });
    const rolledBack = await fetch(`${api.baseUrl}/v1/models/${NAME}/rollback`, { method: 'POST' });
    expect(rolledBack.status).toBe(200);
    expect(await rolledBack.json()).toMatchObject({ stable: '1' });
    expect((await predict(inputs[0].bytes)).headers.get('x-model-version')).toBe('1');
    const nothing = await fetch(`${api.baseUrl}/v1/models/${NAME}/rollback`, { method: 'POST' });
    expect(nothing.status).toBe(409);
    traffic = false;
    await background;
    expect(statuses.length).toBeGreaterThan(8);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it('rolls back by itself when agreement falls under the policy’s floor, and says so', async () => {
    const agreement = offline.filter((pair) => pair.v1.label === pair.v2.label).length / offline.length;
    expect(agreement).toBeLessThan(1);
    const response = await put({
      candidate: '2',
      mode: 'shadow',
      auto_rollback: { min_compared: 10, min_agreement: 0.999 },
    });
    expect(response.status).toBe(200);
    // Until the first disagreement after ten compared images ends the rollout (copies may be shed on a busy machine).
    for (let sent = 0; sent < inputs.length * 3 && (await report()).candidate !== undefined; sent++)
      await predict(inputs[sent % inputs.length].bytes);
    const after = await until(
      (current) => current.candidate === undefined && current.last_rollback !== undefined,
    );
    expect(after.last_rollback).toMatchObject({ version: '2' });
    expect(after.last_rollback!.reason).toMatch(/agreement/);
    expect(existsSync(join(store, NAME, 'rollout.json'))).toBe(true);
    const written = JSON.parse(readFileSync(join(store, NAME, 'rollout.json'), 'utf8')) as object;
    expect(written).toMatchObject({ stable: '1' });
    expect(written).not.toHaveProperty('candidate');
    const metrics = await (await fetch(`${api.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/food_vision_rollout_rollbacks_total\{model="food101",reason="agreement"\} 1/);
  });
});
