import sharp from 'sharp';
import type { RgbImage } from '@app/inference';
import { problem } from '@app/problem';
import type { ModelInputImageDto } from './dto/model-input-image.dto';

/** The extras `?include=` may ask `POST /v1/predictions` for. */
export const PREDICTION_INCLUDES = ['model_input'] as const;
export type PredictionInclude = (typeof PREDICTION_INCLUDES)[number];

/** `include=model_input` (comma-separated; absent or empty: nothing extra); anything else is a 400. */
export function parseIncludes(raw: unknown): Set<PredictionInclude> {
  if (raw === undefined || raw === '') return new Set();
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((value) =>
    typeof value === 'string' ? value.split(',').map((part) => part.trim()) : [String(value)],
  );
  const unknown = values.filter((value) => !(PREDICTION_INCLUDES as readonly string[]).includes(value));
  if (unknown.length > 0) {
    const message = `include must be a comma-separated list of: ${PREDICTION_INCLUDES.join(', ')}`;
    throw problem('validation_failed', `${message} (got ${JSON.stringify(unknown[0])}).`, {
      errors: [{ field: 'include', message }],
    });
  }
  return new Set(values as PredictionInclude[]);
}

/** The model's input pixels as a small lossless PNG (a 224 × 224 photo is about 100 KB). */
export async function toModelInputImage(input: RgbImage): Promise<ModelInputImageDto> {
  const png = await sharp(input.data, { raw: { width: input.width, height: input.height, channels: 3 } })
    .png()
    .toBuffer();
  return { media_type: 'image/png', width: input.width, height: input.height, data: png.toString('base64') };
}
