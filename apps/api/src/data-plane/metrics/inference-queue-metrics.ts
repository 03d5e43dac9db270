import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { ModelRegistry, type InferenceStats } from '@app/inference';
import { METRIC_PREFIX } from '../../observability/metrics-registry';

/** Each ready model's inference queue counters, by model name. */
function queues(models: ModelRegistry): Array<{ model: string; stats: InferenceStats }> {
  return models
    .servedModels()
    .flatMap(({ name, state }) =>
      state.status === 'ready' ? [{ model: name, stats: state.model.inference.stats() }] : [],
    );
}

/**
 * Each model's inference workers and admission queue, read at scrape time: depth, running tasks, workers, and the
 * images it turned away. Nothing is reported for a model that is not loaded.
 */
@Injectable()
export class InferenceQueueMetrics {
  constructor(registry: Registry, models: ModelRegistry) {
    const gauge = (name: string, help: string, read: (stats: InferenceStats) => number) =>
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        labelNames: ['model'],
        registers: [registry],
        collect() {
          this.reset();
          for (const { model, stats } of queues(models)) this.set({ model }, read(stats));
        },
      });
    gauge('inference_queue_depth', 'Images waiting for a free inference worker.', (stats) => stats.queued);
    gauge(
      'inference_queue_capacity',
      'Most images that may wait; one more is refused with 503 overloaded.',
      (stats) => stats.maxQueue,
    );
    gauge('inference_running', 'Images being decoded and classified right now.', (stats) => stats.running);
    gauge(
      'inference_workers',
      'Inference worker threads (0: the main thread runs the model).',
      (stats) => stats.workers,
    );
    new Counter<'model' | 'outcome'>({
      name: `${METRIC_PREFIX}inference_rejections_total`,
      help: 'Images the inference queue did not run to the end: `overloaded` (queue full), `timeout` (deadline passed), `abandoned` (client left).',
      labelNames: ['model', 'outcome'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { model, stats } of queues(models)) {
          this.inc({ model, outcome: 'overloaded' }, stats.overloaded);
          this.inc({ model, outcome: 'timeout' }, stats.timedOut);
          this.inc({ model, outcome: 'abandoned' }, stats.abandoned);
        }
      },
    });
    new Counter<'model'>({
      name: `${METRIC_PREFIX}inference_worker_crashes_total`,
      help: 'Inference worker threads that died (crash, out of memory, or stopped as stuck) and were replaced; each failed only the image it was running.',
      labelNames: ['model'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { model, stats } of queues(models)) this.inc({ model }, stats.pool?.crashes ?? 0);
      },
    });
  }
}
