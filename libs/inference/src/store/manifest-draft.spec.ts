import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { efficientNetLikeFile } from '../../../../test/support/efficientnet-like-keras';
import { writeKerasH5 } from '../../../../test/support/keras-h5-writer';
import { FIXTURE_MODELS } from '../../../../test/support/shared-data';
import { draftManifest } from './manifest-draft';

const work = mkdtempSync(join(tmpdir(), 'manifest-draft-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('draftManifest', () => {
  it('drafts a Keras .h5 folder: format, files with sha256, input size from the config, softmax output, value_range flagged', async () => {
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
    expect(manifest.input).toMatchObject({ height: 224, width: 224, dtype: 'float32', value_range: [0, 1] });
    expect(manifest.output.kind).toBe('probabilities');
    expect(check.join(' ')).toMatch(/value_range \[0, 1\] is a guess/);
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
    const { manifest } = await draftManifest(dir, labels);
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
      /holds several models \(a\.tflite, b\.onnx\)/,
    );
  });
});
