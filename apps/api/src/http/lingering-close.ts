import type { Socket } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface LingeringCloseOptions {
  /** Longest the rest of a refused body is read after the answer (nginx's lingering_time). */
  maxMs: number;
  /** Longest a read may wait for the client's next bytes (nginx's lingering_timeout). */
  idleMs: number;
  /** Most bytes read and discarded before the connection is cut anyway. */
  maxBytes: number;
}

export const LINGERING_CLOSE: LingeringCloseOptions = {
  maxMs: 30_000,
  idleMs: 5_000,
  maxBytes: 256 * 1024 * 1024,
};

/**
 * nginx's lingering close: when the answer (an early 413 or 4xx) ends a connection whose request body is still
 * arriving, the server half-closes it and keeps reading, discarding, what the client still sends, within bounds.
 * Closing at once would reset the connection with bytes unread, and a client that sends its whole body before
 * reading (Python's urllib, many SDKs) would see "Broken pipe" instead of the status.
 */
export function lingeringClose(options: LingeringCloseOptions = LINGERING_CLOSE): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const socket = request.socket as Socket & { destroySoon?: () => void };
    const original = socket.destroySoon?.bind(socket);
    if (original) {
      // Node closes a finished `Connection: close` response's socket with destroySoon(); for this request only.
      const lingerIfUnread = () => {
        if (request.complete) original();
        else linger(socket, request, options);
      };
      socket.destroySoon = lingerIfUnread;
      response.once('close', () => {
        if (socket.destroySoon === lingerIfUnread) socket.destroySoon = original;
      });
    }
    next();
  };
}

function linger(socket: Socket, request: Request, { maxMs, idleMs, maxBytes }: LingeringCloseOptions): void {
  let read = 0;
  const cut = () => socket.destroy();
  const total = setTimeout(cut, maxMs);
  let idle = setTimeout(cut, idleMs);
  socket.once('close', () => {
    clearTimeout(total);
    clearTimeout(idle);
  });
  // Whatever still reads the body (a parser that stopped at its limit) lets go; the bytes are counted and dropped.
  request.unpipe();
  request.removeAllListeners('data');
  request.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > maxBytes) return cut();
    clearTimeout(idle);
    idle = setTimeout(cut, idleMs);
  });
  // The client has sent the whole body, or closed its side: nothing is left unread, so the close is clean.
  request.once('end', cut);
  socket.once('end', cut);
  request.resume();
  socket.end();
}
