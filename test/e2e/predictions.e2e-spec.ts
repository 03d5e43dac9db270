import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadPhoto, type FoodVisionApi, type PredictionResponse } from '@app/sdk';
import { checkedClient, ok, OpenApiContract } from '../support/contract';
import { photoRoutes, startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const photos = foodPhotos();
// ../shared/README.md: the Food-101 TFLite model must get at least 12/13 top-1 and 13/13 top-5.
const TOP1_FLOOR = 12;
const TOP5_FLOOR = 13;

/** Through the generated SDK, every response checked against openapi.json. */
describe('predictions with the real Food-101 model on the real photos', () => {
  let running: RunningApp;
  let images: ImageServer;
  let api: FoodVisionApi;
  const contract = new OpenApiContract();

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
    ({ api } = checkedClient(running.baseUrl, contract));
    // Every photo under the same file name in different folders: the seed's cache mixed these up.
    images = await startImageServer(photoRoutes(photos, (i) => `/${i}/image.jpg`));
  });

  afterAll(async () => {
    await images?.close();
    await running?.close();
  });

  function checkProbabilities(result: PredictionResponse, k: number): void {
    expect(result.predictions).toHaveLength(k);
    for (const prediction of result.predictions) {
      expect(Number.isFinite(prediction.confidence)).toBe(true);
      expect(prediction.confidence).toBeGreaterThanOrEqual(0);
      expect(prediction.confidence).toBeLessThanOrEqual(1);
      expect(prediction.display_name).toBe(prediction.label.replace(/_/g, ' '));
    }
    const confidences = result.predictions.map((prediction) => prediction.confidence);
    expect([...confidences].sort((a, b) => b - a)).toEqual(confidences);
  }

  async function accuracy(predict: (photoIndex: number) => Promise<PredictionResponse>) {
    let top1 = 0;
    let top5 = 0;
    for (const [i, photo] of photos.entries()) {
      const result = await predict(i);
      checkProbabilities(result, 5);
      const labels = result.predictions.map((prediction) => prediction.label);
      if (labels[0] === photo.label) top1++;
      if (labels.includes(photo.label)) top5++;
    }
    return { top1, top5 };
  }

  it('classifies uploads (multipart) at or above the accuracy floor', async () => {
    const { top1, top5 } = await accuracy((i) =>
      ok(
        api.predict(uploadPhoto({ image: new Blob([readFileSync(photos[i].path)], { type: 'image/jpeg' }) })),
      ),
    );
    expect(top1).toBeGreaterThanOrEqual(TOP1_FLOOR);
    expect(top5).toBeGreaterThanOrEqual(TOP5_FLOOR);
  });

  it('classifies base64 JSON at or above the accuracy floor', async () => {
    const { top1, top5 } = await accuracy((i) =>
      ok(api.predict({ body: { image: readFileSync(photos[i].path).toString('base64') } })),
    );
    expect(top1).toBeGreaterThanOrEqual(TOP1_FLOOR);
    expect(top5).toBeGreaterThanOrEqual(TOP5_FLOOR);
  });

  it('classifies URLs at or above the accuracy floor, even when every URL ends in image.jpg', async () => {
    const { top1, top5 } = await accuracy((i) =>
      ok(api.predict({ body: { url: images.url(`/${i}/image.jpg`) } })),
    );
    expect(top1).toBeGreaterThanOrEqual(TOP1_FLOOR);
    expect(top5).toBeGreaterThanOrEqual(TOP5_FLOOR);
  });

  it('answers the seed route with the seed field names, the seed spelling and a real probability', async () => {
    let correct = 0;
    for (const [i, photo] of photos.entries()) {
      const { data, response } = await api.predictFromImageLink({
        query: { image_link: images.url(`/${i}/image.jpg`) },
      });
      expect(response?.status).toBe(200);
      expect(response?.headers.get('content-type')).toMatch(/^application\/json/);
      const body = data as unknown as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['model-prediction', 'model-prediction-confidence-score']);
      expect(typeof body['model-prediction']).toBe('string');
      expect(body['model-prediction']).not.toContain('_');
      const confidence = body['model-prediction-confidence-score'] as number;
      expect(confidence).toBeGreaterThan(0);
      expect(confidence).toBeLessThanOrEqual(1);
      if (body['model-prediction'] === photo.label.replace(/_/g, ' ')) {
        correct++;
        // A sure prediction stays sure: the seed's second softmax made this ~0.026.
        expect(confidence).toBeGreaterThan(0.5);
      }
    }
    expect(correct).toBeGreaterThanOrEqual(TOP1_FLOOR);
  });

  it('accepts the seed route with the trailing slash its clients send (the SDK sends none)', async () => {
    const link = encodeURIComponent(images.url('/0/image.jpg'));
    const response = await contract.fetch()(`${running.baseUrl}/net/image/prediction/?image_link=${link}`, {
      method: 'POST',
    });
    expect(response.status).toBe(200);
  });

  it('returns the full distribution when top_k is the label count, summing to 1', async () => {
    const result = await ok(api.predict({ body: { url: images.url('/0/image.jpg'), top_k: 101 } }));
    checkProbabilities(result, 101);
    const sum = result.predictions.reduce((total, prediction) => total + prediction.confidence, 0);
    expect(Math.abs(sum - 1)).toBeLessThan(1e-3);
    expect(new Set(result.predictions.map((prediction) => prediction.label)).size).toBe(101);
  });

  it('reports the model, the image and the timings', async () => {
    const result = await ok(api.predict({ body: { url: images.url('/0/image.jpg'), top_k: 1 } }));
    expect(result.model).toEqual({ name: 'food101-mobilenet-v1-int8', version: '1' });
    expect(result.image.format).toBe('jpeg');
    expect(result.image.width).toBeGreaterThan(0);
    for (const value of Object.values(result.timings)) expect(value).toBeGreaterThanOrEqual(0);
    expect(Object.keys(result.timings).sort()).toEqual(['decode_ms', 'fetch_ms', 'inference_ms', 'total_ms']);
  });
});
