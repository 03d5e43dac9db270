/** A Keras file or model this library cannot read or rebuild; `message` says what is wrong and what to do. */
export class KerasModelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KerasModelError';
  }
}
