import type { Server } from 'node:http';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { InFlightRequests } from './in-flight-requests';
import { ShutdownState } from './shutdown-state';

export interface GracefulShutdownOptions {
  /** How long in-flight requests may take before their connections are cut (SHUTDOWN_DRAIN_TIMEOUT_MS). */
  drainTimeoutMs: number;
  logger: LoggerService;
  signals?: NodeJS.Signals[];
  exit?: (code: number) => void;
  /** Other servers to drain beside HTTP (the gRPC front-end): stop taking calls, wait for those in flight. */
  alsoDrain?: DrainableServer[];
}

export interface DrainableServer {
  readonly name: string;
  readonly inFlight: number;
  /** Resolves true when every call finished within `timeoutMs` (otherwise they were cut). */
  drain(timeoutMs: number): Promise<boolean>;
}

const POLL_MS = 25;

const openConnections = (server: Server): Promise<number> =>
  new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));

/**
 * Waits until no request is in flight and no connection is open, closing keep-alive sockets as they turn idle.
 * Both matter: a connection accepted just before the listener closed can still deliver a request, which is
 * answered (with `Connection: close`) rather than dropped. Resolves false if `timeoutMs` passes first.
 */
async function drain(server: Server, inFlight: InFlightRequests, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    server.closeIdleConnections();
    if (inFlight.count === 0 && (await openConnections(server)) === 0) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
  }
}

/** Time left for Nest's shutdown hooks (model dispose) after the drain, before the process exits anyway. */
const HOOKS_TIMEOUT_MS = 5_000;

/**
 * On the first SIGTERM/SIGINT: readiness turns 503 at once, the listener closes (new connections are refused),
 * idle keep-alive sockets are closed, in-flight requests finish (at most `drainTimeoutMs`), Nest's shutdown hooks
 * run, and the process exits 0. A second signal exits at once with 1.
 * Replaces Nest's enableShutdownHooks, which would re-raise the signal and so exit with 143 instead of 0.
 */
export function installGracefulShutdown(app: INestApplication, options: GracefulShutdownOptions): void {
  const {
    drainTimeoutMs,
    logger,
    signals = ['SIGTERM', 'SIGINT'],
    exit = (code) => process.exit(code),
    alsoDrain = [],
  } = options;
  const state = app.get(ShutdownState);
  const inFlight = app.get(InFlightRequests);
  const server = app.getHttpServer() as Server;

  const shutDown = async (signal: NodeJS.Signals): Promise<void> => {
    if (state.draining) {
      logger.warn?.(
        `${signal} received again: exiting now without waiting for ${inFlight.count} request(s)`,
        'Shutdown',
      );
      exit(1);
      return;
    }
    const started = performance.now();
    state.begin(signal);
    server.close();
    server.closeIdleConnections();
    const others = alsoDrain.map((other) => ({
      other,
      calls: other.inFlight,
      done: other.drain(drainTimeoutMs),
    }));
    logger.log(
      `${signal} received: readiness is 503, new connections are refused; draining ${inFlight.count} in-flight request(s)${others.map(({ other, calls }) => ` and ${calls} ${other.name} call(s)`).join('')}, up to ${drainTimeoutMs} ms`,
      'Shutdown',
    );
    if (!(await drain(server, inFlight, drainTimeoutMs))) {
      logger.warn?.(
        `Drain timeout (${drainTimeoutMs} ms): cutting ${inFlight.count} unfinished request(s) on ${await openConnections(server)} connection(s)`,
        'Shutdown',
      );
      server.closeAllConnections();
    }
    for (const { other, done } of others) {
      if (!(await done))
        logger.warn?.(`Drain timeout (${drainTimeoutMs} ms): ${other.name} calls were cancelled`, 'Shutdown');
    }
    const forced = setTimeout(() => exit(1), HOOKS_TIMEOUT_MS);
    forced.unref();
    await app.close();
    clearTimeout(forced);
    logger.log(`Stopped after ${Math.round(performance.now() - started)} ms`, 'Shutdown');
    exit(0);
  };

  for (const signal of signals) {
    process.on(signal, (received: NodeJS.Signals) => {
      shutDown(received).catch((error: unknown) => {
        logger.error(
          `Shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          'Shutdown',
        );
        exit(1);
      });
    });
  }
}
