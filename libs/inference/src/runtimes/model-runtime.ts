/** One image as the model takes it: NHWC with a batch of one. */
export interface ModelInput {
  data: Uint8Array<ArrayBuffer> | Float32Array<ArrayBuffer>;
  shape: [1, number, number, number];
}

export interface RuntimeInfo {
  /** The inference engine, e.g. `litert` or `tfjs`. */
  engine: string;
  /** Where the engine runs its kernels, e.g. `wasm-xnnpack`, `tensorflow` (tfjs-node), `wasm`, `cpu`. */
  backend: string;
}

/** A loaded model in one engine; the HTTP layer never sees which. */
export interface ModelRuntime extends RuntimeInfo {
  /** [1, height, width, channels] the model was built for. */
  readonly inputShape: readonly number[];
  readonly inputDtype: 'uint8' | 'float32';
  /** Number of scores the model outputs per image. */
  readonly outputSize: number;
  run(input: ModelInput): Promise<Float32Array>;
  dispose(): void;
}
