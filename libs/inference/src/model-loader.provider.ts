import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { problem } from '@app/problem';
import { INFERENCE_DEFAULTS, INFERENCE_OPTIONS, type InferenceModuleOptions } from './inference.options';
import type { LoadedModel, ModelState } from './loaded-model';
import { readManifest, resolveModel } from './manifest/manifest-loader';
import { pullMissingModel } from './store/first-start-pull';
import { InferenceScheduler } from './workers/inference-scheduler';

/**
 * Loads, verifies and warms the configured model in the background once the app has started, so the HTTP
 * server listens at once (Heroku kills a dyno that has not bound $PORT in 60 s) and readiness reports the truth.
 */
@Injectable()
export class ModelLoader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelLoader.name);
  private state: ModelState = { status: 'loading' };
  private loading?: Promise<ModelState>;

  constructor(@Inject(INFERENCE_OPTIONS) private readonly options: InferenceModuleOptions) {}

  onApplicationBootstrap(): void {
    void this.load();
  }

  async onApplicationShutdown(): Promise<void> {
    // A load still under way finishes first, so its workers are stopped too.
    const state = this.loading ? await this.loading : this.state;
    if (state.status === 'ready') await state.model.inference.close();
  }

  /** Starts loading once; resolves with the final state (never rejects). */
  load(): Promise<ModelState> {
    this.loading ??= this.loadAndWarm().then(
      (model) => (this.state = { status: 'ready', manifest: model.resolved.manifest, model }),
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.error(`Model not loaded: ${reason}`);
        return (this.state = { status: 'failed', manifest: this.state.manifest, reason });
      },
    );
    return this.loading;
  }

  get modelState(): ModelState {
    return this.state;
  }

  /** The ready model, or a 503 problem that says why there is none. */
  ready(): LoadedModel {
    if (this.state.status === 'ready') return this.state.model;
    const detail =
      this.state.status === 'loading'
        ? 'The model is still loading; retry in a few seconds.'
        : `The model could not be loaded: ${this.state.reason}`;
    throw problem('model_not_ready', detail, { retry_after_seconds: 5 });
  }

  private async loadAndWarm(): Promise<LoadedModel> {
    const started = performance.now();
    const { options } = this;
    this.state = { status: 'loading', manifest: await readManifest(options.manifestPath) };
    // A first start without MODEL_DIR fetches the model its manifest pins (e.g. the default) into its folder.
    if (!this.options.modelDir) await pullMissingModel(this.options.manifestPath, this.logger);
    const resolved = await resolveModel({ manifestPath: options.manifestPath, modelDir: options.modelDir });
    const inference = await InferenceScheduler.start(resolved, {
      workers: options.workers ?? availableParallelism(),
      maxQueue: options.queueSize ?? INFERENCE_DEFAULTS.queueSize,
      timeoutMs: options.timeoutMs ?? INFERENCE_DEFAULTS.timeoutMs,
      maxPixels: options.maxImagePixels ?? INFERENCE_DEFAULTS.maxImagePixels,
      warmup: options.warmup !== false,
      runtime: {
        floatEngine: options.floatEngine ?? INFERENCE_DEFAULTS.floatEngine,
        threads: options.threadsPerWorker ?? INFERENCE_DEFAULTS.threadsPerWorker,
      },
    });
    const { engine, backend, workers, threadsPerWorker, warmupMs } = inference.info;
    const loadMs = performance.now() - started - warmupMs;
    const { name, version, format } = resolved.manifest;
    const layout =
      workers === 0
        ? 'on the main thread'
        : `in ${workers} worker${workers > 1 ? 's' : ''} × ${threadsPerWorker} thread${threadsPerWorker > 1 ? 's' : ''}`;
    this.logger.log(
      `Model ${name}@${version} (${format}) ready on ${engine}/${backend} ${layout}: loaded in ${Math.round(loadMs)} ms, warmed in ${Math.round(warmupMs)} ms`,
    );
    return {
      resolved,
      runtime: { engine, backend, workers, threadsPerWorker },
      inference,
      loadedAt: new Date(),
      loadMs,
      warmupMs,
    };
  }
}
