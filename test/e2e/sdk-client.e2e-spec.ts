import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadPhoto, type FoodVisionApi } from '@app/sdk';
import { checkedClient, ok, type OpenApiContract } from '../support/contract';
import { serveBytes, startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const MODEL = 'food101-mobilenet-v1-int8';
const [photo] = foodPhotos();
const bytes = readFileSync(photo.path);

/**
 * The generated SDK against the real app: every operation in openapi.json is called through it, and every
 * response is checked against the document, so a change that breaks generated clients fails here.
 */
describe('the generated TypeScript SDK', () => {
  let running: RunningApp;
  let images: ImageServer;
  let api: FoodVisionApi;
  let contract: OpenApiContract;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
    images = await startImageServer({ '/photo.jpg': serveBytes(bytes) });
    ({ api, contract } = checkedClient(running.baseUrl));
  });

  afterAll(async () => {
    await images?.close();
    await running?.close();
  });

  it('classifies a photo given as URL, base64 and upload, with typed results', async () => {
    for (const call of [
      api.predict({ body: { url: images.url('/photo.jpg'), top_k: 2 } }),
      api.predict({ body: { image: bytes.toString('base64'), top_k: 2 } }),
      api.predict(uploadPhoto({ image: new Blob([bytes], { type: 'image/jpeg' }), top_k: 2 })),
    ]) {
      const result = await ok(call);
      expect(result.model.name).toBe(MODEL);
      expect(result.predictions.map((prediction) => prediction.label)).toHaveLength(2);
      expect(result.predictions[0].label).toBe(photo.label);
    }
    const seed = await ok(api.predictFromImageLink({ query: { image_link: images.url('/photo.jpg') } }));
    expect(seed['model-prediction']).toBe(photo.label.replace(/_/g, ' '));
    const withInput = await ok(
      api.predict({ query: { include: 'model_input' }, body: { image: bytes.toString('base64'), top_k: 1 } }),
    );
    expect(withInput.model_input).toMatchObject({ media_type: 'image/png', width: 224, height: 224 });
    expect(await ok(api.demoPage())).toContain('<title>Food Vision: try it</title>');
  });

  it('returns problems as typed errors', async () => {
    const { data, error, response } = await api.predict({ body: { url: 'ftp://example.com/x.jpg' } });
    expect(data).toBeUndefined();
    expect(response?.status).toBe(400);
    expect(error?.code).toBe('url_scheme_not_allowed');
    const missing = await api.getModel({ path: { name: 'nope' } });
    expect(missing.error?.code).toBe('model_not_found');
  });

  it('runs a batch, one result per item', async () => {
    const { results } = await ok(
      api.predictBatch({ body: { items: [{ url: images.url('/photo.jpg') }, { image: 'bad!' }], top_k: 1 } }),
    );
    expect(results.map((result) => result.status)).toEqual([200, 400]);
  });

  it('lists, describes and reloads models, and reports health and metrics', async () => {
    const { models } = await ok(api.listModels());
    expect(models.map((model) => model.name)).toEqual([MODEL]);
    expect((await ok(api.getModel({ path: { name: MODEL } }))).label_count).toBe(101);
    expect((await ok(api.getLiveness())).status).toBe('ok');
    expect((await ok(api.getReadiness())).status).toBe('ok');
    expect((await ok(api.getWelcome())).message).toBe('Welcome to the Food Vision API!');
    expect(await ok(api.getMetrics())).toContain('# TYPE');
    const reloaded = await ok(api.reloadModel({ path: { name: MODEL } }));
    expect(reloaded).toMatchObject({ name: MODEL, status: 'ready', label_count: 101 });
  });

  it('speaks the Open Inference Protocol through the same client', async () => {
    expect((await ok(api.serverMetadata())).extensions).toContain('classification');
    expect((await ok(api.serverLive())).live).toBe(true);
    expect((await ok(api.serverReady())).ready).toBe(true);
    expect((await ok(api.modelReady({ path: { name: MODEL } }))).ready).toBe(true);
    expect((await ok(api.modelVersionReady({ path: { name: MODEL, version: '1' } }))).ready).toBe(true);
    expect((await ok(api.modelMetadata({ path: { name: MODEL } }))).versions).toEqual(['1']);
    expect((await ok(api.modelVersionMetadata({ path: { name: MODEL, version: '1' } }))).platform).toBe(
      'tensorflow_tflite',
    );
    const body = {
      inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [bytes.toString('base64')] }],
      outputs: [{ name: 'probabilities', parameters: { classification: 1 } }],
    };
    for (const call of [
      api.modelInfer({ path: { name: MODEL }, body }),
      api.modelVersionInfer({ path: { name: MODEL, version: '1' }, body }),
    ]) {
      const { outputs } = await ok(call);
      expect(String(outputs[0].data[0]).split(':')[2]).toBe(photo.label);
    }
    const { error, response } = await api.modelInfer({ path: { name: 'nope' }, body });
    expect(response?.status).toBe(404);
    expect(error?.error).toMatch(/no model named "nope"/);
  });

  it('runs a bulk job: create, status, results, list, and a cancel of a finished job refused', async () => {
    const created = await ok(
      api.createJob({ body: { items: [{ id: 'one', url: images.url('/photo.jpg') }], top_k: 1 } }),
      201,
    );
    let job = created;
    for (let attempt = 0; attempt < 200 && job.state !== 'completed'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await ok(api.getJob({ path: { id: created.id } }));
    }
    expect(job).toMatchObject({ state: 'completed', counts: { total: 1, succeeded: 1 } });
    // JSON Lines: the SDK hands the text over as it came (the schema types one line).
    const text = (await ok(
      api.getJobResults({ path: { id: created.id }, parseAs: 'text' }),
    )) as unknown as string;
    const lines = text
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { id: string; prediction: { predictions: Array<{ label: string }> } },
      );
    expect(lines.map((line) => [line.id, line.prediction.predictions[0].label])).toEqual([
      ['one', photo.label],
    ]);
    expect((await ok(api.listJobs())).jobs.map((listed) => listed.id)).toContain(created.id);
    const finished = await api.cancelJob({ path: { id: created.id } });
    expect(finished.response?.status).toBe(409);
    expect(finished.error?.code).toBe('job_finished');
  });

  it('reads the monitoring data and page, and the rollout API of a model served from one manifest', async () => {
    const monitoring = await ok(api.getMonitoring());
    expect(monitoring.models.map((model) => model.name)).toEqual([MODEL]);
    expect(await ok(api.monitorPage())).toContain('<title>');
    expect(await ok(api.getRollout({ path: { name: MODEL } }))).toMatchObject({
      model: MODEL,
      possible: false,
    });
    for (const call of [
      api.setRollout({ path: { name: MODEL }, body: { candidate: '2', mode: 'canary', weight: 10 } }),
      api.promoteCandidate({ path: { name: MODEL } }),
      api.rollBack({ path: { name: MODEL } }),
    ]) {
      const { error, response } = await call;
      expect(response?.status).toBe(409);
      expect(error?.code).toBe('rollout_not_possible');
    }
  });

  it('has called every operation in openapi.json, each response checked against it', () => {
    expect([...contract.exercised].sort()).toEqual(contract.operationIds().sort());
  });
});
