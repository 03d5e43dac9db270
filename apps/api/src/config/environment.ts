import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { availableParallelism } from 'node:os';
import { allowlistEntryError } from '@app/image-fetch';

const MIB = 1024 * 1024;
export const DEFAULT_MODEL_MANIFEST = 'model-artifacts/food-vision-efficientnetb0/manifest.json';

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
    : value;
const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** Every environment variable the service reads, with its default; an invalid value stops the start. */
export class EnvironmentVariables {
  @Min(0) @Max(65535) @IsInt() @Type(() => Number) PORT: number = 5000;
  @IsString() @MinLength(1) HOST: string = '0.0.0.0';
  /** Open Inference Protocol over gRPC on this port; unset: no gRPC server (KServe flags: 8081). 0: any free port. */
  @IsOptional() @Min(0) @Max(65535) @IsInt() @Type(() => Number) GRPC_PORT?: number;
  /** PEM certificate chain and private key paths: gRPC over TLS (both or neither; default plaintext). */
  @IsOptional() @IsString() @MinLength(1) GRPC_TLS_CERT?: string;
  @IsOptional() @IsString() @MinLength(1) GRPC_TLS_KEY?: string;
  @IsString() @MinLength(1) MODEL_MANIFEST: string = DEFAULT_MODEL_MANIFEST;
  @IsOptional() @IsString() @MinLength(1) MODEL_DIR?: string;
  /** A model repository `<store>/<model>/<version>/manifest.json`; when set, every model in it is served. */
  @IsOptional() @IsString() @MinLength(1) MODEL_STORE?: string;
  /** With MODEL_STORE: the model for requests that name none (default: the first by name). */
  @IsOptional() @IsString() @MinLength(1) DEFAULT_MODEL?: string;
  /** With MODEL_STORE: rescan every N seconds and swap in new versions (0 = off). */
  @Min(0) @Max(86_400) @IsInt() @Type(() => Number) MODEL_STORE_POLL_SECONDS: number = 0;
  @Transform(toBoolean) @IsBoolean() MODEL_WARMUP: boolean = true;
  @Min(1024) @Max(100 * MIB) @IsInt() @Type(() => Number) MAX_IMAGE_BYTES: number = 10 * MIB;
  @Min(1) @Max(500_000_000) @IsInt() @Type(() => Number) MAX_IMAGE_PIXELS: number = 40_000_000;
  /** Deepest nesting of arrays and objects a JSON body may have; deeper is 400 `json_too_deep`, before parsing. */
  @Min(2) @Max(1_000) @IsInt() @Type(() => Number) MAX_JSON_DEPTH: number = 64;
  /** Longest a client may take to send one request (headers and body); past it 408 and the connection closes. */
  @Min(1_000) @Max(600_000) @IsInt() @Type(() => Number) HTTP_REQUEST_TIMEOUT_MS: number = 60_000;
  @Min(100) @Max(60_000) @IsInt() @Type(() => Number) IMAGE_FETCH_CONNECT_TIMEOUT_MS: number = 3_000;
  @Min(100) @Max(120_000) @IsInt() @Type(() => Number) IMAGE_FETCH_TIMEOUT_MS: number = 10_000;
  @Min(0) @Max(10) @IsInt() @Type(() => Number) IMAGE_FETCH_MAX_REDIRECTS: number = 3;
  @Min(1, { each: true })
  @Max(65535, { each: true })
  @IsInt({ each: true })
  IMAGE_FETCH_ALLOWED_PORTS: number[] = [80, 443];
  @Transform(toList) @IsString({ each: true }) IMAGE_FETCH_ALLOW_HOSTS: string[] = [];
  /** Most photos one `POST /v1/predictions/batch` (or one V2 BYTES tensor) may carry. */
  @Min(1) @Max(256) @IsInt() @Type(() => Number) MAX_BATCH_ITEMS: number = 16;
  /** `*` for any origin (the seed's behaviour), or a comma-separated list of origins. */
  @Transform(toList) @IsString({ each: true }) CORS_ORIGINS: string[] = ['*'];
  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']) LOG_LEVEL: string = 'log';
  /** Worker threads that decode and classify images, each holding the model; 0 runs them on the main thread. */
  @Min(0) @Max(256) @IsInt() @Type(() => Number) INFERENCE_WORKERS: number = availableParallelism();
  /** Engine threads per worker (onnxruntime intra-op threads); one worker × one thread per core measured best. */
  @Min(1) @Max(64) @IsInt() @Type(() => Number) INFERENCE_THREADS_PER_WORKER: number = 1;
  /** Requests that may wait for a free worker; one more gets 503 `overloaded` with Retry-After at once. */
  @Min(0) @Max(100_000) @IsInt() @Type(() => Number) INFERENCE_QUEUE_SIZE: number = 64;
  /** Workers background work (explanations) may hold at once; 0: one fewer than INFERENCE_WORKERS, at least 1. */
  @Min(0) @Max(256) @IsInt() @Type(() => Number) BACKGROUND_WORKERS: number = 0;
  /** Background images (an explanation's masked variants) that may wait; one more gets 503 `overloaded`. */
  @Min(1) @Max(100_000) @IsInt() @Type(() => Number) BACKGROUND_QUEUE_SIZE: number = 64;
  /** Top-1 probability under which an answer counts as low-confidence in the quality metrics. */
  @Min(0) @Max(1) @IsNumber() @Type(() => Number) QUALITY_LOW_CONFIDENCE: number = 0.5;
  /** Drift: the most recent answers compared with the reference profile, per model version. */
  @Min(10) @Max(100_000) @IsInt() @Type(() => Number) DRIFT_WINDOW_SIZE: number = 200;
  /** Drift: answers older than this leave the window. */
  @Min(10) @Max(30 * 24 * 3600) @IsInt() @Type(() => Number) DRIFT_WINDOW_SECONDS: number = 3600;
  /** Drift: answers needed in the window before a status other than warming_up. */
  @Min(1) @Max(100_000) @IsInt() @Type(() => Number) DRIFT_MIN_PREDICTIONS: number = 50;
  /** Drift: Jensen–Shannon divergence of the top-1 confidence distribution above which the status is drifting. */
  @Min(0) @Max(1) @IsNumber() @Type(() => Number) DRIFT_CONFIDENCE_THRESHOLD: number = 0.2;
  /** Drift: Jensen–Shannon divergence of the class mix above which the status is drifting. */
  @Min(0) @Max(1) @IsNumber() @Type(() => Number) DRIFT_CLASS_MIX_THRESHOLD: number = 0.5;
  /** Largest occlusion grid (patch positions) one explanation may ask for; each is one model run. */
  @Min(1) @Max(10_000) @IsInt() @Type(() => Number) EXPLAIN_MAX_GRID_CELLS: number = 400;
  /** Most items a `POST /v1/predictions/batch?explain=...` may carry. */
  @Min(1) @Max(256) @IsInt() @Type(() => Number) EXPLAIN_MAX_BATCH_ITEMS: number = 2;
  /** Deadline for one classification, queueing included; past it the request gets 503 `inference_timeout`. */
  @Min(100) @Max(120_000) @IsInt() @Type(() => Number) INFERENCE_TIMEOUT_MS: number = 5_000;
  /** Deadline for loading and warming up a model; past it its workers are stopped and readiness says it failed. */
  @Min(1) @Max(3_600) @IsInt() @Type(() => Number) MODEL_LOAD_TIMEOUT_SECONDS: number = 120;
  /** Engine for float Keras/TF.js models: `onnxruntime` (converted at load; tfjs if it cannot be) or `tfjs`. */
  @IsIn(['onnxruntime', 'tfjs']) INFERENCE_FLOAT_ENGINE: 'onnxruntime' | 'tfjs' = 'onnxruntime';
  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before their connections are cut. */
  @Min(0) @Max(600_000) @IsInt() @Type(() => Number) SHUTDOWN_DRAIN_TIMEOUT_MS: number = 25_000;
  /** Comma-separated API keys; empty (the default) leaves the API open. Probes, /metrics and /docs stay open. */
  @Transform(toList) @IsString({ each: true }) API_KEYS: string[] = [];
  /** Requests per minute per client (API key, else IP address); 0 (the default) turns rate limiting off. */
  @Min(0) @Max(1_000_000) @IsInt() @Type(() => Number) RATE_LIMIT_PER_MINUTE: number = 0;
  /** How many proxies in front of the service to trust for the client address (X-Forwarded-For); Heroku: 1. */
  @Min(0) @Max(10) @IsInt() @Type(() => Number) TRUST_PROXY_HOPS: number = 0;
}

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

