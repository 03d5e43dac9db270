import type { Server } from 'node:http';

/**
 * Bounds how long a client may take to send one request, headers and body: a body that never ends, a slowloris
 * trickle of headers, or a Content-Length larger than what is sent gets 408 and the connection is closed instead
 * of holding a socket and a buffer forever. Node checks these every 30 s (its connectionsCheckingInterval), so a
 * stalled request is cut between the timeout and 30 s after it. Answering is not bounded here: the inference
 * deadline (INFERENCE_TIMEOUT_MS) and the URL fetch timeout bound that.
 */
export function applyHttpTimeouts(server: Server, requestTimeoutMs: number): void {
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = Math.min(requestTimeoutMs, 20_000);
}
