/** A model that cannot be served; `message` is one sentence that says what is wrong and what to do. */
export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

/** A model whose load and warm-up did not finish within MODEL_LOAD_TIMEOUT_SECONDS; its workers were stopped. */
export class ModelLoadTimeoutError extends ModelLoadError {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadTimeoutError';
  }
}