const NUMERIC_LISTS = new Set(['IMAGE_FETCH_ALLOWED_PORTS']);
const OPTIONAL_GRPC = ['GRPC_PORT', 'GRPC_TLS_CERT', 'GRPC_TLS_KEY'];

/** Validates the environment; throws one message that names each bad variable and its value. */
export function validateEnvironment(env: Record<string, string | undefined>): EnvironmentVariables {
  const known = Object.keys(new EnvironmentVariables()).concat(
    'MODEL_DIR',
    'MODEL_STORE',
    'DEFAULT_MODEL',
    ...OPTIONAL_GRPC,
  );
  const input: Record<string, unknown> = {};
  for (const key of known) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    input[key] = NUMERIC_LISTS.has(key) ? value.split(',').map((item) => Number(item.trim())) : value;
  }
  const config = plainToInstance(EnvironmentVariables, input, { exposeDefaultValues: true });
  const problems = validateSync(config, { stopAtFirstError: true }).map(
    (error) =>
      `${error.property}=${JSON.stringify(env[error.property])}: ${Object.values(error.constraints ?? {}).join(', ')}`,
  );
  for (const entry of config.IMAGE_FETCH_ALLOW_HOSTS ?? []) {
    const why = allowlistEntryError(entry);
    if (why) problems.push(`IMAGE_FETCH_ALLOW_HOSTS entry ${JSON.stringify(entry)}: ${why}`);
  }
  if ((config.GRPC_TLS_CERT === undefined) !== (config.GRPC_TLS_KEY === undefined)) {
    problems.push('GRPC_TLS_CERT and GRPC_TLS_KEY: set both (TLS) or neither (plaintext)');
  }
  if (problems.length > 0) throw new ConfigurationError(`Invalid configuration: ${problems.join('; ')}.`);
  return config;
}
