import type { Request } from 'express';

/** Fires when the client disconnects before its answer was sent, so work for nobody can stop. */
export function abortSignalFor(request: Request): AbortSignal {
  const controller = new AbortController();
  const response = request.res;
  response?.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}
