import { readFile } from 'node:fs/promises';
import type { io } from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../manifest/model-load-error';
import type { ResolvedModel } from '../manifest/resolved-model';

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest?: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }>;
  signature?: unknown;
  userDefinedMetadata?: Record<string, object>;
  modelInitializer?: unknown;
}

/**
 * Reads a TF.js `model.json` and its weight shards from disk (no fetch, no tfjs-node) into the artifacts that
 * `tf.io.fromMemory` takes. Shards must be files the manifest listed, so they were size- and hash-checked.
 */
export async function readTfjsArtifacts(resolved: ResolvedModel): Promise<io.ModelArtifacts> {
  const modelJson = JSON.parse(await readFile(resolved.entryPath, 'utf8')) as ModelJson;
  if (!modelJson.modelTopology) {
    throw new ModelLoadError(`${resolved.entryPath} has no modelTopology: it is not a TF.js model.json.`);
  }
  const weightSpecs: io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  const entryDir = resolved.manifest.entry.includes('/')
    ? resolved.manifest.entry.replace(/\/[^/]*$/, '/')
    : '';
  for (const group of modelJson.weightsManifest ?? []) {
    for (const shard of group.paths) {
      const shardPath = resolved.files.get(`${entryDir}${shard}`);
      if (!shardPath) {
        throw new ModelLoadError(
          `Weight shard "${shard}" of ${resolved.entryPath} is not listed in the manifest's files, so it was not verified.`,
        );
      }
      buffers.push(await readFile(shardPath));
    }
    weightSpecs.push(...group.weights);
  }
  const weightData = Buffer.concat(buffers);
  return {
    modelTopology: modelJson.modelTopology as io.ModelArtifacts['modelTopology'],
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy ?? undefined,
    weightSpecs,
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    signature: modelJson.signature as io.ModelArtifacts['signature'],
    userDefinedMetadata: modelJson.userDefinedMetadata,
  };
}
