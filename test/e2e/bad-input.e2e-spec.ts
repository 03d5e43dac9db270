import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImageServer, serveBytes, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const MAX_IMAGE_BYTES = 256 * 1024;

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: Array<{ field: string; message: string }>;
}

describe('bad input gets a clear problem and never takes the server down', () => {
  let running: RunningApp;
  let upstream: ImageServer;
  const photo = foodPhotos().find((candidate) => candidate.label === 'pizza')!;
  const jpeg = readFileSync(photo.path);

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES) });
    upstream = await startImageServer({
      '/pizza.jpg': serveBytes(jpeg),
      '/notes.txt': serveBytes(Buffer.from('hello'), 'text/plain'),
    });
  });

  afterAll(async () => {
    await upstream?.close();
    await running?.close();
  });

  async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as Problem;
    expect({ status: response.status, code: body.code }).toEqual({ status, code });
    expect(body.status).toBe(status);
    expect(body.type).toBe(`urn:food-vision:problem:${code}`);
    expect(body.title.length).toBeGreaterThan(0);
    expect(body.detail.length).toBeGreaterThan(0);
    return body;
  }

  const post = (body: RequestInit['body'], contentType?: string) =>
    fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: contentType ? { 'content-type': contentType } : {},
      body,
    });
  const postJson = (body: unknown) => post(JSON.stringify(body), 'application/json');
  const upload = (bytes: Buffer, name = 'photo.jpg') => {
    const form = new FormData();
    form.append('image', new Blob([bytes]), name);
    return post(form);
  };

  it('refuses a request with no image', async () => {
    await expectProblem(await postJson({}), 400, 'missing_image');
  });

  it('refuses an empty URL', async () => {
    const body = await expectProblem(await postJson({ url: '' }), 400, 'validation_failed');
    expect(body.errors?.[0].field).toBe('url');
  });

  it('refuses a string that is not a URL', async () => {
    await expectProblem(await postJson({ url: 'not a url' }), 400, 'invalid_url');
  });

  it('refuses a non-http scheme', async () => {
    await expectProblem(await postJson({ url: 'file:///etc/passwd' }), 400, 'url_scheme_not_allowed');
  });

  it('reports a URL that answers 404 as a bad gateway', async () => {
    const body = await expectProblem(
      await postJson({ url: upstream.url('/missing.jpg') }),
      502,
      'upstream_status',
    );
    expect(body.detail).toContain('404');
  });

  it('refuses a URL that returns text', async () => {
    await expectProblem(await postJson({ url: upstream.url('/notes.txt') }), 422, 'upstream_not_image');
  });

  it('refuses an uploaded text file', async () => {
    await expectProblem(
      await upload(Buffer.from('just some text, not an image at all'), 'photo.jpg'),
      422,
      'unsupported_image',
    );
  });

  it('refuses a truncated JPEG', async () => {
    await expectProblem(
      await upload(jpeg.subarray(0, Math.floor(jpeg.length / 3))),
      422,
      'unsupported_image',
    );
  });

  it('refuses an upload over the size limit', async () => {
    await expectProblem(await upload(Buffer.concat([jpeg, Buffer.alloc(MAX_IMAGE_BYTES)])), 413, 'too_large');
  });

  it('refuses a JSON body over the size limit', async () => {
    const huge = Buffer.alloc(MAX_IMAGE_BYTES * 2).toString('base64');
    await expectProblem(await postJson({ image: huge }), 413, 'payload_too_large');
  });

  it('refuses a base64 image over the size limit', async () => {
    const big = Buffer.alloc(MAX_IMAGE_BYTES + 1024).toString('base64');
    await expectProblem(await postJson({ image: big }), 413, 'too_large');
  });

  it('refuses base64 garbage', async () => {
    await expectProblem(await postJson({ image: '!!!this is not base64###' }), 400, 'invalid_base64');
  });

  it('refuses valid base64 of something that is not an image', async () => {
    await expectProblem(
      await postJson({ image: Buffer.from('GIF? no.').toString('base64') }),
      422,
      'unsupported_image',
    );
  });

  it('refuses an unsupported content type', async () => {
    await expectProblem(await post(jpeg, 'image/jpeg'), 415, 'unsupported_media_type');
    await expectProblem(
      await post('url=http://example.com/a.jpg', 'text/plain'),
      415,
      'unsupported_media_type',
    );
  });

  it('refuses malformed JSON', async () => {
    await expectProblem(await post('{"url": ', 'application/json'), 400, 'validation_failed');
  });

  it('refuses two images at once', async () => {
    await expectProblem(
      await postJson({ url: upstream.url('/pizza.jpg'), image: jpeg.toString('base64') }),
      400,
      'ambiguous_image',
    );
  });

  it('refuses unknown fields and out-of-range top_k', async () => {
    await expectProblem(
      await postJson({ url: upstream.url('/pizza.jpg'), colour: 'red' }),
      400,
      'validation_failed',
    );
    await expectProblem(
      await postJson({ url: upstream.url('/pizza.jpg'), top_k: 0 }),
      400,
      'validation_failed',
    );
    const body = await expectProblem(
      await postJson({ url: upstream.url('/pizza.jpg'), top_k: 102 }),
      400,
      'validation_failed',
    );
    expect(body.detail).toContain('101');
  });

  it('answers unknown routes with a 404 problem', async () => {
    await expectProblem(await fetch(`${running.baseUrl}/v1/nothing-here`), 404, 'not_found');
  });

  it('answers an unknown model name with a 404 problem', async () => {
    await expectProblem(await fetch(`${running.baseUrl}/v1/models/no-such-model`), 404, 'model_not_found');
  });

  it('keeps FastAPI-style 422 for a missing image_link on the seed route', async () => {
    const response = await fetch(`${running.baseUrl}/net/image/prediction/`, { method: 'POST' });
    const body = await expectProblem(response, 422, 'validation_failed');
    expect(body.errors?.[0].field).toBe('image_link');
  });

  it('refuses an invalid image_link on the seed route', async () => {
    const response = await fetch(`${running.baseUrl}/net/image/prediction/?image_link=nope`, {
      method: 'POST',
    });
    await expectProblem(response, 400, 'invalid_url');
  });

  it('still serves after all of the above', async () => {
    expect((await fetch(`${running.baseUrl}/health/live`)).status).toBe(200);
    const response = await postJson({ url: upstream.url('/pizza.jpg'), top_k: 1 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { predictions: Array<{ label: string }> };
    expect(body.predictions[0].label).toBe('pizza');
  });
});
