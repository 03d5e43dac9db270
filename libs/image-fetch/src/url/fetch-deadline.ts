import { problem, type ProblemError } from '@app/problem';

/**
 * The one time budget of a download, every hop, DNS lookup and body byte included, joined with the client's
 * own signal (a client that hangs up stops the download too).
 */
export class FetchDeadline {
  readonly signal: AbortSignal;

  constructor(
    private readonly totalMs: number,
    clientSignal?: AbortSignal,
  ) {
    const timeout = AbortSignal.timeout(totalMs);
    this.signal = clientSignal ? AbortSignal.any([clientSignal, timeout]) : timeout;
  }

  get expired(): boolean {
    return this.signal.aborted;
  }

  timeoutProblem(): ProblemError {
    return problem(
      'upstream_timeout',
      `The image URL did not deliver the image within ${this.totalMs} ms; use a faster host or a smaller image.`,
    );
  }

  /** Settles like `work`, or rejects with the timeout problem as soon as the deadline passes. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(this.timeoutProblem());
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(this.timeoutProblem());
      this.signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          this.signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          this.signal.removeEventListener('abort', onAbort);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
