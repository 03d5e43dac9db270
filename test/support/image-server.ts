import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Route = (request: IncomingMessage, response: ServerResponse) => void;

export interface ImageServer {
  url(path: string): string;
  port: number;
  close(): Promise<void>;
}

/** A throwaway HTTP server on 127.0.0.1 serving the given routes (exact path match, 404 otherwise). */
export async function startImageServer(routes: Record<string, Route>): Promise<ImageServer> {
  const server: Server = createServer((request, response) => {
    const route = routes[(request.url ?? '/').split('?')[0]];
    if (route) route(request, response);
    else response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function serveBytes(bytes: Buffer, contentType = 'image/jpeg'): Route {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length }).end(bytes);
  };
}

/** Each photo at `path(index)` (`/0.jpg`, `/1.jpg`, ... by default), served whole as a JPEG. */
export function photoRoutes(
  photos: ReadonlyArray<{ path: string }>,
  path: (index: number) => string = (index) => `/${index}.jpg`,
): Record<string, Route> {
  return Object.fromEntries(
    photos.map((photo, index) => [path(index), serveBytes(readFileSync(photo.path))]),
  );
}

/**
 * Upstreams that misbehave on purpose, for the fetcher's time and size limits: `/slow-loris` sends one byte of
 * `jpeg` a second, `/silent` never answers, `/endless` streams forever, `/huge-length` declares 10 GiB. The
 * slow-loris timers go into `timers`, for the caller to clear.
 */
export function misbehavingRoutes(jpeg: Buffer, timers: Set<NodeJS.Timeout>): Record<string, Route> {
  return {
    '/slow-loris': (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      let sent = 0;
      const timer = setInterval(() => {
        if (response.destroyed) return clearInterval(timer);
        response.write(jpeg.subarray(sent, ++sent));
      }, 1_000);
      timers.add(timer);
    },
    '/silent': () => {
      // Accepts the connection and the request, never answers.
    },
    '/endless': (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      response.write(jpeg.subarray(0, 64));
      const chunk = Buffer.alloc(64 * 1024, 0x55);
      const pump = (): void => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    },
    '/huge-length': (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(10 * 1024 ** 3) });
      response.flushHeaders();
    },
  };
}
