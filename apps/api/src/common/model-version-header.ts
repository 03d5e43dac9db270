import type { Response } from 'express';

/** The header every answer of a model carries: which version answered (a canary splits traffic between two). */
export const MODEL_VERSION_HEADER = 'X-Model-Version';

/** Sets X-Model-Version on an HTTP answer. */
export function setModelVersion(response: Response, version: string | undefined): void {
  if (version !== undefined) response.setHeader(MODEL_VERSION_HEADER, version);
}
