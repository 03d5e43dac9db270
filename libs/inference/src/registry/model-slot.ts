import type { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedModel, ModelState } from './loaded-model';
import type { ModelManifest } from '../manifest/model-manifest';
import { readManifest } from '../manifest/manifest-loader';
import { ModelLoadTimeoutError } from '../manifest/model-load-error';
import type { ModelLocation } from '../manifest/model-location';

export type ModelStarter = (location: ModelLocation) => Promise<LoadedModel>;

/** Why a load or reload failed, for the load-failure metric. */
export type LoadFailureCause = 'timeout' | 'error';

const DRAIN_POLL_MS = 20;

/**
 * One served model. Its first load runs once; a reload loads and warms the new files beside the old ones,
 * swaps, and only then releases the old model once its in-flight work is done (TF Serving's
 * availability-preserving policy): requests never see a gap. A failed reload leaves the old model serving.
 */
export class ModelSlot {
  private state: ModelState = { status: 'loading' };
  private firstLoad?: Promise<ModelState>;
  private reloading?: Promise<ModelState>;
  private onDemand?: Promise<ModelState>;
  /** Failed loads and reloads so far, by cause. */
  readonly loadFailures: Record<LoadFailureCause, number> = { timeout: 0, error: 0 };

  constructor(
    readonly name: string,
    private location: ModelLocation,
    private readonly start: ModelStarter,
    private readonly logger: Pick<Logger, 'log' | 'error' | 'warn'>,
    private readonly drainTimeoutMs: number,
    /** Loaded on its first request, and unloaded when memory is needed (MODEL_STORE_MAX_LOADED). */
    readonly lazy = false,
  ) {}

  get modelState(): ModelState {
    return this.state;
  }

  /**
   * Loads once (a lazy slot only reads its manifest, and waits for ensureLoaded); resolves with the resulting
   * state (never rejects).
   */
  load(): Promise<ModelState> {
    this.firstLoad ??= (async () => {
      let manifest;
      try {
        manifest = await readManifest(this.location.manifestPath, { allowUnpinned: true });
      } catch (error) {
        return this.failed(error);
      }
      if (!this.lazy) return this.startModel(manifest);
      if (this.state.status !== 'ready') this.state = { status: 'unloaded', manifest };
      return this.state;
    })();
    return this.firstLoad;
  }

  /** A lazy slot's load on demand: concurrent callers share it; a failure leaves it to be tried again. */
  ensureLoaded(): Promise<ModelState> {
    if (this.state.status === 'ready') return Promise.resolve(this.state);
    this.onDemand ??= (async () => {
      await this.load();
      return this.state.status === 'ready' ? this.state : this.startModel(this.state.manifest);
    })().finally(() => (this.onDemand = undefined));
    return this.onDemand;
  }

  private async startModel(manifest: ModelManifest | undefined): Promise<ModelState> {
    this.state = { status: 'loading', manifest };
    try {
      const model = await this.start(this.location);
      this.state = { status: 'ready', manifest: model.resolved.manifest, model };
    } catch (error) {
      return this.failed(error);
    }
    return this.state;
  }

  private failed(error: unknown): ModelState {
    const reason = error instanceof Error ? error.message : String(error);
    this.countFailure(error);
    this.logger.error(`Model ${this.name} not loaded: ${reason}`);
    this.state = { status: 'failed', manifest: this.state.manifest, reason };
    return this.state;
  }

  /** True when the model is loaded and nothing holds or waits for it: it may be unloaded now. */
  get idle(): boolean {
    if (this.state.status !== 'ready' || this.reloading) return false;
    const { running, queued, background } = this.state.model.inference.stats();
    return this.state.model.leases + running + queued + background.queued + background.running === 0;
  }

  /** Unloads an idle model (it loads again on its next request); false when it is not idle. */
  async unload(): Promise<boolean> {
    if (!this.idle || this.state.status !== 'ready') return false;
    const { model, manifest } = this.state;
    this.state = { status: 'unloaded', manifest };
    await model.inference.close().catch((error: unknown) => {
      this.logger.warn(`Unloading ${this.name} failed: ${String(error)}`);
    });
    return true;
  }

  /**
   * Loads `location` (default: the current one, re-read), warms it, swaps it in and releases the old model.
   * Concurrent calls share one reload. Rejects with the reason when the new model cannot load; the old one
   * keeps serving.
   */
  reload(location: ModelLocation = this.location): Promise<ModelState> {
    this.reloading ??= this.swapIn(location).finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /**
   * Serves `model` (already loaded and warm, e.g. a promoted candidate) from now on, and releases the previous
   * model once its in-flight work is done.
   */
  async adopt(model: LoadedModel, location: ModelLocation): Promise<void> {
    await this.load();
    const previous = this.state.status === 'ready' ? this.state.model : undefined;
    this.location = location;
    this.state = { status: 'ready', manifest: model.resolved.manifest, model };
    if (previous && previous !== model) void this.release(previous);
  }

  /** Stops serving: the model is released once its in-flight work is done (bounded), then its workers stop. */
  async retire(): Promise<void> {
    await this.firstLoad;
    if (this.state.status === 'ready') await this.release(this.state.model);
  }

  async close(): Promise<void> {
    await this.firstLoad;
    await this.onDemand;
    await this.reloading?.catch(() => undefined);
    if (this.state.status === 'ready') await this.state.model.inference.close();
  }

  private countFailure(error: unknown): void {
    this.loadFailures[error instanceof ModelLoadTimeoutError ? 'timeout' : 'error']++;
  }

  private async swapIn(location: ModelLocation): Promise<ModelState> {
    await this.load();
    if (this.lazy && this.state.status !== 'ready') {
      // Not in memory: the new files are what its next request loads.
      this.location = location;
      this.state = {
        status: 'unloaded',
        manifest: await readManifest(location.manifestPath, { allowUnpinned: true }),
      };
      return this.state;
    }
    let model: LoadedModel;
    try {
      model = await this.start(location);
    } catch (error) {
      this.countFailure(error);
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.error(`Model ${this.name} not reloaded: ${reason}`);
      // A model that never loaded reports the latest reason; one that is serving keeps serving.
      if (this.state.status === 'failed') this.state = { ...this.state, reason };
      throw error;
    }
    const previous = this.state.status === 'ready' ? this.state.model : undefined;
    this.location = location;
    this.state = { status: 'ready', manifest: model.resolved.manifest, model };
    const { name, version } = model.resolved.manifest;
    this.logger.log(
      previous
        ? `Model ${name} now serves version ${version} (was ${previous.resolved.manifest.version}); releasing the old one once idle`
        : `Model ${name}@${version} loaded on reload`,
    );
    if (previous) void this.release(previous);
    return this.state;
  }

  /** Waits for the old model's running and queued work (bounded), then stops its workers. */
  private async release(model: LoadedModel): Promise<void> {
    const deadline = Date.now() + this.drainTimeoutMs;
    while (Date.now() < deadline) {
      const { running, queued } = model.inference.stats();
      if (running + queued + model.leases === 0) break;
      await sleep(DRAIN_POLL_MS);
    }
    await model.inference.close().catch((error: unknown) => {
      this.logger.warn(`Releasing ${this.name}@${model.resolved.manifest.version} failed: ${String(error)}`);
    });
  }
}
