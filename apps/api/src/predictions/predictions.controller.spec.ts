import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMetricsRegistry } from '../observability/metrics-registry';
import {
  ClassifierService,
  type ClassifierLease,
  type ImageClassification,
  type ModelSelector,
} from '@app/inference';
import { ImageSourceService, type ImageSource } from '@app/image-fetch';
import { controllerSetup, type ControllerApp } from '../../../../test/support/controller-setup';
import { PredictionMetrics } from '../data-plane/metrics/prediction-metrics';
import { ImageSourceClassifier } from '../data-plane/image-source-classifier';
import { Explainer } from '../data-plane/explainer';
import { QualityMetrics } from '../data-plane/metrics/quality-metrics';
import { PredictionFeed } from '../data-plane/prediction-feed';
import { PredictionObserver } from '../data-plane/prediction-observer';
import { ComparisonMirror } from '../data-plane/rollout/comparison-mirror';
import { Predictor } from '../data-plane/predictor';
import { SeedController } from '../seed/seed.controller';
import { BatchPredictionService } from './batch-prediction.service';
import { BatchPredictionsController } from './batch-predictions.controller';
import { PredictionsController } from './predictions.controller';

// The /v1 and seed controllers over their real services, with the image intake and the classifier stubbed: the
// routing, validation, problem answers and response shapes, without a model or ../shared.

const LABELS = ['apple_pie', 'pizza', 'sushi'];

/** A classifier that ranks the labels by a fixed probability row and records what it was asked. */
class StubClassifier {
  readonly calls: Array<{ bytes: Uint8Array; k: number; model?: ModelSelector }> = [];
  leases = 0;

  leaseLoaded(model?: ModelSelector): Promise<ClassifierLease> {
    return Promise.resolve(this.lease(model));
  }

  lease(model?: ModelSelector): ClassifierLease {
    this.leases++;
    const probabilities = Float64Array.from([0.1, 0.7, 0.2]);
    const order = [1, 2, 0];
    return {
      model: { name: 'stub-food', version: '3' },
      role: 'stable',
      labels: LABELS,
      inputSpec: {} as ClassifierLease['inputSpec'],
      // Above the stub's top probability (0.7): /v1 abstains unless a request sets its own; the seed never does.
      monitoring: { min_confidence: 0.75 },
      classifyImage: (bytes, k) => {
        this.calls.push({ bytes, k, model });
        const classification: ImageClassification = {
          model: { name: 'stub-food', version: '3' },
          predictions: order.slice(0, k).map((index) => ({
            index,
            label: LABELS[index],
            displayName: LABELS[index].replace('_', ' '),
            confidence: probabilities[index],
          })),
          probabilities,
          inferenceMs: 4,
          image: { format: 'jpeg', sourceWidth: 640, sourceHeight: 480 },
          decodeMs: 2,
          queueMs: 0,
        };
        return Promise.resolve(classification);
      },
      classifyTensor: () => Promise.reject(new Error('not used by /v1')),
      probabilitiesOf: () => Promise.reject(new Error('not used by these specs')),
      release: () => this.leases--,
    };
  }
}

const sourceBytes = vi.fn((source: ImageSource) =>
  Promise.resolve(Buffer.from(source.kind === 'url' ? source.url : 'photo bytes')),
);

let api: ControllerApp;
let base: string;
let classifier: StubClassifier;

beforeAll(async () => {
  classifier = new StubClassifier();
  api = await controllerSetup(
    [SeedController, PredictionsController, BatchPredictionsController],
    [
      Predictor,
      ImageSourceClassifier,
      Explainer,
      BatchPredictionService,
      { provide: PredictionMetrics, useValue: new PredictionMetrics(createMetricsRegistry()) },
      {
        provide: QualityMetrics,
        useValue: new QualityMetrics(
          createMetricsRegistry(),
          { get: () => 0.5 } as unknown as ConstructorParameters<typeof QualityMetrics>[1],
          { record: () => undefined } as unknown as ConstructorParameters<typeof QualityMetrics>[2],
        ),
      },
      PredictionObserver,
      PredictionFeed,
      // No model store, so no rollout: nothing to compare.
      { provide: ComparisonMirror, useValue: { answered: () => undefined } },
      { provide: ClassifierService, useValue: classifier },
      { provide: ImageSourceService, useValue: { bytes: sourceBytes } },
    ],
    { MAX_BATCH_ITEMS: 4, EXPLAIN_MAX_BATCH_ITEMS: 2, EXPLAIN_MAX_GRID_CELLS: 400 },
  );
  base = api.base;
});

afterAll(() => api?.close());

beforeEach(() => {
  classifier.calls.length = 0;
  sourceBytes.mockClear();
});

afterEach(() => {
  // Every request gave back the model it held, refused or not.
  expect(classifier.leases).toBe(0);
});

