import type { LoggerService, LogLevel } from '@nestjs/common';
import type { MessagePort } from 'node:worker_threads';
import type { WorkerMessage } from './worker-protocol';

/**
 * A worker's Nest logger: forwards every line to the main thread, which logs it with the app's own logger
 * (its levels, format and quiet mode), so a worker never prints on its own.
 */
export class ForwardingLogger implements LoggerService {
  constructor(private readonly port: MessagePort) {}

  log(message: unknown, ...params: unknown[]): void {
    this.forward('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.forward('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.forward('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.forward('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.forward('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.forward('fatal', message, params);
  }

  private forward(level: LogLevel, message: unknown, params: unknown[]): void {
    // Nest passes the logger's context as the last parameter.
    const context =
      typeof params[params.length - 1] === 'string' ? (params[params.length - 1] as string) : undefined;
    const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
    const line: WorkerMessage<never, never> = { type: 'log', level, message: text, context };
    this.port.postMessage(line);
  }
}
