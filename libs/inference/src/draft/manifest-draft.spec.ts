import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { efficientNetLikeFile } from '../../../../test/support/efficientnet-like-keras';
import { writeKerasH5 } from '../../../../test/support/keras-h5-writer';
import { FIXTURE_MODELS } from '../../../../test/support/shared-data';
import { draftManifest } from './manifest-draft';
import { rescalingFromYaml } from './preprocessing-evidence';

const work = mkdtempSync(join(tmpdir(), 'manifest-draft-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('draftManifest', () => {
  it('drafts a Keras .h5 folder: format, files with sha256, input size from the config, softmax output, value_range from the training config beside it', async () => {
    const { dir } = FIXTURE_MODELS.food101KerasH5;
    const { manifest, check } = await draftManifest(dir, join(dir, 'labels.txt'));
    expect(manifest.format).toBe('keras-h5');
    expect(manifest.entry).toBe('mobilenet_v2_0.35_224_fft.h5');
    expect(manifest.files).toEqual([
      {
        path: 'mobilenet_v2_0.35_224_fft.h5',
        size: 2633608,
        sha256: '5179cb9ff3072c7da02efea0e62de20716aa541fec641a0c07339a44562cf72c',
      },
      {
        path: 'labels.txt',
        size: 1184,
        sha256: 'eb6b396455a281445a698d8af22b2142be9a6eb9401520ee702746545f1c8820',
      },
    ]);
    expect(manifest.labels_file).toBe('labels.txt');
    expect(manifest.input).toMatchObject({ height: 224, width: 224, dtype: 'float32', value_range: [-1, 1] });
    expect(manifest.output.kind).toBe('probabilities');
    expect(check.join(' ')).toMatch(
      /value_range \[-1, 1\]: from mobilenet_v2_0\.35_224_fft_config\.yaml \(preprocessing\.rescaling: scale 0\.007843, offset -1\)/,
    );
  });

  it('refuses to guess the input scaling of a float model when nothing says it, and takes --value-range', async () => {
    const { dir } = FIXTURE_MODELS.mobilenetV2Tfjs;
    const labels = join(work, 'five.txt');
    writeFileSync(labels, 'a\nb\nc\nd\ne\n');
    await expect(draftManifest(dir, labels)).rejects.toThrow(
      /cannot tell the input scaling of model\.json: .* pass --value-range=-1,1/,
    );
    const { manifest } = await draftManifest(dir, labels, { valueRange: [0, 1] });
    expect(manifest.input.value_range).toEqual([0, 1]);
  });

  it('reads a TFLite model’s input size and uint8 dtype with LiteRT', async () => {
    const { dir } = FIXTURE_MODELS.food101Tflite;
    const { manifest } = await draftManifest(dir, join(dir, 'labels.txt'));
    expect(manifest.format).toBe('tflite');
    expect(manifest.input).toMatchObject({ height: 224, width: 224, dtype: 'uint8', value_range: [0, 255] });
  });

  it('lists a TF.js model’s weight shards and inlines labels kept outside the folder', async () => {
    const { dir } = FIXTURE_MODELS.mobilenetV2Tfjs;
    const labels = join(work, 'nsfw-labels.txt');
    writeFileSync(labels, 'Drawing\nHentai\nNeutral\nPorn\nSexy\n');
    const { manifest } = await draftManifest(dir, labels, { valueRange: [0, 1] });
    expect(manifest.format).toBe('tfjs-layers');
    expect(manifest.files.map((file) => file.path)).toEqual(['model.json', 'group1-shard1of1.bin']);
    expect(manifest.labels).toEqual(['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
    expect(manifest.input).toMatchObject({ height: 224, width: 224 });
  });

  it('takes raw pixels for a model with a Rescaling layer inside', async () => {
    const dir = join(work, 'efficientnet-like');
    mkdirSync(dir);
    await writeKerasH5(join(dir, 'model.h5'), efficientNetLikeFile());
    writeFileSync(join(dir, 'labels.txt'), 'a\nb\nc\nd\ne\n');
    const { manifest, check } = await draftManifest(dir, join(dir, 'labels.txt'));
    expect(manifest.input).toMatchObject({ height: 8, width: 8, value_range: [0, 255] });
    expect(check.join(' ')).toMatch(/has a Rescaling\/Normalization layer/);
  });

  it('refuses a folder with two models', async () => {
    const dir = join(work, 'two');
    mkdirSync(dir);
    copyFileSync(join(FIXTURE_MODELS.food101Tflite.dir, 'labels.txt'), join(dir, 'labels.txt'));
    writeFileSync(join(dir, 'a.tflite'), 'x');
    writeFileSync(join(dir, 'b.onnx'), 'x');
    await expect(draftManifest(dir, join(dir, 'labels.txt'))).rejects.toThrow(
      /holds several models \(a\.tflite, b\.onnx\): choose one with --entry/,
    );
  });
});

describe('rescalingFromYaml (STM32 model zoo training configs)', () => {
  it('reads block and flow styles, fractions included', () => {
    expect(
      rescalingFromYaml(
        'preprocessing:\n  rescaling:\n    scale: 1/127.5\n    offset: -1\n  resizing:\n    interpolation: nearest\n',
      ),
    ).toEqual({
      scale: 1 / 127.5,
      offset: -1,
    });
    expect(rescalingFromYaml('preprocessing:\n  rescaling: { scale: 1/255.0, offset: 0.0 }\n')).toEqual({
      scale: 1 / 255,
      offset: 0,
    });
  });

  it('finds nothing where the section or its scale is missing', () => {
    expect(rescalingFromYaml('training:\n  rescaling:\n    scale: 2\n')).toBeUndefined();
    expect(rescalingFromYaml('preprocessing:\n  resizing:\n    interpolation: nearest\n')).toBeUndefined();
    expect(rescalingFromYaml('preprocessing:\n  rescaling:\n    offset: 1\n')).toBeUndefined();
  });
});
