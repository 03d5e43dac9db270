import type { Attributes } from '@opentelemetry/api';
import type { StageTime } from '@app/telemetry';

/**
 * The ends of a task's steps on the worker (performance.now()), each step starting where the one before ended.
 * Marking costs a clock read; the steps become wall-clock `stages` only for a traced task.
 */
export class StageClock {
  private readonly marks: Array<{ name: string; at: number }> = [];

  /** Ends the step `name` now (`start` opens the first step); returns the time. */
  mark(name: string): number {
    const at = performance.now();
    this.marks.push({ name, at });
    return at;
  }

  /** Ends the step `name` at `at`, just before the step `before` (a time read inside a callee). */
  insertBefore(before: string, name: string, at: number): void {
    const index = this.marks.findIndex((mark) => mark.name === before);
    this.marks.splice(index < 0 ? this.marks.length : index, 0, { name, at });
  }

  /** Each step with its wall-clock start and end, comparable across threads. */
  stages(attributes: Attributes): StageTime[] {
    const origin = performance.timeOrigin;
    return this.marks.slice(1).map((mark, index) => ({
      name: mark.name,
      startMs: origin + this.marks[index].at,
      endMs: origin + mark.at,
      attributes,
    }));
  }
}
