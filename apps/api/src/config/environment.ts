import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
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
  /** With MODEL_STORE: most models loaded at once (0 = all); others load on first request, LRU unloaded. */
  @Min(0) @Max(10_000) @IsInt() @Type(() => Number) MODEL_STORE_MAX_LOADED: number = 0;
  /** With MODEL_STORE_MAX_LOADED: models never unloaded (besides DEFAULT_MODEL), loaded at start. */
  @Transform(toList) @IsString({ each: true }) MODEL_STORE_PINNED: string[] = [];
  /** How long a request waits for its model to load before 503 `model_loading` with Retry-After. */
  @Min(0) @Max(600) @IsInt() @Type(() => Number) MODEL_LOAD_WAIT_SECONDS: number = 10;
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
  /** The seed route abstains (answers `unknown`) under the model's min_confidence; off keeps its answers as they were. */
  @Transform(toBoolean) @IsBoolean() SEED_ABSTAIN: boolean = false;
  /** Prediction log: CloudEvents sink for every classified image (KServe payload-logger types); unset: off. */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  PREDICTION_LOG_URL?: string;
  /** Prediction log: `binary` (ce- headers, the data as the body) or `structured` (application/cloudevents+json). */
  @IsIn(['binary', 'structured']) PREDICTION_LOG_MODE: 'binary' | 'structured' = 'binary';
  /** Prediction log: events waiting to be sent; one more drops the oldest (counted). */
  @Min(2) @Max(1_000_000) @IsInt() @Type(() => Number) PREDICTION_LOG_BUFFER: number = 1000;
  /** Prediction log: events sent at once (each waits for its answer, its retries included). */
  @Min(1) @Max(64) @IsInt() @Type(() => Number) PREDICTION_LOG_CONCURRENCY: number = 4;
  /** Prediction log: one send's deadline, connection included; past it the send is retried. */
  @Min(50) @Max(60_000) @IsInt() @Type(() => Number) PREDICTION_LOG_TIMEOUT_MS: number = 2_000;
  /** Prediction log: retries of a send that timed out, could not connect, or got 5xx or 429. */
  @Min(0) @Max(10) @IsInt() @Type(() => Number) PREDICTION_LOG_RETRIES: number = 3;
  /** Prediction log: let the sink be a private, loopback or cluster-internal address (refused by default). */
  @Transform(toBoolean) @IsBoolean() PREDICTION_LOG_ALLOW_PRIVATE: boolean = false;
  /** Capture: a folder where low-confidence images are written with a JSON sidecar, for relabelling; unset: off. */
  @IsOptional() @IsString() @MinLength(1) PREDICTION_CAPTURE_DIR?: string;
  /** Capture: images whose top-1 probability is under this (or that abstained); default QUALITY_LOW_CONFIDENCE. */
  @IsOptional() @Min(0) @Max(1) @IsNumber() @Type(() => Number) PREDICTION_CAPTURE_BELOW?: number;
  /** Capture: the share of those images written (0..1). */
  @Min(0) @Max(1) @IsNumber() @Type(() => Number) PREDICTION_CAPTURE_SAMPLE: number = 1;
  /** Capture: bytes the folder may hold (images and sidecars); once reached, nothing more is written (counted). */
  @Min(1024) @Max(2 ** 40) @IsInt() @Type(() => Number) PREDICTION_CAPTURE_MAX_BYTES: number = 100 * MIB;
  /** Rollouts: comparison runs (shadow, canary checks) in flight at once; beyond it they are shed (counted). */
  @Min(1) @Max(1024) @IsInt() @Type(() => Number) ROLLOUT_MIRROR_MAX_IN_FLIGHT: number = 8;
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
  /** Bulk jobs: the folder of the embedded job store (a SQLite file and the archives' extracted photos). */
  @IsString() @MinLength(1) JOBS_DIR: string = 'data/jobs';
  /** Bulk jobs: Redis for BullMQ (`redis://host:6379`); every replica on it shares the jobs. Unset: embedded SQLite. */
  @IsOptional()
  @IsUrl({ protocols: ['redis', 'rediss'], require_protocol: true, require_tld: false })
  JOBS_REDIS_URL?: string;
  /** Bulk jobs: items this process classifies at once (each in the background lane, below interactive traffic). */
  @Min(1) @Max(256) @IsInt() @Type(() => Number) JOBS_CONCURRENCY: number = 4;
  /** Bulk jobs: items one API key may have waiting in its unfinished jobs, the new job included. */
  @Min(1) @Max(100_000_000) @IsInt() @Type(() => Number) JOBS_MAX_ITEMS: number = 100_000;
  /** Bulk jobs: largest archive (tar, tar.gz, zip) or JSONL body one job may upload. */
  @Min(1024) @Max(2 ** 40) @IsInt() @Type(() => Number) JOBS_MAX_ARCHIVE_BYTES: number = 512 * MIB;
  /** Bulk jobs: most members one archive may hold. */
  @Min(1) @Max(1_000_000) @IsInt() @Type(() => Number) JOBS_MAX_ARCHIVE_MEMBERS: number = 5_000;
  /** Bulk jobs: most bytes an archive may expand to, and the largest expansion ratio (zip bombs). */
  @Min(1024) @Max(2 ** 42) @IsInt() @Type(() => Number) JOBS_MAX_EXPANDED_BYTES: number = 2048 * MIB;
  @Min(2) @Max(100_000) @IsNumber() @Type(() => Number) JOBS_MAX_COMPRESSION_RATIO: number = 100;
  /** Bulk jobs: tries of an item that failed on the server's side (a worker crashed) before it is a problem. */
  @Min(1) @Max(20) @IsInt() @Type(() => Number) JOBS_ITEM_ATTEMPTS: number = 3;
  /** Bulk jobs on Redis: how long a replica holds an item without renewing it; a dead replica's items move on after it. */
  @Min(1_000) @Max(600_000) @IsInt() @Type(() => Number) JOBS_LEASE_MS: number = 30_000;
}

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

const NUMERIC_LISTS = new Set(['IMAGE_FETCH_ALLOWED_PORTS']);
const OPTIONAL_GRPC = ['GRPC_PORT', 'GRPC_TLS_CERT', 'GRPC_TLS_KEY'];
const OPTIONAL_PREDICTION_LOG = ['PREDICTION_LOG_URL', 'PREDICTION_CAPTURE_DIR', 'PREDICTION_CAPTURE_BELOW'];
const OPTIONAL_JOBS = ['JOBS_REDIS_URL'];

/** Validates the environment; throws one message that names each bad variable and its value. */
export function validateEnvironment(env: Record<string, string | undefined>): EnvironmentVariables {
  const known = Object.keys(new EnvironmentVariables()).concat(
    'MODEL_DIR',
    'MODEL_STORE',
    'DEFAULT_MODEL',
    ...OPTIONAL_GRPC,
    ...OPTIONAL_PREDICTION_LOG,
    ...OPTIONAL_JOBS,
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
