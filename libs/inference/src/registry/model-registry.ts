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
import { modelSourceFor, type ModelSource, type OfferedModel } from './model-source';
import { canaryBucket } from './routing-key';
import {
  parseRolloutPolicy,
  writeRolloutPolicy,
  type RolloutMode,
  type RolloutPolicy,
} from './rollout-policy';

export interface ServedModel {
  name: string;
  isDefault: boolean;
  /** Versions found for this model (a model store's version folders; else the manifest's version). */
  versions: string[];
  state: ModelState;
  /** The version under trial beside the stable one, when a rollout names one, and how it is tried. */
  candidate?: { version: string; state: ModelState; mode: RolloutMode; weight: number };
}

/** Which version a lease holds: the stable one, or the candidate of a rollout. */
export type VersionRole = 'stable' | 'candidate';

/** A model's rollout now: its policy (rollout.json), the stable version, the candidate and its state. */
export interface RolloutView {
  name: string;
  /** False for a single manifest: rollouts need a store's version folders. */
  possible: boolean;
  policy: RolloutPolicy;
  stable?: string;
  candidate?: ServedModel['candidate'];
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
  private readonly candidates = new Map<string, ModelSlot>();
  private readonly policies = new Map<string, RolloutPolicy>();
  private readonly stores = new Map<string, NonNullable<OfferedModel['store']>>();
  /** Serialises rollout changes per model: a promotion never races a new candidate. */
  private readonly changing = new Map<string, Promise<unknown>>();
  /** Bounded memory (MODEL_STORE_MAX_LOADED): when each model was last asked for, loads and evictions. */
  private readonly lastUsed = new Map<string, number>();
  private useClock = 0;
  private loadQueue: Promise<unknown> = Promise.resolve();
  private readonly onDemandLoads = new Map<string, Promise<ModelState>>();
  private readonly lru = {
    loads: new Map<string, number>(),
    evictions: new Map<string, number>(),
    loadSeconds: new Map<string, number>(),
  };
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
    await Promise.all([...this.slots.values(), ...this.candidates.values()].map((slot) => slot.close()));
  }

  /** Finds and loads every model once; resolves with the default model's state (never rejects). */
  load(): Promise<ModelState> {
    this.loading ??= (async () => {
      await this.discover();
      await Promise.all([...this.slots.values()].map((slot) => slot.load()));
      // Candidates load after every stable version: readiness never waits for a trial.
      for (const [name, policy] of this.policies) {
        if (policy.candidate !== undefined)
          await this.loadCandidate(name, policy.candidate).catch((error: unknown) => {
            this.logger.error(`Model ${name}: candidate ${policy.candidate} not loaded: ${String(error)}`);
          });
      }
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
        ...this.candidateOf(slot.name),
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

  /** True once every model that must be loaded is loaded and warm (not those loaded on demand); else why not. */
  readiness(): { ready: boolean; reasons: Record<string, string> } {
    const reasons: Record<string, string> = {};
    if (this.discoveryError) reasons.models = this.discoveryError;
    else if (this.slots.size === 0) reasons.models = 'The models are still loading.';
    for (const slot of this.slots.values()) {
      if (slot.lazy) continue;
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
  acquire(
    selector: ModelSelector = {},
    routingKey?: () => string,
  ): { model: LoadedModel; role: VersionRole; release(): void } {
    const { model, role } = this.route(selector, routingKey);
    model.leases++;
    let released = false;
    return {
      model,
      role,
      release: () => {
        if (released) return;
        released = true;
        model.leases--;
      },
    };
  }

  /**
   * As `acquire`, for a model that may not be in memory (MODEL_STORE_MAX_LOADED): loads it first, making room by
   * unloading the least recently used idle model, and waits up to MODEL_LOAD_WAIT_SECONDS; past that, a 503
   * `model_loading` with a retry hint (the load goes on).
   */
  async acquireLoaded(
    selector: ModelSelector = {},
    routingKey?: () => string,
  ): Promise<ReturnType<ModelRegistry['acquire']>> {
    const name = selector.name ?? this.defaultName;
    const slot = name ? this.slots.get(name) : undefined;
    if (slot?.lazy && slot.modelState.status !== 'ready') {
      const loading = this.onDemandLoads.get(slot.name) ?? this.loadOnDemand(slot);
      const waitMs = this.options.loadWaitMs ?? INFERENCE_DEFAULTS.loadWaitMs;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)),
      );
      const outcome = await Promise.race([loading, timedOut]).finally(() => clearTimeout(timer));
      if (outcome === 'timeout') {
        throw problem(
          'model_loading',
          `Model ${slot.name} is being loaded (at most ${this.options.maxLoaded} models are in memory at once); retry in a few seconds.`,
          { retry_after_seconds: 5 },
        );
      }
    }
    if (name) this.lastUsed.set(name, ++this.useClock);
    return this.acquire(selector, routingKey);
  }

  /** Loads, evictions and load times of models loaded on demand, by model, for the metrics. */
  onDemandStats(): {
    maxLoaded: number;
    resident: number;
    loads: ReadonlyMap<string, number>;
    evictions: ReadonlyMap<string, number>;
    loadSeconds: ReadonlyMap<string, number>;
  } {
    return { maxLoaded: this.options.maxLoaded ?? 0, resident: this.resident().length, ...this.lru };
  }

  private resident(): ModelSlot[] {
    return [...this.slots.values()].filter((slot) => ['ready', 'loading'].includes(slot.modelState.status));
  }

  /** One load at a time (two at once would double the memory peak), after making room for it. */
  private loadOnDemand(slot: ModelSlot): Promise<ModelState> {
    const load = this.loadQueue
      .catch(() => undefined)
      .then(async () => {
        if (slot.modelState.status === 'ready') return slot.modelState;
        await this.makeRoom(slot);
        const started = performance.now();
        const state = await slot.ensureLoaded();
        if (state.status === 'ready') {
          this.lru.loads.set(slot.name, (this.lru.loads.get(slot.name) ?? 0) + 1);
          this.lru.loadSeconds.set(
            slot.name,
            (this.lru.loadSeconds.get(slot.name) ?? 0) + (performance.now() - started) / 1000,
          );
        }
        return state;
      })
      .finally(() => this.onDemandLoads.delete(slot.name));
    this.loadQueue = load;
    this.onDemandLoads.set(slot.name, load);
    return load;
  }

  /**
   * Unloads least recently used idle models (never the default, a pinned one, or one a request holds) until one
   * more fits; waits for one to become idle when none is (bounded by the load timeout).
   */
  private async makeRoom(incoming: ModelSlot): Promise<void> {
    const max = this.options.maxLoaded ?? 0;
    const deadline = Date.now() + (this.options.loadTimeoutMs ?? INFERENCE_DEFAULTS.loadTimeoutMs);
    while (this.resident().filter((slot) => slot !== incoming).length >= max) {
      const victim = this.resident()
        .filter((slot) => slot.lazy && slot !== incoming && slot.idle)
        .sort((a, b) => (this.lastUsed.get(a.name) ?? 0) - (this.lastUsed.get(b.name) ?? 0))[0];
      if (victim && (await victim.unload())) {
        this.lru.evictions.set(victim.name, (this.lru.evictions.get(victim.name) ?? 0) + 1);
        this.logger.log(
          `Model ${victim.name} unloaded (least recently used) to make room for ${incoming.name}`,
        );
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`no model could be unloaded to make room: all ${max} are in use or pinned`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * The version a request gets: the one it names (stable or candidate), else the candidate for a canary's share
   * of routing keys (`routingKey` is only asked for then), else the stable one.
   */
  private route(
    selector: ModelSelector,
    routingKey?: () => string,
  ): { model: LoadedModel; role: VersionRole } {
    const name = selector.name ?? this.defaultName;
    const candidate = name ? this.candidates.get(name)?.modelState : undefined;
    const ready = candidate?.status === 'ready' ? candidate.model : undefined;
    if (ready && name) {
      const version = ready.resolved.manifest.version;
      if (selector.version === version) return { model: ready, role: 'candidate' };
      const policy = this.policies.get(name);
      if (
        selector.version === undefined &&
        policy?.mode === 'canary' &&
        routingKey &&
        canaryBucket(routingKey()) < policy.weight
      )
        return { model: ready, role: 'candidate' };
    }
    return { model: this.ready(selector), role: 'stable' };
  }

  /** The version under trial beside the stable one (a map lookup: asked on every image). */
  candidateVersion(name: string): string | undefined {
    const state = this.candidates.get(name)?.modelState;
    return state?.status === 'ready' ? state.manifest.version : undefined;
  }

  /**
   * Whether the model's served versions have a worker nobody waits for: each version has its own pool, so the
   * background lane of one cannot see the other's queue, and a comparison run started while either is busy would
   * take a core from interactive work.
   */
  hasIdleWorker(name: string): boolean {
    const versions = [this.slots.get(name)?.modelState, this.candidates.get(name)?.modelState];
    return versions.every((state) => {
      if (state?.status !== 'ready') return true;
      const { running, queued, workers, background } = state.model.inference.stats();
      return queued === 0 && background.queued === 0 && running < Math.max(1, workers);
    });
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
      const candidate = this.candidates.get(slot.name)?.modelState;
      throw versionNotServed(
        slot.name,
        candidate?.status === 'ready' ? [served, candidate.manifest.version] : [served],
        selector.version,
      );
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

  /** The model's rollout: policy, stable version and candidate (a 404 problem for an unknown model). */
  rollout(name: string): RolloutView {
    const slot = this.slots.get(name);
    if (!slot) throw this.unknownModel(name);
    const state = slot.modelState;
    return {
      name,
      possible: this.stores.has(name),
      policy: this.policies.get(name) ?? parseRolloutPolicy({}, 'rollout'),
      ...(state.manifest ? { stable: state.manifest.version } : {}),
      ...this.candidateOf(name),
    };
  }

  /**
   * Applies a new policy: loads and warms its candidate (refused, with stable serving on, when it cannot load),
   * ends the previous candidate, writes rollout.json. Requests are never dropped: a version leaves only once idle.
   */
  setRollout(name: string, policy: RolloutPolicy): Promise<RolloutView> {
    return this.serially(name, async () => {
      const store = this.storeOf(name);
      const stable = this.rollout(name).stable;
      if (policy.candidate !== undefined) {
        if (policy.candidate === stable)
          throw problem('rollout_refused', `Version ${stable} of ${name} is already the stable one.`);
        if (!store.locations[policy.candidate]) {
          throw problem(
            'rollout_refused',
            `Model ${name} has no version ${policy.candidate} in the store; it has ${Object.keys(store.locations).join(', ')}.`,
          );
        }
        const current = this.candidates.get(name)?.modelState;
        if (current?.status !== 'ready' || current.manifest.version !== policy.candidate) {
          try {
            await this.loadCandidate(name, policy.candidate);
          } catch (error) {
            throw problem(
              'rollout_refused',
              `Candidate ${policy.candidate} of ${name} could not be loaded, so nothing changed and ${stable ?? 'the stable version'} serves alone as before: ${error instanceof Error ? error.message : String(error)}`,
            );
          }
        }
      } else {
        await this.endCandidate(name);
      }
      const saved = { ...policy, ...(stable !== undefined ? { stable } : {}) };
      writeRolloutPolicy(store.folder, saved);
      this.policies.set(name, saved);
      return this.rollout(name);
    });
  }

  /** The candidate becomes stable (its warm workers adopted, the old stable released once idle). */
  promote(name: string): Promise<RolloutView> {
    return this.serially(name, async () => {
      const store = this.storeOf(name);
      const candidate = this.candidates.get(name);
      const state = candidate?.modelState;
      if (!candidate || state?.status !== 'ready')
        throw problem('rollout_not_possible', `Model ${name} has no ready candidate to promote.`);
      const version = state.manifest.version;
      const previous = this.rollout(name).stable;
      this.candidates.delete(name);
      await this.slots.get(name)!.adopt(state.model, store.locations[version]);
      const policy = parseRolloutPolicy(
        { stable: version, ...(previous !== undefined ? { previous_stable: previous } : {}) },
        'rollout',
      );
      writeRolloutPolicy(store.folder, policy);
      this.policies.set(name, policy);
      this.logger.log(`Model ${name}: candidate ${version} promoted to stable (was ${previous})`);
      return this.rollout(name);
    });
  }

  /**
   * Ends the candidate, stable serving alone; with no candidate, right after a promotion, restores the previous
   * stable version. `reason` is logged (an automatic rollback says why).
   */
  rollback(name: string, reason = 'asked through the API'): Promise<RolloutView> {
    return this.serially(name, async () => {
      const store = this.storeOf(name);
      const policy = this.policies.get(name);
      const candidate = this.candidates.get(name);
      if (candidate) {
        const version = candidate.modelState.manifest?.version;
        // Out of the routing first, then on disk; its in-flight work finishes before its workers stop.
        this.candidates.delete(name);
        const kept = parseRolloutPolicy({ ...(policy?.stable ? { stable: policy.stable } : {}) }, 'rollout');
        writeRolloutPolicy(store.folder, kept);
        this.policies.set(name, kept);
        this.logger.warn(
          `Model ${name}: rollout of candidate ${version} ended (${reason}); stable serves alone`,
        );
        await candidate.retire();
      } else if (policy?.previous_stable !== undefined && store.locations[policy.previous_stable]) {
        const previous = policy.previous_stable;
        try {
          await this.slots.get(name)!.reload(store.locations[previous]);
        } catch (error) {
          throw problem(
            'model_reload_failed',
            `Model ${name}: version ${previous} could not be restored, so the current stable keeps serving: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        const restored = parseRolloutPolicy({ stable: previous }, 'rollout');
        writeRolloutPolicy(store.folder, restored);
        this.policies.set(name, restored);
        this.logger.warn(`Model ${name}: stable version ${previous} restored (${reason})`);
      } else {
        throw problem(
          'rollout_not_possible',
          `Model ${name} has no candidate, and no promotion to undo: there is nothing to roll back.`,
        );
      }
      return this.rollout(name);
    });
  }

  private candidateOf(name: string): Pick<ServedModel, 'candidate'> {
    const slot = this.candidates.get(name);
    const policy = this.policies.get(name);
    const version = slot?.modelState.manifest?.version ?? policy?.candidate;
    if (!slot || version === undefined) return {};
    const { mode, weight } = policy ?? { mode: 'shadow' as const, weight: 100 };
    return { candidate: { version, state: slot.modelState, mode, weight } };
  }

  private storeOf(name: string): NonNullable<OfferedModel['store']> {
    if (!this.slots.has(name)) throw this.unknownModel(name);
    const store = this.stores.get(name);
    if (!store) {
      throw problem(
        'rollout_not_possible',
        `Model ${name} is served from one manifest; rollouts choose among a model store's version folders (MODEL_STORE, <store>/<model>/<version>/).`,
      );
    }
    return store;
  }

  private serially<T>(name: string, change: () => Promise<T>): Promise<T> {
    const previous = this.changing.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(change);
    this.changing.set(name, next);
    return next;
  }

  /** Loads `version` as the model's candidate; the old candidate, if any, is released once idle. */
  private async loadCandidate(name: string, version: string): Promise<void> {
    const location = this.stores.get(name)?.locations[version];
    if (!location) throw new Error(`version ${version} is not in the store`);
    const slot = this.newSlot(name, location);
    const state = await slot.load();
    if (state.status !== 'ready') throw new Error(state.status === 'failed' ? state.reason : 'not loaded');
    const previous = this.candidates.get(name);
    this.candidates.set(name, slot);
    if (previous) void previous.retire();
  }

  private async endCandidate(name: string): Promise<void> {
    const slot = this.candidates.get(name);
    this.candidates.delete(name);
    await slot?.retire();
  }

  private discover(): Promise<void> {
    this.discovery ??= (async () => {
      try {
        const { models, defaultName } = await this.source.discover();
        this.defaultName = defaultName;
        for (const model of models) {
          this.addSlot(model.name, model.versions, model.location);
          this.notePolicy(model);
        }
      } catch (error) {
        this.discoveryError = error instanceof Error ? error.message : String(error);
        this.logger.error(`No model can be served: ${this.discoveryError}`);
      }
    })();
    return this.discovery;
  }

  private addSlot(name: string, versions: string[], location: ModelLocation): ModelSlot {
    const bounded = (this.options.maxLoaded ?? 0) > 0 && this.source.changes;
    const lazy = bounded && name !== this.defaultName && !(this.options.pinned ?? []).includes(name);
    const slot = this.newSlot(name, location, lazy);
    this.slots.set(name, slot);
    this.versions.set(name, versions);
    return slot;
  }

  private newSlot(name: string, location: ModelLocation, lazy = false): ModelSlot {
    const starter = (at: ModelLocation) => loadModel(at, this.options, this.logger);
    const drainMs = this.options.timeoutMs ?? INFERENCE_DEFAULTS.timeoutMs;
    return new ModelSlot(name, location, starter, this.logger, drainMs, lazy);
  }

  /** Remembers where a store model's versions are and its rollout.json (an invalid one is logged and ignored). */
  private notePolicy(model: OfferedModel): void {
    if (model.store) this.stores.set(model.name, model.store);
    if (model.policyError) this.logger.error(`Model ${model.name}: ${model.policyError}; no rollout applied`);
    if (model.policy) this.policies.set(model.name, model.policy);
  }

  /** Opt-in file watch: reloads a model when a newer version folder appears, adds new models. */
  private async pollStore(): Promise<void> {
    if (!this.loading) return;
    try {
      for (const model of await this.source.list()) {
        const latest = model.location.expected?.version;
        const slot = this.slots.get(model.name);
        this.versions.set(model.name, model.versions);
        if (model.store) this.stores.set(model.name, model.store);
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
