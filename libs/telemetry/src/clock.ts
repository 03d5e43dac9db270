/**
 * Wall-clock milliseconds with sub-millisecond precision, comparable across threads: every span's start and end
 * is read from this clock, on the main thread and in the inference workers alike.
 */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();
