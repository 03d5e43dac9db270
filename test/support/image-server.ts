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