async function post(path: string, body: unknown, contentType = 'application/json') {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('POST /v1/predictions (stubbed classifier)', () => {
  it('fetches the URL, asks for top_k from the named model and shapes the answer', async () => {
    const { status, body } = await post('/v1/predictions', {
      url: 'https://example.com/pizza.jpg',
      top_k: 2,
      model: 'stub-food',
      model_version: '3',
    });
    expect(status).toBe(200);
    expect(sourceBytes).toHaveBeenCalledWith(
      { kind: 'url', url: 'https://example.com/pizza.jpg' },
      expect.anything(),
    );
    expect(classifier.calls).toEqual([
      {
        bytes: Buffer.from('https://example.com/pizza.jpg'),
        k: 2,
        model: { name: 'stub-food', version: '3' },
      },
    ]);
    expect(body).toMatchObject({
      model: { name: 'stub-food', version: '3' },
      predictions: [
        { label: 'pizza', display_name: 'pizza', confidence: 0.7 },
        { label: 'sushi', display_name: 'sushi', confidence: 0.2 },
      ],
      image: { format: 'jpeg', width: 640, height: 480 },
    });
  });

  it('abstains under the model’s min_confidence, with the reason and the candidates, unless the request sets its own', async () => {
    const { body: withheld } = await post('/v1/predictions', { image: 'cGhvdG8=', top_k: 2 });
    expect(withheld).toMatchObject({
      abstained: true,
      abstention: {
        reason: 'low_confidence',
        min_confidence: 0.75,
        candidates: [
          { label: 'pizza', confidence: 0.7 },
          { label: 'sushi', confidence: 0.2 },
        ],
      },
    });
    expect((withheld.abstention as { detail: string }).detail).toMatch(/pizza.*0\.700.*0\.75/);
    const { body: answered } = await post('/v1/predictions', { image: 'cGhvdG8=', min_confidence: 0.5 });
    expect(answered.abstained).toBe(false);
    expect(answered).not.toHaveProperty('abstention');
    const { status, body } = await post('/v1/predictions', { image: 'cGhvdG8=', min_confidence: 1.5 });
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'validation_failed' });
  });

  it('answers every class when the model has fewer than the default five', async () => {
    const { status } = await post('/v1/predictions', { image: 'cGhvdG8=' });
    expect(status).toBe(200);
    expect(classifier.calls[0].k).toBe(3);
    expect(sourceBytes).toHaveBeenCalledWith({ kind: 'base64', base64: 'cGhvdG8=' }, expect.anything());
  });

  it.each([
    [{}, 400, 'missing_image'],
    [{ url: 'https://example.com/a.jpg', image: 'cGhvdG8=' }, 400, 'ambiguous_image'],
    [{ image: 'cGhvdG8=', top_k: 0 }, 400, 'validation_failed'],
    [{ image: 'cGhvdG8=', top_k: 2.5 }, 400, 'validation_failed'],
    [{ image: 'cGhvdG8=', model: '' }, 400, 'validation_failed'],
    [{ image: 42 }, 400, 'validation_failed'],
  ])('refuses %j with %i %s, before fetching or classifying', async (body, status, code) => {
    const answer = await post('/v1/predictions', body);
    expect(answer.status).toBe(status);
    expect(answer.type).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status, code });
    expect(sourceBytes).not.toHaveBeenCalled();
    expect(classifier.calls).toEqual([]);
  });

  it('refuses a top_k above the model’s label count, naming the count, before fetching', async () => {
    const { status, body } = await post('/v1/predictions', { url: 'https://example.com/a.jpg', top_k: 4 });
    expect(status).toBe(400);
    expect(body).toMatchObject({
      code: 'validation_failed',
      detail: 'top_k must be between 1 and 3, the number of labels.',
      errors: [{ field: 'top_k', message: 'top_k must not be greater than 3' }],
    });
    expect(sourceBytes).not.toHaveBeenCalled();
  });

  it('refuses a body that is neither JSON nor multipart with 415', async () => {
    const { status, body } = await post('/v1/predictions', 'url=https://example.com/a.jpg', 'text/plain');
    expect(status).toBe(415);
    expect(body).toMatchObject({ code: 'unsupported_media_type' });
  });
});

describe('POST /v1/predictions/batch (stubbed classifier)', () => {
  it('answers each item on its own, in order, a bad item failing alone', async () => {
    const { status, body } = await post('/v1/predictions/batch', {
      items: [{ image: 'cGhvdG8=' }, {}, { url: 'https://example.com/b.jpg' }],
      top_k: 1,
    });
    expect(status).toBe(200);
    const results = body.results as Array<Record<string, unknown>>;
    expect(results.map((result) => result.status)).toEqual([200, 400, 200]);
    expect(results[1]).toMatchObject({ problem: { code: 'missing_image' } });
    expect(classifier.calls.map((call) => call.k)).toEqual([1, 1]);
  });

  it('refuses the whole batch for a top_k no item could meet, or more items than MAX_BATCH_ITEMS', async () => {
    expect(
      (await post('/v1/predictions/batch', { items: [{ image: 'cGhvdG8=' }], top_k: 9 })).body,
    ).toMatchObject({
      code: 'validation_failed',
    });
    const tooMany = await post('/v1/predictions/batch', {
      items: Array.from({ length: 5 }, () => ({ image: 'eA==' })),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.detail).toMatch(/at most 4 items and this one has 5/);
    expect(classifier.calls).toEqual([]);
  });
});

describe('the seed routes (stubbed classifier)', () => {
  it('answers GET / with the seed’s welcome', async () => {
    const response = await fetch(`${base}/`);
    expect(await response.json()).toEqual({ message: 'Welcome to the Food Vision API!' });
  });

  it.each(['/net/image/prediction/', '/net/image/prediction'])(
    'answers POST %s?image_link= with the seed’s field names and the top class',
    async (path) => {
      const { status, body } = await post(
        `${path}?image_link=${encodeURIComponent('https://example.com/p.jpg')}`,
        '',
      );
      expect(status).toBe(200);
      expect(body).toEqual({ 'model-prediction': 'pizza', 'model-prediction-confidence-score': 0.7 });
      expect(classifier.calls.at(-1)?.k).toBe(1);
    },
  );

  it('keeps FastAPI’s 422 for a missing image_link', async () => {
    const { status, body } = await post('/net/image/prediction/', '');
    expect(status).toBe(422);
    expect(body).toMatchObject({ code: 'validation_failed' });
  });
});
