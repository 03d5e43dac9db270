/**
 * GET /v1/monitoring on the real Food-101 model with a reference profile made on the 13 shared photos: after
 * photos over /v1 and /v2 and noise images that abstain, every count it answers equals what the test sent and
 * what the API answered each time, worked out here from those answers.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILE_EDGES, type ReferenceProfile } from '@app/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ModelMonitoringDto,
  MonitoringOverviewDto,
} from '../../apps/api/src/models/dto/monitoring-history.dto';
import { noisePng, profileBeside } from '../support/monitoring-fixtures';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const MODEL = FIXTURE_MODELS.food101Tflite;
const LOW = 0.5;

interface Answer {
  protocol: string;
  label: string;
  confidence: number;
  abstained: boolean;
}

describe('GET /v1/monitoring', () => {
  let api: RunningApp;
  let dir: string;
  let profile: ReferenceProfile;
  let labels: string[];
  const answers: Answer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'monitoring-model-'));
    copyFileSync(MODEL.manifest, join(dir, 'manifest.json'));
    profile = await profileBeside(join(dir, 'manifest.json'), MODEL.dir);
    labels = readFileSync(join(MODEL.dir, 'labels.txt'), 'utf8').trim().split('\n');
    api = await startTestApp(
      { manifest: join(dir, 'manifest.json'), dir: MODEL.dir },
      { INFERENCE_WORKERS: '1', DRIFT_MIN_PREDICTIONS: '10', QUALITY_LOW_CONFIDENCE: String(LOW) },
    );
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function v1(image: Buffer, extra: Record<string, unknown> = {}): Promise<void> {
    const response = await fetch(`${api.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: image.toString('base64'), ...extra }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      predictions: Array<{ label: string; confidence: number }>;
      abstained?: boolean;
    };
    const [top] = body.predictions;
    answers.push({
      protocol: 'v1',
      label: top.label,
      confidence: top.confidence,
      abstained: !!body.abstained,
    });
  }

  /** A batch of encoded photos as one BYTES tensor: one answer per photo. */
  async function v2(images: Buffer[]): Promise<void> {
    const response = await fetch(`${api.baseUrl}/v2/models/${profile.model.name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'image',
            shape: [images.length],
            datatype: 'BYTES',
            data: images.map((i) => i.toString('base64')),
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const { outputs } = (await response.json()) as { outputs: Array<{ data: number[] }> };
    for (let row = 0; row < images.length; row++) {
      const probabilities = outputs[0].data.slice(row * labels.length, (row + 1) * labels.length);
      const best = probabilities.indexOf(Math.max(...probabilities));
      answers.push({
        protocol: 'v2',
        label: labels[best],
        confidence: probabilities[best],
        abstained: false,
      });
    }
  }

  const overview = async (): Promise<MonitoringOverviewDto> => {
    const response = await fetch(`${api.baseUrl}/v1/monitoring`);
    expect(response.status).toBe(200);
    return (await response.json()) as MonitoringOverviewDto;
  };

  it('lists the served model with no traffic: empty series, the reference beside zeros', async () => {
    const { models, slot_seconds, history_seconds, low_confidence_threshold } = await overview();
    expect({ slot_seconds, history_seconds, low_confidence_threshold }).toEqual({
      slot_seconds: 10,
      history_seconds: 3600,
      low_confidence_threshold: LOW,
    });
    expect(models).toHaveLength(1);
    const [model] = models;
    expect(model).toMatchObject({
      name: profile.model.name,
      version: '1',
      totals: { predictions: 0, abstentions: 0, low_confidence: 0 },
      series: [],
      low_confidence: [],
      confidence: {
        edges: PROFILE_EDGES,
        counts: PROFILE_EDGES.map(() => 0),
        reference_counts: profile.confidence.counts,
      },
    });
    expect(model.monitoring.status).toBe('warming_up');
  });

  it('counts what was sent over /v1 and /v2, the low-confidence answers and the abstentions', async () => {
    const photos = foodPhotos().map((photo) => readFileSync(photo.path));
    for (const photo of photos) await v1(photo);
    await v2(photos.slice(0, 3));
    for (const seed of [1, 2, 3]) await v1(await noisePng(seed), { min_confidence: 0.9 });

    const [model] = (await overview()).models;
    const modelInfo = (await (await fetch(`${api.baseUrl}/v1/models/${profile.model.name}`)).json()) as {
      monitoring: ModelMonitoringDto['monitoring'];
    };
    const low = answers.filter((answer) => answer.confidence < LOW);
    const abstained = answers.filter((answer) => answer.abstained);
    expect(answers).toHaveLength(19);
    expect(abstained.length).toBeGreaterThan(0);
    expect(low.length).toBeGreaterThan(0);
    expect(model.totals).toEqual({
      predictions: answers.length,
      abstentions: abstained.length,
      low_confidence: low.length,
    });
    expect(model.series.reduce((sum, slot) => sum + slot.predictions, 0)).toBe(answers.length);
    for (const slot of model.series.filter((one) => one.predictions > 0))
      expect(slot.predictions_per_second).toBeCloseTo(slot.predictions / 10, 4);
    expect(model.monitoring).toEqual(modelInfo.monitoring);
    expect(model.monitoring.window.predictions).toBe(answers.length);

    // The confidence histogram, bucket by bucket (`le` each edge).
    expect(model.confidence.counts).toEqual(
      PROFILE_EDGES.map(
        (edge, i) =>
          answers.filter((a) => a.confidence <= edge && (i === 0 || a.confidence > PROFILE_EDGES[i - 1]))
            .length,
      ),
    );

    // The class mix: each class shown has the count answered; with "other" they add up to every answer.
    const counted = new Map<string, number>();
    for (const answer of answers) counted.set(answer.label, (counted.get(answer.label) ?? 0) + 1);
    for (const row of model.class_mix.classes) {
      expect(row.count, row.label).toBe(counted.get(row.label) ?? 0);
      expect(row.share).toBeCloseTo(row.count / answers.length, 4);
      expect(row.reference_share).toBeCloseTo(profile.class_mix[row.label] ?? 0, 4);
    }
    const shown = model.class_mix.classes.reduce((sum, row) => sum + row.count, 0);
    expect(model.class_mix.other.count).toBe(answers.length - shown);
    const largest = [...counted].sort((a, b) => b[1] - a[1])[0];
    expect(model.class_mix.classes.map((row) => row.label)).toContain(largest[0]);

    // The latest low-confidence answers: the low or withheld ones, newest first, labels and scores only.
    const unsure = answers.filter((answer) => answer.confidence < LOW || answer.abstained).reverse();
    expect(model.low_confidence.map((one) => [one.protocol, one.top[0].label, one.abstained])).toEqual(
      unsure.map((answer) => [answer.protocol, answer.label, answer.abstained]),
    );
    for (const one of model.low_confidence) {
      const allowed = ['abstained', 'at', 'protocol', 'request_id', 'top'];
      expect(Object.keys(one).filter((key) => !allowed.includes(key))).toEqual([]);
      expect(Object.keys(one.top[0]).sort()).toEqual(['confidence', 'label']);
      expect(one.top.length).toBeLessThanOrEqual(5);
    }
  });
});
