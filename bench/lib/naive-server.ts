/**
 * The naive port the issue measures against: what a straight translation of the seed to Node looks like. Jimp
 * decodes and resizes, TF.js runs on its pure-JavaScript CPU backend, and everything happens on the one event
 * loop, one request at a time (so /health/live waits behind every inference). Bench only; started by run.ts.
 *
 *   MODEL_MANIFEST=<tfjs-layers manifest> MODEL_DIR=<dir> HOST=127.0.0.1 PORT=<port> node --require tsx/cjs naive-server.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Jimp, ResizeStrategy } from 'jimp';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { readTfjsArtifacts } from '@app/inference/runtimes/tfjs-file-io';
import { resolveModel } from '@app/inference';

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function main(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  const { loadLayersModel } = await import('@tensorflow/tfjs-layers');
  const resolved = await resolveModel({
    manifestPath: process.env.MODEL_MANIFEST!,
    modelDir: process.env.MODEL_DIR,
  });
  const model: LayersModel = await loadLayersModel(tf.io.fromMemory(await readTfjsArtifacts(resolved)));
  const { width, height } = resolved.manifest.input;

  async function classify(bytes: Buffer): Promise<{ label: string; confidence: number }> {
    const image = await Jimp.read(bytes);
    image.resize({ w: width, h: height, mode: ResizeStrategy.BILINEAR });
    const rgba = image.bitmap.data;
    const pixels = new Float32Array(width * height * 3);
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) pixels[p * 3 + c] = rgba[p * 4 + c] / 255;
    }
    const input = tf.tensor4d(pixels, [1, height, width, 3]);
    const output = model.predict(input) as TfCore.Tensor;
    const scores = await output.data();
    input.dispose();
    output.dispose();
    const best = scores.indexOf(Math.max(...scores));
    return { label: resolved.labels[best], confidence: scores[best] };
  }

  const send = (response: ServerResponse, status: number, body: unknown) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url?.startsWith('/health/'))
      return send(response, 200, { status: 'ok' });
    if (request.method !== 'POST' || request.url !== '/predict')
      return send(response, 404, { error: 'not found' });
    readBody(request)
      .then(classify)
      .then(
        (prediction) => send(response, 200, prediction),
        (error: unknown) => send(response, 500, { error: String(error) }),
      );
  });
  server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
