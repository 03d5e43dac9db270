import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateEnvironment } from './environment';
import { servingEnvironment } from './serving-environment';
import { parseServingFlags } from './serving-flags';

const SHARED = resolve(process.env.SHARED_DIR ?? join(__dirname, '..', '..', '..', '..', '..', 'shared'));
const PLAIN_MODEL = join(SHARED, 'models', 'stm32-food101-mobilenet_v1_0.5_224_fft_int8');
const FIXTURE_MANIFEST = resolve(
  __dirname,
  '../../../../test/fixtures/models/stm32-food101-mobilenet-v1-int8/manifest.json',
);
const scratch = mkdtempSync(join(tmpdir(), 'serving-flags-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A folder laid out as KServe's storage-initializer leaves one, with links to the real model files. */
function modelFolder(name: string, withManifest: boolean): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const file of ['mobilenet_v1_0.5_224_fft_int8.tflite', 'labels.txt']) {
    symlinkSync(join(PLAIN_MODEL, file), join(dir, file));
  }
  if (withManifest) writeFileSync(join(dir, 'manifest.json'), readFileSync(FIXTURE_MANIFEST));
  return dir;
}

const failure = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a failure');
};

describe('KServe command-line flags', () => {
  it('without flags leaves the environment as it is (npm start, Heroku: PORT 5000, no gRPC)', async () => {
    const env = { PORT: '5000' };
    const result = await servingEnvironment([], env);
    expect(result).toEqual({ env, underKServe: false, notes: [], warnings: [] });
    expect(validateEnvironment(result.env).GRPC_PORT).toBeUndefined();
    expect(validateEnvironment({}).PORT).toBe(5000);
  });

  it('reads --flag=value and --flag value, and stops at an unknown flag or a bad value, naming it', async () => {
    expect(parseServingFlags(['--http_port=8080', '--grpc_port', '9000']).flags).toEqual({
      http_port: 8080,
      grpc_port: 9000,
    });
    expect(await failure(servingEnvironment(['--modelname=x'], {}))).toMatch(/Unknown option '--modelname'/);
    expect(await failure(servingEnvironment(['--http_port=eighty'], {}))).toMatch(
      /--http_port="eighty": a port is an integer from 0 to 65535/,
    );
    expect(await failure(servingEnvironment(['--grpc_port=70000'], {}))).toMatch(/--grpc_port="70000"/);
    expect(await failure(servingEnvironment(['--model_name=Bad Name'], {}))).toMatch(
      /--model_name="Bad Name"/,
    );
    expect(await failure(servingEnvironment(['--model_dir='], {}))).toMatch(/--model_dir is empty/);
    expect(await failure(servingEnvironment(['--model_dir=/nowhere/models'], {}))).toMatch(
      /--model_dir=\/nowhere\/models: \/nowhere\/models is not a folder/,
    );
  });

  it('defaults to KServe ports (8080, 8081), lets PORT win over --http_port, refuses a GRPC_PORT that disagrees', async () => {
    const dir = modelFolder('ports', true);
    const defaults = await servingEnvironment([`--model_dir=${dir}`], {});
    expect(validateEnvironment(defaults.env)).toMatchObject({ PORT: 8080, GRPC_PORT: 8081 });
    const knative = await servingEnvironment([`--model_dir=${dir}`, '--http_port=8080'], { PORT: '9090' });
    expect(validateEnvironment(knative.env).PORT).toBe(9090);
    expect(knative.notes.join()).toMatch(/PORT=9090 is set/);
    expect(
      await failure(servingEnvironment([`--model_dir=${dir}`, '--grpc_port=9000'], { GRPC_PORT: '9001' })),
    ).toMatch(/--grpc_port=9000 contradicts GRPC_PORT=9001/);
    expect(
      await failure(servingEnvironment([`--model_dir=${dir}`], { MODEL_MANIFEST: FIXTURE_MANIFEST })),
    ).toMatch(/--model_dir=.* and MODEL_MANIFEST both say where the model is/);
  });

  it('serves a folder with a manifest under the --model_name KServe gives (the InferenceService name)', async () => {
    const dir = modelFolder('with-manifest', true);
    const same = await servingEnvironment([`--model_dir=${dir}`], {});
    expect(same.env).toMatchObject({ MODEL_MANIFEST: join(dir, 'manifest.json'), MODEL_DIR: dir });
    const named = await servingEnvironment([`--model_dir=${dir}`, '--model_name=food-classifier'], {});
    const copy = JSON.parse(readFileSync(named.env.MODEL_MANIFEST!, 'utf8')) as Record<string, unknown>;
    const original = JSON.parse(readFileSync(FIXTURE_MANIFEST, 'utf8')) as Record<string, unknown>;
    expect(copy).toEqual({ ...original, name: 'food-classifier' });
    expect(named.env.MODEL_DIR).toBe(dir);
    expect(named.notes.join()).toMatch(/served as "food-classifier"/);
  });

  it('drafts a manifest, with a warning, for a plain model file and labels.txt', async () => {
    const dir = modelFolder('plain', false);
    const result = await servingEnvironment([`--model_dir=${dir}`, '--model_name=food101'], {});
    const drafted = JSON.parse(readFileSync(result.env.MODEL_MANIFEST!, 'utf8')) as Record<string, unknown>;
    expect(drafted).toMatchObject({
      name: 'food101',
      format: 'tflite',
      entry: 'mobilenet_v1_0.5_224_fft_int8.tflite',
      labels_file: 'labels.txt',
      input: { height: 224, width: 224, dtype: 'uint8' },
    });
    expect(result.env.MODEL_DIR).toBe(dir);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
    expect(result.warnings.join()).toMatch(
      /has no manifest.json: serving tflite model .* as "food101" with a drafted manifest/,
    );
    const noLabels = join(scratch, 'no-labels');
    mkdirSync(noLabels);
    symlinkSync(join(PLAIN_MODEL, 'mobilenet_v1_0.5_224_fft_int8.tflite'), join(noLabels, 'model.tflite'));
    expect(await failure(servingEnvironment([`--model_dir=${noLabels}`], {}))).toMatch(/no labels file/);
  });

  it('serves a model store (<model>/<version>/manifest.json), --model_name choosing the default model', async () => {
    const store = join(scratch, 'store');
    mkdirSync(join(store, 'food101-mobilenet-v1-int8'), { recursive: true });
    const version = join(store, 'food101-mobilenet-v1-int8', '1');
    mkdirSync(version);
    for (const file of ['mobilenet_v1_0.5_224_fft_int8.tflite', 'labels.txt']) {
      symlinkSync(join(PLAIN_MODEL, file), join(version, file));
    }
    writeFileSync(join(version, 'manifest.json'), readFileSync(FIXTURE_MANIFEST));
    const result = await servingEnvironment(
      [`--model_dir=${store}`, '--model_name=food101-mobilenet-v1-int8'],
      {},
    );
    expect(result.env).toMatchObject({ MODEL_STORE: store, DEFAULT_MODEL: 'food101-mobilenet-v1-int8' });
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    expect(await failure(servingEnvironment([`--model_dir=${empty}`], {}))).toMatch(/holds no model/);
  });
});
