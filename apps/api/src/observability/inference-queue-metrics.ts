import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { ClassifierService, type InferenceStats } from '@app/inference';
import { METRIC_PREFIX } from './metrics-registry';

type Outcome = 'overloaded' | 'timeout' | 'abandoned';

/**
 * The inference workers' admission queue, read at scrape time: depth, running tasks, workers, and the requests it
 * turned away. Nothing is reported while no model is loaded.
 */
@Injectable()
export class InferenceQueueMetrics {
  constructor(registry: Registry, classifier: ClassifierService) {
    const stats = (): InferenceStats | undefined => classifier.inferenceStats();
    const gauge = (name: string, help: string, read: (s: InferenceStats) => number) =>
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        registers: [registry],
        collect() {
          this.reset();
          const current = stats();
          if (current) this.set(read(current));
        },
      });
    gauge('inference_queue_depth', 'Images waiting for a free inference worker.', (s) => s.queued);
    gauge(
      'inference_queue_capacity',
      'Most images that may wait; one more is refused with 503 overloaded.',
      (s) => s.maxQueue,
    );
    gauge('inference_running', 'Images being decoded and classified right now.', (s) => s.running);
    gauge(
      'inference_workers',
      'Inference worker threads (0: the main thread runs the model).',
      (s) => s.workers,
    );
    new Counter<'outcome'>({
      name: `${METRIC_PREFIX}inference_rejections_total`,
      help: 'Images the inference queue did not run to the end: `overloaded` (queue full), `timeout` (deadline passed), `abandoned` (client left).',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.reset();
        const current = stats();
        if (!current) return;
        const counts: Record<Outcome, number> = {
          overloaded: current.overloaded,
          timeout: current.timedOut,
          abandoned: current.abandoned,
        };
        for (const [outcome, count] of Object.entries(counts)) this.inc({ outcome }, count);
      },
    });
  }
}
