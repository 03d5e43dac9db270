import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../test/support/free-port';
import { HttpSink } from './http-sink';
import { guardedLookup } from './sink-address-policy';

const message = {
  headers: { 'content-type': 'application/json', 'ce-id': 'abc' },
  body: '{"label":"pizza"}',
};

describe('HttpSink against a real local server', () => {
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const routes: Record<string, (response: ServerResponse) => void> = {
    '/ok': (response) => response.writeHead(202).end(),
    '/busy': (response) => response.writeHead(503, { 'retry-after': '2' }).end('try later'),
    '/slow-down': (response) => response.writeHead(429).end(),
    '/bad': (response) => response.writeHead(400).end('no'),
    '/moved': (response) => response.writeHead(301, { location: '/ok' }).end(),
    '/hang': () => undefined,
  };
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      routes[request.url ?? '/']?.(response);
    });
  });
  let base: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const sink = (path: string, timeoutMs = 2_000) =>
    new HttpSink(new URL(path, base), { timeoutMs, maxSockets: 2 });

  it('POSTs the event as given and calls a 2xx delivered', async () => {
    const client = sink('/ok');
    expect(await client.send(message)).toEqual({ ok: true });
    client.close();
    const last = received.at(-1)!;
    expect(last.body).toBe(message.body);
    expect(last.headers).toMatchObject({
      'content-type': 'application/json',
      'ce-id': 'abc',
      'content-length': '17',
    });
  });

  it('calls 5xx and 429 retryable (with Retry-After), and any other status a refusal', async () => {
    const results = await Promise.all(
      ['/busy', '/slow-down', '/bad', '/moved'].map((path) => sink(path).send(message)),
    );
    expect(results).toEqual([
      { ok: false, reason: 'server_error', retryable: true, retryAfterMs: 2_000 },
      { ok: false, reason: 'too_many_requests', retryable: true },
      { ok: false, reason: 'rejected', retryable: false },
      { ok: false, reason: 'rejected', retryable: false },
    ]);
  });

  it('gives up on a sink that never answers after the timeout', async () => {
    const client = sink('/hang', 150);
    const started = performance.now();
    expect(await client.send(message)).toEqual({ ok: false, reason: 'timeout', retryable: true });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(performance.now() - started).toBeLessThan(1_000);
    client.close();
  });

  it('calls a refused connection retryable', async () => {
    const closed = await freePort();
    const client = new HttpSink(new URL(`http://127.0.0.1:${closed}/`), { timeoutMs: 1_000, maxSockets: 1 });
    expect(await client.send(message)).toEqual({ ok: false, reason: 'connection', retryable: true });
  });

  it('ends the sends in progress when closed', async () => {
    const client = sink('/hang', 10_000);
    const sending = client.send(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.close();
    expect(await sending).toMatchObject({ ok: false, reason: 'connection' });
  });

  it('refuses to connect where the sink’s name resolves to a private address, before any packet', async () => {
    // "localhost" so that the test process's own guard lets the socket start; the name resolves (here) to a
    // private address and to the local server's, both refused by the policy.
    for (const answer of ['10.0.0.7', '127.0.0.1']) {
      const asked: string[] = [];
      const client = new HttpSink(new URL(`/ok`, base.replace('127.0.0.1', 'localhost')), {
        timeoutMs: 1_000,
        maxSockets: 1,
        lookup: guardedLookup((hostname) => {
          asked.push(hostname);
          return Promise.resolve([{ address: answer, family: 4 }]);
        }),
      });
      const before = received.length;
      expect(await client.send(message)).toEqual({
        ok: false,
        reason: 'forbidden_address',
        retryable: false,
      });
      expect(asked).toEqual(['localhost']);
      expect(received.length).toBe(before);
      client.close();
    }
  });
});
