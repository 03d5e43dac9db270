import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchItemFailure, BatchItemSuccess, FoodVisionApi, PredictionRequest } from '@app/sdk';
import { checkedClient, ok, OpenApiContract } from '../support/contract';
import {
  photoRoutes,
  serveBytes,
  startImageServer,
  type ImageServer,
  type Route,
} from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const photos = foodPhotos();
const TOP1_FLOOR = 12;

const isSuccess = (result: BatchItemSuccess | BatchItemFailure): result is BatchItemSuccess =>
  result.status === 200;

/** Through the generated SDK, every response checked against openapi.json. */
describe('POST /v1/predictions/batch with the real Food-101 model', () => {
  let running: RunningApp;
  let images: ImageServer;
  let api: FoodVisionApi;
  const contract = new OpenApiContract();

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
    ({ api } = checkedClient(running.baseUrl, contract));
    const routes: Record<string, Route> = {
      '/not-an-image.jpg': serveBytes(Buffer.from('hello, not a photo')),
      ...photoRoutes(photos),
    };
    const slow = serveBytes(readFileSync(photos[0].path));
    // Finishes after the items behind it, so the answer's order cannot come from completion order.
    routes['/slow.jpg'] = (request, response) => setTimeout(() => slow(request, response), 300);
    images = await startImageServer(routes);
  });

  afterAll(async () => {
    await images?.close();
    await running?.close();
  });

  it('answers every photo in request order, at the accuracy floor', async () => {
    const items = photos.map((_photo, i) => ({ url: images.url(`/${i}.jpg`) }));
    const { results } = await ok(api.predictBatch({ body: { items, top_k: 5 } }));
    expect(results).toHaveLength(photos.length);
    let top1 = 0;
    results.forEach((result, i) => {
      if (!isSuccess(result)) throw new Error(`item ${i} failed: ${JSON.stringify(result.problem)}`);
      expect(result.prediction.predictions).toHaveLength(5);
      if (result.prediction.predictions[0].label === photos[i].label) top1++;
    });
    expect(top1).toBeGreaterThanOrEqual(TOP1_FLOOR);
  });

  it('keeps the order when an earlier item finishes last', async () => {
    const { results } = await ok(
      api.predictBatch({
        body: { items: [{ url: images.url('/slow.jpg') }, { url: images.url('/5.jpg') }], top_k: 1 },
      }),
    );
    const labels = results.map((result) =>
      isSuccess(result) ? result.prediction.predictions[0].label : 'failed',
    );
    const single = await Promise.all(
      ['/0.jpg', '/5.jpg'].map(
        async (path) =>
          (await ok(api.predict({ body: { url: images.url(path), top_k: 1 } }))).predictions[0].label,
      ),
    );
    expect(labels).toEqual(single);
  });

  it('gives each bad item the problem it would have had alone, without failing the good ones', async () => {
    const good = readFileSync(photos[3].path).toString('base64');
    const bad: PredictionRequest[] = [
      { url: images.url('/missing.jpg') },
      { url: images.url('/not-an-image.jpg') },
      { image: 'this is not base64!' },
      { url: 'ftp://example.com/pizza.jpg' },
      { url: images.url('/1.jpg'), image: good },
      {},
    ];
    const items = [{ image: good }, ...bad, { url: images.url('/4.jpg') }];
    const { results } = await ok(api.predictBatch({ body: { items, top_k: 3 } }));
    expect(results).toHaveLength(items.length);
    expect(results.map((result) => result.status === 200)).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect((results[0] as BatchItemSuccess).prediction.predictions[0].label).toBe(photos[3].label);
    expect((results[7] as BatchItemSuccess).prediction.predictions[0].label).toBe(photos[4].label);
    for (const [offset, item] of bad.entries()) {
      const index = offset + 1;
      const failure = results[index] as BatchItemFailure;
      const alone = await api.predict({ body: item });
      expect(alone.response?.status).toBe(failure.status);
      expect(failure.problem).toMatchObject({
        status: failure.status,
        code: alone.error?.code,
        instance: `/v1/predictions/batch#/items/${index}`,
      });
      if (offset < 4) expect(failure.problem.detail).toBe(alone.error?.detail);
    }
    expect(results.slice(1, 7).map((result) => (result as BatchItemFailure).problem.code)).toEqual([
      'upstream_status',
      'upstream_not_image',
      'invalid_base64',
      'url_scheme_not_allowed',
      'ambiguous_image',
      'missing_image',
    ]);
  });

  it('validates each item on its own, naming the field by its index', async () => {
    const items = [{ url: 42 }, { image: good() }, { picture: 'x' }] as unknown as PredictionRequest[];
    const { results } = await ok(api.predictBatch({ body: { items } }));
    expect(results.map((result) => result.status)).toEqual([400, 200, 400]);
    expect((results[0] as BatchItemFailure).problem).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'items[0].url', message: 'url must be a string' }],
    });
    expect((results[2] as BatchItemFailure).problem).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'items[2].picture', message: 'property picture should not exist' }],
    });
  });

  it('refuses the whole batch when it is empty, too long, or asks for more classes than there are', async () => {
    const tooMany = Array.from({ length: 17 }, () => ({ url: images.url('/0.jpg') }));
    for (const body of [{ items: [] }, { items: tooMany }, { items: [{ image: good() }], top_k: 102 }]) {
      const { error, response } = await api.predictBatch({ body });
      expect(response?.status).toBe(400);
      expect(error?.code).toBe('validation_failed');
    }
    const { error } = await api.predictBatch({ body: { items: tooMany } });
    expect(error?.detail).toBe(
      'A batch carries at most 16 items and this one has 17: split it into smaller batches.',
    );
  });

  it('refuses a body that is not JSON with 415', async () => {
    const form = new FormData();
    form.append('items', 'x');
    const response = await contract.fetch()(`${running.baseUrl}/v1/predictions/batch`, {
      method: 'POST',
      body: form,
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { code: string }).code).toBe('unsupported_media_type');
  });
});

function good(): string {
  return readFileSync(photos[2].path).toString('base64');
}
