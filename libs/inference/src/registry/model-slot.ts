import type { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedModel, ModelState } from './loaded-model';
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
  /** Failed loads and reloads so far, by cause. */
  readonly loadFailures: Record<LoadFailureCause, number> = { timeout: 0, error: 0 };

  constructor(
    readonly name: string,
    private location: ModelLocation,
    private readonly start: ModelStarter,
    private readonly logger: Pick<Logger, 'log' | 'error' | 'warn'>,
    private readonly drainTimeoutMs: number,
  ) {}

  get modelState(): ModelState {
    return this.state;
  }

  /** Loads once; resolves with the resulting state (never rejects). */
  load(): Promise<ModelState> {
    this.firstLoad ??= (async () => {
      try {
        this.state = {
          status: 'loading',
          manifest: await readManifest(this.location.manifestPath, { allowUnpinned: true }),
        };
        const model = await this.start(this.location);
        this.state = { status: 'ready', manifest: model.resolved.manifest, model };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.countFailure(error);
        this.logger.error(`Model ${this.name} not loaded: ${reason}`);
        this.state = { status: 'failed', manifest: this.state.manifest, reason };
      }
      return this.state;
    })();
    return this.firstLoad;
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

  async close(): Promise<void> {
    await this.firstLoad;
    await this.reloading?.catch(() => undefined);
    if (this.state.status === 'ready') await this.state.model.inference.close();
  }

  private countFailure(error: unknown): void {
    this.loadFailures[error instanceof ModelLoadTimeoutError ? 'timeout' : 'error']++;
  }

  private async swapIn(location: ModelLocation): Promise<ModelState> {
    await this.load();
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
