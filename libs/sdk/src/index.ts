import { createClient, createConfig, formDataBodySerializer } from './generated/client';
import { FoodVisionApi, type Options } from './generated/sdk.gen';
import type { PredictData, PredictionRequest, PredictionUpload } from './generated/types.gen';

export { FoodVisionApi } from './generated/sdk.gen';
export type * from './generated/types.gen';

export interface FoodVisionClientOptions {
  /** Sent with every request, e.g. an API key header. */
  headers?: Record<string, string>;
  /** A fetch implementation (defaults to the global fetch); tests wrap it to check every response. */
  fetch?: typeof fetch;
}

/**
 * A typed client for the Food Vision API at `baseUrl` (e.g. `http://localhost:5000`), generated from
 * openapi/openapi.json: one method per operation (`predict`, `predictBatch`, `listModels`, `getModel`...).
 * Each returns `{ data, error, response }`: `data` on 2xx, `error` (a `Problem`) otherwise.
 */
export function createFoodVisionClient(
  baseUrl: string,
  options: FoodVisionClientOptions = {},
): FoodVisionApi {
  const client = createClient(createConfig({ baseUrl, headers: options.headers, fetch: options.fetch }));
  return new FoodVisionApi({ client });
}

/**
 * Options for `predict` that upload the photo file as multipart/form-data instead of JSON:
 * `api.predict(uploadPhoto({ image: blob, top_k: 3 }))`. The generated method types the JSON body only.
 */
export function uploadPhoto(upload: PredictionUpload): Options<PredictData> {
  return {
    // The serializer turns the fields into FormData; the JSON type is what the generated signature asks for.
    body: upload as unknown as PredictionRequest,
    ...formDataBodySerializer,
    // fetch sets multipart/form-data with its boundary once the JSON default is removed.
    headers: { 'Content-Type': null },
  };
}
