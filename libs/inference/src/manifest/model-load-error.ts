/** A model that cannot be served; `message` is one sentence that says what is wrong and what to do. */
export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}
