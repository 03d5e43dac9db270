import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageDecoder } from '@app/imaging';
import { ModelRegistry } from '@app/inference';
import { photoRoutes, startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

interface V1Prediction {
  predictions: Array<{ label: string; confidence: number }>;
}

const photos = foodPhotos();

describe('many requests at once, classified by two inference workers', () => {
  let running: RunningApp;
  let images: ImageServer;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { INFERENCE_WORKERS: '2' });
    images = await startImageServer(photoRoutes(photos));
  });

  afterAll(async () => {
    await images?.close();
    await running?.close();
  });

  const upload = async (i: number): Promise<V1Prediction> => {
    const form = new FormData();
    form.append('image', new Blob([readFileSync(photos[i].path)], { type: 'image/jpeg' }), photos[i].file);
    const response = await fetch(`${running.baseUrl}/v1/predictions`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    return (await response.json()) as V1Prediction;
  };

  const byUrl = async (i: number): Promise<V1Prediction> => {
    const response = await fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: images.url(`/${i}.jpg`) }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as V1Prediction;
  };

  it('serves the model from two workers, not the event loop', () => {
    const { runtime, inference } = running.app.get(ModelRegistry).ready();
    expect(runtime).toMatchObject({ engine: 'litert', workers: 2, threadsPerWorker: 1 });
    // The workers decode JPEG as this thread would: on libjpeg-turbo where the system has it, as CI's does.
    expect(inference.info.jpegDecoder).toBe(new ImageDecoder({ maxPixels: 1 }).jpegDecoder);
    if (process.env.CI === 'true') expect(inference.info.jpegDecoder).toBe('libjpeg-turbo');
  });

  it('gives every one of 52 concurrent requests (uploads and URLs) the answer its photo gets alone', async () => {
    const alone: V1Prediction[] = [];
    for (const i of photos.keys()) alone.push(await upload(i));
    const jobs = photos.flatMap((_, i) => [upload(i), byUrl(i), upload(i), byUrl(i)]);
    const together = await Promise.all(jobs);
    together.forEach((result, j) => {
      const i = Math.floor(j / 4);
      expect(result.predictions, photos[i].file).toEqual(alone[i].predictions);
    });
    const top1 = alone.filter((result, i) => result.predictions[0].label === photos[i].label).length;
    expect(top1).toBeGreaterThanOrEqual(12);
    const stats = running.app.get(ModelRegistry).ready().inference.stats();
    expect(stats).toMatchObject({ running: 0, queued: 0, overloaded: 0, timedOut: 0, failed: 0 });
    expect(stats.completed).toBe(photos.length * 5);
  });
});

describe('INFERENCE_WORKERS=0: the same answers on the main thread', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { INFERENCE_WORKERS: '0' });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('classifies concurrent uploads correctly with no worker threads', async () => {
    expect(running.app.get(ModelRegistry).ready().runtime).toMatchObject({ engine: 'litert', workers: 0 });
    const results = await Promise.all(
      photos.map(async (photo) => {
        const form = new FormData();
        form.append('image', new Blob([readFileSync(photo.path)], { type: 'image/jpeg' }), photo.file);
        const response = await fetch(`${running.baseUrl}/v1/predictions`, { method: 'POST', body: form });
        expect(response.status).toBe(200);
        return (await response.json()) as V1Prediction;
      }),
    );
    const top1 = results.filter((result, i) => result.predictions[0].label === photos[i].label).length;
    expect(top1).toBeGreaterThanOrEqual(12);
    expect(running.app.get(ModelRegistry).ready().inference.stats()).toMatchObject({
      workers: 0,
      completed: photos.length,
    });
  });
});
