import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { problem } from '@app/problem';
import { INFERENCE_DEFAULTS, INFERENCE_OPTIONS, type InferenceModuleOptions } from '../inference.options';
import { loadModel } from './load-model';
import { notReadyReason, versionNotServed, type LoadedModel, type ModelState } from './loaded-model';
import type { ModelLocation, ModelSelector } from '../manifest/model-location';
import { ModelSlot, type LoadFailureCause } from './model-slot';
import { modelSourceFor, type ModelSource } from './model-source';

export interface ServedModel {
  name: string;
  isDefault: boolean;
  /** Versions found for this model (a model store's version folders; else the manifest's version). */
  versions: string[];
  state: ModelState;
}

/**
 * The model registry: the models this service serves, each in a ModelSlot. One model from
 * MODEL_MANIFEST/MODEL_DIR, or every model of a MODEL_STORE (`<store>/<model>/<version>/`, the latest version
 * served). Loading runs in the background once the app has started, so the HTTP server listens at once
 * (Heroku kills a dyno that has not bound $PORT in 60 s) and readiness reports the truth.
 */
@Injectable()
export class ModelRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelRegistry.name);
  private readonly slots = new Map<string, ModelSlot>();
  private readonly versions = new Map<string, string[]>();
  private defaultName?: string;
  private discovery?: Promise<void>;
  private discoveryError?: string;
  private loading?: Promise<ModelState>;
  private poller?: NodeJS.Timeout;

  private readonly source: ModelSource;

  constructor(@Inject(INFERENCE_OPTIONS) private readonly options: InferenceModuleOptions) {
    this.source = modelSourceFor(options);
  }

  onApplicationBootstrap(): void {
    void this.load();
    const seconds = this.options.storePollSeconds ?? 0;
    if (this.source.changes && seconds > 0) {
      this.poller = setInterval(() => void this.pollStore(), seconds * 1000);
      this.poller.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.poller);
    await this.discovery;
    await Promise.all([...this.slots.values()].map((slot) => slot.close()));
  }

  /** Finds and loads every model once; resolves with the default model's state (never rejects). */
  load(): Promise<ModelState> {
    this.loading ??= (async () => {
      await this.discover();
      await Promise.all([...this.slots.values()].map((slot) => slot.load()));
      return this.modelState;
    })();
    return this.loading;
  }

  /** The default model's state (the seed route and requests without `model` use it). */
  get modelState(): ModelState {
    const slot = this.defaultName ? this.slots.get(this.defaultName) : undefined;
    if (slot) return slot.modelState;
    return this.discoveryError ? { status: 'failed', reason: this.discoveryError } : { status: 'loading' };
  }

  /** Every model, default first, then by name. */
  servedModels(): ServedModel[] {
    return [...this.slots.values()]
      .map((slot) => ({
        name: slot.name,
        isDefault: slot.name === this.defaultName,
        versions: this.versions.get(slot.name) ?? [],
        state: slot.modelState,
      }))
      .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
  }

  /** Failed loads and reloads of each model so far, by cause (`timeout`: past MODEL_LOAD_TIMEOUT_SECONDS). */
  loadFailures(): Array<{ name: string; cause: LoadFailureCause; count: number }> {
    return [...this.slots.values()].flatMap((slot) =>
      (Object.entries(slot.loadFailures) as Array<[LoadFailureCause, number]>).map(([cause, count]) => ({
        name: slot.name,
        cause,
        count,
      })),
    );
  }

  /** One model's state, or a 404 problem naming the models there are. */
  stateOf(name: string): ServedModel {
    const found = this.servedModels().find((model) => model.name === name);
    if (!found) throw this.unknownModel(name);
    return found;
  }

  /** True once every model is loaded and warm; otherwise the reasons, by model. */
  readiness(): { ready: boolean; reasons: Record<string, string> } {
    const reasons: Record<string, string> = {};
    if (this.discoveryError) reasons.models = this.discoveryError;
    else if (this.slots.size === 0) reasons.models = 'The models are still loading.';
    for (const slot of this.slots.values()) {
      const state = slot.modelState;
      if (state.status === 'loading') reasons[slot.name] = 'The model is still loading.';
      if (state.status === 'failed') reasons[slot.name] = state.reason;
    }
    return { ready: Object.keys(reasons).length === 0, reasons };
  }

  /**
   * The ready model a request will use for all its work, held until `release()`: a reload swaps in a new version
   * for later requests, and this one keeps its own until it is done. Throws as `ready` does.
   */
  acquire(selector: ModelSelector = {}): { model: LoadedModel; release(): void } {
    const model = this.ready(selector);
    model.leases++;
    let released = false;
    return {
      model,
      release: () => {
        if (released) return;
        released = true;
        model.leases--;
      },
    };
  }

  ready(selector: ModelSelector = {}): LoadedModel {
    const name = selector.name ?? this.defaultName;
    const slot = name ? this.slots.get(name) : undefined;
    if (!slot) {
      if (selector.name) throw this.unknownModel(selector.name);
      throw problem(
        'model_not_ready',
        this.discoveryError ?? 'The models are still loading; retry in a few seconds.',
        {
          retry_after_seconds: 5,
        },
      );
    }
    const state = slot.modelState;
    if (state.status !== 'ready') {
      throw problem('model_not_ready', notReadyReason(slot.name, state)!, { retry_after_seconds: 5 });
    }
    const served = state.model.resolved.manifest.version;
    if (selector.version !== undefined && selector.version !== served) {
      throw versionNotServed(slot.name, [served], selector.version);
    }
    return state.model;
  }

  /**
   * Loads the model's newest files (a store's latest version folder, or its manifest re-read), warms them and
   * swaps them in without dropping a request. Rejects with a problem when the new files cannot be served.
   */
  async reload(name: string): Promise<ModelState> {
    await this.load();
    const slot = this.slots.get(name);
    if (!slot) throw this.unknownModel(name);
    const offered = await this.source.locate(name);
    if (!offered) {
      throw problem(
        'model_reload_failed',
        `Model ${name} is no longer in the model store; nothing was changed.`,
      );
    }
    this.versions.set(name, offered.versions);
    try {
      return await slot.reload(offered.location);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw problem(
        'model_reload_failed',
        `Model ${name} was not reloaded and still serves its previous version: ${reason}`,
      );
    }
  }

  private discover(): Promise<void> {
    this.discovery ??= (async () => {
      try {
        const { models, defaultName } = await this.source.discover();
        this.defaultName = defaultName;
        for (const model of models) this.addSlot(model.name, model.versions, model.location);
      } catch (error) {
        this.discoveryError = error instanceof Error ? error.message : String(error);
        this.logger.error(`No model can be served: ${this.discoveryError}`);
      }
    })();
    return this.discovery;
  }

  private addSlot(name: string, versions: string[], location: ModelLocation): ModelSlot {
    const starter = (at: ModelLocation) => loadModel(at, this.options, this.logger);
    const drainMs = this.options.timeoutMs ?? INFERENCE_DEFAULTS.timeoutMs;
    const slot = new ModelSlot(name, location, starter, this.logger, drainMs);
    this.slots.set(name, slot);
    this.versions.set(name, versions);
    return slot;
  }

  /** Opt-in file watch: reloads a model when a newer version folder appears, adds new models. */
  private async pollStore(): Promise<void> {
    if (!this.loading) return;
    try {
      for (const model of await this.source.list()) {
        const latest = model.location.expected?.version;
        const slot = this.slots.get(model.name);
        this.versions.set(model.name, model.versions);
        if (!slot) {
          void this.addSlot(model.name, model.versions, model.location).load();
        } else if (
          slot.modelState.status === 'ready' &&
          slot.modelState.model.resolved.manifest.version !== latest
        ) {
          await slot.reload(model.location).catch((error: unknown) => {
            this.logger.warn(`Model ${model.name} version ${latest} not loaded: ${String(error)}`);
          });
        }
      }
    } catch (error) {
      this.logger.warn(`Polling the model store failed: ${String(error)}`);
    }
  }

  private unknownModel(name: string) {
    const names = [...this.slots.keys()].join(', ') || 'none yet';
    return problem('model_not_found', `There is no model named "${name}"; this service serves: ${names}.`);
  }
}
