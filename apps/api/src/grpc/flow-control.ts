import type { Server } from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session } from 'node:http2';

/**
 * HTTP/2 receive windows for large messages. Node's default is 64 KiB for each stream and for the whole
 * connection, and, unlike gRPC's C core, Node never grows it (no BDP probing): a 600 KB FP32 tensor then waits for
 * about ten WINDOW_UPDATE round trips, and every call multiplexed on the connection shares the same 64 KiB.
 * These windows let a message of MAX_IMAGE_BYTES arrive in one flight; memory stays bounded by the message limit.
 */
export const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
export const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;

export function widenFlowControlWindows(server: Server): void {
  // grpc-js (pinned) exposes no option for the server's windows; its HTTP/2 servers are in this private map.
  const http2Servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  for (const http2Server of http2Servers?.keys() ?? []) {
    http2Server.on('session', (session: ServerHttp2Session) => {
      session.settings({ initialWindowSize: STREAM_WINDOW_BYTES });
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    });
  }
}
