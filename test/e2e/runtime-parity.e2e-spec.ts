import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel, type ModelRuntime, type ResolvedModel } from '@app/inference';
import { createRuntime } from '@app/inference/runtimes/create-runtime';
import { toProbabilities } from '@app/inference/processing/probabilities';
import { FIXTURE_MODELS, type FixtureModel } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

/** A deterministic tensor in the model's input range (a linear congruential generator, no Math.random). */
function inputTensor(resolved: ResolvedModel): Uint8Array<ArrayBuffer> | Float32Array<ArrayBuffer> {
  const {
    height,
    width,
    dtype,
    value_range: [low, high],
  } = resolved.manifest.input;
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const size = height * width * 3;
  if (dtype === 'uint8') return Uint8Array.from({ length: size }, () => Math.floor(next() * 256));
  return Float32Array.from({ length: size }, () => low + next() * (high - low));
}

interface V2Output {
  name: string;
  shape: number[];
  data: number[];
}

/**
 * For each format, the service's probabilities for an input tensor (sent through the V2 protocol, so no decoding or
 * resizing is involved) equal what the model's own engine outputs for the same tensor, normalised as the manifest
 * says. This is what the workers, the tensor transfer and the post-processing may not change.
 */
describe.each<{ title: string; model: FixtureModel; env: Record<string, string>; engine: string }>([
  { title: 'TFLite uint8 (Food-101)', model: FIXTURE_MODELS.food101Tflite, env: {}, engine: 'litert' },
  {
    title: 'TFLite float32, dynamic batch',
    model: FIXTURE_MODELS.food101ThreeClassTflite,
    env: {},
    engine: 'litert',
  },
  {
    title: 'TF.js layers on TF.js',
    model: FIXTURE_MODELS.mobilenetV2Tfjs,
    env: { INFERENCE_FLOAT_ENGINE: 'tfjs' },
    engine: 'tfjs',
  },
])('service output equals the engine output: $title', ({ model, env, engine }) => {
  let running: RunningApp;
  let resolved: ResolvedModel;
  let runtime: ModelRuntime;

  beforeAll(async () => {
    resolved = await resolveModel({ manifestPath: model.manifest, modelDir: model.dir });
    runtime = await createRuntime(resolved, { floatEngine: 'tfjs', threads: 1 });
    running = await startTestApp(model, { INFERENCE_WORKERS: '1', ...env });
  });

  afterAll(async () => {
    runtime?.dispose();
    await running?.close();
  });

  it('within 1e-4 for the same input tensor', async () => {
    expect(runtime.engine).toBe(engine);
    const { height, width, dtype } = resolved.manifest.input;
    const tensor = inputTensor(resolved);
    const own = toProbabilities(
      await runtime.run({ data: tensor, shape: [1, height, width, 3] }),
      resolved.manifest.output.kind,
    );

    const response = await fetch(`${running.baseUrl}/v2/models/${resolved.manifest.name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'input',
            shape: [1, height, width, 3],
            datatype: dtype === 'uint8' ? 'UINT8' : 'FP32',
            data: Array.from(tensor),
          },
        ],
        outputs: [{ name: 'probabilities' }],
      }),
    });
    expect(response.status).toBe(200);
    const [output] = ((await response.json()) as { outputs: V2Output[] }).outputs;
    expect(output.shape).toEqual([1, resolved.labels.length]);
    const maxDiff = Math.max(...output.data.map((value, i) => Math.abs(value - own[i])));
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });
});
