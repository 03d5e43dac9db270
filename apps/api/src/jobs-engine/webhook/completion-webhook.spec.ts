import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { HTTP } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nodeRequestOpener, type HostResolver, type RequestOpener } from '@app/image-fetch';
import { CompletionWebhook, type CloudEvent } from './completion-webhook';
import { checkWebhookUrl } from './webhook-address';

const event: CloudEvent = {
  specversion: '1.0',
  id: 'job-1.completed',
  source: '/v1/jobs',
  type: 'com.foodvision.job.completed',
  subject: 'job-1',
  time: '2026-12-06T10:00:00.000Z',
  datacontenttype: 'application/json',
  data: { id: 'job-1', state: 'completed' },
};

describe('the completion webhook', () => {
  let server: Server;
  let port: number;
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  let status = 204;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const resolverOf =
    (answers: Record<string, string[]>): HostResolver =>
    (hostname) =>
      Promise.resolve(
        (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );

  it('sends one structured CloudEvent to an allowed name, connecting to the address it checked', async () => {
    const open = vi.fn<RequestOpener>(nodeRequestOpener);
    const webhook = new CompletionWebhook({
      allowHosts: ['hooks.example.com'],
      allowedPorts: [80, 443],
      resolve: resolverOf({ 'hooks.example.com': ['127.0.0.1'] }),
      open,
    });
    received.length = 0;
    expect(await webhook.send(`http://hooks.example.com:${port}/done?x=1`, event)).toBe('delivered');
    expect(open).toHaveBeenCalledTimes(1);
    expect(open.mock.calls[0][1]).toMatchObject({ host: '127.0.0.1', path: '/done?x=1', method: 'POST' });
    expect(received).toHaveLength(1);
    expect(received[0].headers.host).toBe(`hooks.example.com:${port}`);
    const parsed = HTTP.toEvent({ headers: received[0].headers, body: received[0].body });
    const single = Array.isArray(parsed) ? parsed[0] : parsed;
    expect(single).toMatchObject({
      id: 'job-1.completed',
      type: 'com.foodvision.job.completed',
      subject: 'job-1',
    });
    expect(single.data).toEqual({ id: 'job-1', state: 'completed' });
  });

  it('refuses, without opening a connection, a name that resolves to a private address', async () => {
    const open = vi.fn<RequestOpener>();
    const resolve = vi.fn(
      resolverOf({ 'hooks.example.com': ['93.184.215.14', '10.1.2.3'], 'v6.example.com': ['fd00::1'] }),
    );
    const webhook = new CompletionWebhook({ allowHosts: [], allowedPorts: [80, 443], resolve, open });
    expect(await webhook.send('http://hooks.example.com/done', event)).toBe('refused');
    expect(await webhook.send('http://v6.example.com/done', event)).toBe('refused');
    expect(await webhook.send('http://metadata.google.internal/done', event)).toBe('refused');
    expect(await webhook.send('http://[::ffff:169.254.169.254]/done', event)).toBe('refused');
    expect(await webhook.send('http://127.0.0.1:8080/done', event)).toBe('refused');
    expect(resolve).not.toHaveBeenCalledWith('metadata.google.internal');
    expect(open).not.toHaveBeenCalled();
  });

  it('tries again on 5xx, and gives up on a 4xx', async () => {
    const webhook = new CompletionWebhook({
      allowHosts: ['127.0.0.1'],
      allowedPorts: [80, 443],
      tries: 2,
    });
    received.length = 0;
    status = 503;
    expect(await webhook.send(`http://127.0.0.1:${port}/busy`, event)).toBe('failed');
    expect(received).toHaveLength(2);
    status = 400;
    received.length = 0;
    expect(await webhook.send(`http://127.0.0.1:${port}/bad`, event)).toBe('failed');
    expect(received).toHaveLength(1);
    status = 204;
  });

  it('judges a webhook URL at job creation as an image URL is judged', () => {
    const rules = { allowHosts: [], allowedPorts: [80, 443] };
    expect(() => checkWebhookUrl('http://169.254.169.254/', rules)).toThrow(/private, loopback/);
    expect(() => checkWebhookUrl('http://kubernetes.default.svc/', rules)).toThrow(/private, loopback/);
    expect(() => checkWebhookUrl('https://user:pw@hooks.example.com/', rules)).toThrow(
      /credentials|user name/,
    );
    expect(() => checkWebhookUrl('https://hooks.example.com:8443/', rules)).toThrow(/port 8443/);
    expect(checkWebhookUrl('https://hooks.example.com/x', rules).hostname).toBe('hooks.example.com');
  });
});
