import { readdir, readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { digestFile } from '../manifest/file-digest';
import { detect } from './detect-format';
import type { DraftOptions, ManifestDraft } from './draft-types';
import { mapLambdaLayers } from './lambda-mapping';
import { chooseValueRange } from './value-range';

export type { DraftOptions, ManifestDraft } from './draft-types';

async function readLabels(path: string): Promise<string[]> {
  const text = (await readFile(path, 'utf8')).trim();
  if (text.startsWith('[')) return JSON.parse(text) as string[];
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Drafts a manifest for a model folder: detects the format, lists the files with their size and sha256,
 * reads the input size (and dtype, output activation, built-in rescaling) where the format records it, and
 * says which values are guesses. The labels file is listed when it is in the folder, else inlined.
 */
export async function draftManifest(
  modelDir: string,
  labelsPath: string,
  options: DraftOptions = {},
): Promise<ManifestDraft> {
  const dir = resolve(modelDir);
  const names = (await readdir(dir, { recursive: true }))
    .map(String)
    .filter((name) => !name.endsWith('manifest.json'));
  const detected = await detect(dir, names, options.entry);
  const check: string[] = [];
  const labelsAbsolute = resolve(labelsPath);
  const labelsRelative = relative(dir, labelsAbsolute);
  const labelsInside = !labelsRelative.startsWith('..') && !isAbsolute(labelsRelative);
  const labels = await readLabels(labelsAbsolute);
  const files = [...detected.files, ...(labelsInside ? [labelsRelative] : [])];
  const entries = [];
  for (const path of files) {
    const digest = await digestFile(join(dir, path));
    entries.push({ path, size: digest.size, sha256: digest.sha256 });
  }
  const shape = detected.inputShape;
  let height = 224;
  let width = 224;
  if (shape && shape.length === 4 && typeof shape[1] === 'number' && typeof shape[2] === 'number') {
    [height, width] = [shape[1], shape[2]];
  } else {
    check.push(`input.height/width: the model does not record its input size; 224×224 is a guess.`);
  }
  const dtype = detected.inputDtype ?? 'float32';
  const valueRange = await chooseValueRange(dir, names, detected, dtype, options, check);
  const lambdaLayers = mapLambdaLayers(dir, detected.lambdaLayers ?? [], options, check);
  const kind = detected.outputKind ?? 'probabilities';
  if (!detected.outputKind)
    check.push('output.kind "probabilities" is a guess: use "logits" if the last layer has no softmax.');
  check.push(
    'input.channel_order RGB, input.resize bilinear/fill: match how the training images were loaded.',
  );
  check.push('source and license: say where the weights come from and whether they may be redistributed.');
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 64) || 'model';
  return {
    manifest: {
      name,
      version: '1',
      description: `${detected.format} model from ${basename(dir)}`,
      format: detected.format,
      entry: detected.entry,
      files: entries,
      ...(labelsInside ? { labels_file: labelsRelative } : { labels }),
      input: {
        height,
        width,
        channels: 3,
        dtype,
        channel_order: 'RGB',
        value_range: valueRange,
        resize: { method: 'bilinear', fit: 'fill' },
      },
      output: { kind },
      ...(lambdaLayers ? { lambda_layers: lambdaLayers } : {}),
      source: {},
      license: { name: 'unknown', redistributable: false },
    },
    check,
  };
}
