import { readFileSync } from 'node:fs';
import type { ResolvedModel } from '../manifest/resolved-model';
import { toProbabilities } from '../processing/probabilities';
import { DEFAULT_RUNTIME_OPTIONS } from '../runtimes/create-runtime';
import { ImageInference } from '../workers/image-inference';
import type { ProfiledPhoto } from './reference-profile';

/**
 * Every photo through `resolved` as the service classifies it (the same decode, resize, preprocessing and engine,
 * on this thread): each photo's label and probabilities, in order. `onPhoto` reports progress.
 */
export async function classifyLabelledPhotos(
  resolved: ResolvedModel,
  photos: ReadonlyArray<{ path: string; label: string }>,
  onPhoto: (done: number, total: number) => void = () => undefined,
): Promise<ProfiledPhoto[]> {
  const inference = await ImageInference.open(resolved, {
    runtime: DEFAULT_RUNTIME_OPTIONS,
    maxPixels: 40_000_000,
    warmup: false,
  });
  try {
    const results: ProfiledPhoto[] = [];
    for (const photo of photos) {
      const reply = await inference.infer(readFileSync(photo.path));
      results.push({
        label: photo.label,
        probabilities: toProbabilities(reply.scores, resolved.manifest.output.kind),
      });
      onPhoto(results.length, photos.length);
    }
    return results;
  } finally {
    inference.dispose();
  }
}
