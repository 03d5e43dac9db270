import { setPriority } from 'node:os';

/** Nice value of inference worker threads: below the event loop's 0, so HTTP and probes are served first. */
export const WORKER_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority. On Linux, nice values belong to threads, so this leaves the
 * main thread (the event loop) at its own priority: when workers keep every core busy, the kernel still runs
 * the event loop as soon as it has work, and liveness probes stay instant. Elsewhere the value would apply to
 * the whole process, so it is left alone. Threads the engine starts afterwards inherit the value.
 */
export function yieldCpuToEventLoop(nice = WORKER_NICE): boolean {
  if (process.platform !== 'linux') return false;
  try {
    setPriority(nice);
    return true;
  } catch {
    return false;
  }
}
