import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { problem } from '@app/problem';
import { INFERENCE_OPTIONS, type InferenceModuleOptions } from './inference.options';
import type { LoadedModel, ModelState } from './loaded-model';
import { readManifest, resolveModel } from './manifest/manifest-loader';
import { pullMissingModel } from './store/first-start-pull';
import { toModelInput } from './postprocess/to-model-input';
import { checkRuntimeMatchesManifest, createRuntime } from './runtimes/create-runtime';

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

  onApplicationShutdown(): void {
    if (this.state.status === 'ready') this.state.model.runtime.dispose();
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
    this.state = { status: 'loading', manifest: await readManifest(this.options.manifestPath) };
    // A first start without MODEL_DIR fetches the model its manifest pins (e.g. the default) into its folder.
    if (!this.options.modelDir) await pullMissingModel(this.options.manifestPath, this.logger);
    const resolved = await resolveModel({ manifestPath: this.options.manifestPath, modelDir: this.options.modelDir });
    const runtime = await createRuntime(resolved);
    try {
      checkRuntimeMatchesManifest(runtime, resolved);
    } catch (error) {
      runtime.dispose();
      throw error;
    }
    const loadMs = performance.now() - started;
    let warmupMs = 0;
    if (this.options.warmup !== false) {
      const warmStarted = performance.now();
      const { width, height } = resolved.manifest.input;
      const blank = { data: new Uint8Array(width * height * 3).fill(128), width, height };
      await runtime.run(toModelInput(blank, resolved.manifest.input));
      warmupMs = performance.now() - warmStarted;
    }
    const { name, version, format } = resolved.manifest;
    this.logger.log(
      `Model ${name}@${version} (${format}) ready on ${runtime.engine}/${runtime.backend}: loaded in ${Math.round(loadMs)} ms, warmed in ${Math.round(warmupMs)} ms`,
    );
    return { resolved, runtime, loadedAt: new Date(), loadMs, warmupMs };
  }
}
