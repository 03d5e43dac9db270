import type { EnvironmentVariables } from '../config/environment';

export type ContentMode = 'binary' | 'structured';

/** Where and how the CloudEvents go (PREDICTION_LOG_*). */
export interface SinkSettings {
  url: URL;
  mode: ContentMode;
  /** Events that may wait to be sent. */
  bufferSize: number;
  /** Events sent at once. */
  concurrency: number;
  timeoutMs: number;
  /** Tries after the first one. */
  retries: number;
  allowPrivate: boolean;
}

/** Which images are written for relabelling (PREDICTION_CAPTURE_*). */
export interface CaptureSettings {
  dir: string;
  /** Images whose top-1 probability is under this, or that abstained. */
  below: number;
  /** The share of those written, 0..1. */
  sample: number;
  maxBytes: number;
}

/** Both are off unless configured: no sink URL, no log; no capture folder, no capture. */
export interface PredictionLogSettings {
  sink?: SinkSettings;
  capture?: CaptureSettings;
}

const KEYS = [
  'PREDICTION_LOG_URL',
  'PREDICTION_LOG_MODE',
  'PREDICTION_LOG_BUFFER',
  'PREDICTION_LOG_CONCURRENCY',
  'PREDICTION_LOG_TIMEOUT_MS',
  'PREDICTION_LOG_RETRIES',
  'PREDICTION_LOG_ALLOW_PRIVATE',
  'PREDICTION_CAPTURE_DIR',
  'PREDICTION_CAPTURE_BELOW',
  'PREDICTION_CAPTURE_SAMPLE',
  'PREDICTION_CAPTURE_MAX_BYTES',
  'QUALITY_LOW_CONFIDENCE',
] as const satisfies ReadonlyArray<keyof EnvironmentVariables>;

/** The variables the prediction log reads. */
export type PredictionLogEnvironment = Pick<EnvironmentVariables, (typeof KEYS)[number]>;

/** Those variables, read one by one (from the ConfigService). */
export function readPredictionLogEnvironment(
  get: (key: (typeof KEYS)[number]) => unknown,
): PredictionLogEnvironment {
  return Object.fromEntries(KEYS.map((key) => [key, get(key)])) as PredictionLogEnvironment;
}

/** The prediction log's settings from the validated environment. */
export function predictionLogSettings(config: PredictionLogEnvironment): PredictionLogSettings {
  const settings: PredictionLogSettings = {};
  if (config.PREDICTION_LOG_URL) {
    settings.sink = {
      url: new URL(config.PREDICTION_LOG_URL),
      mode: config.PREDICTION_LOG_MODE,
      bufferSize: config.PREDICTION_LOG_BUFFER,
      concurrency: config.PREDICTION_LOG_CONCURRENCY,
      timeoutMs: config.PREDICTION_LOG_TIMEOUT_MS,
      retries: config.PREDICTION_LOG_RETRIES,
      allowPrivate: config.PREDICTION_LOG_ALLOW_PRIVATE,
    };
  }
  if (config.PREDICTION_CAPTURE_DIR) {
    settings.capture = {
      dir: config.PREDICTION_CAPTURE_DIR,
      below: config.PREDICTION_CAPTURE_BELOW ?? config.QUALITY_LOW_CONFIDENCE,
      sample: config.PREDICTION_CAPTURE_SAMPLE,
      maxBytes: config.PREDICTION_CAPTURE_MAX_BYTES,
    };
  }
  return settings;
}
