import { isIP } from 'node:net';
import { nodeRequestOpener, systemResolver, type HostResolver, type RequestOpener } from '@app/image-fetch';
import { ProblemError } from '@app/problem';
import { webhookAddresses, type WebhookRules } from './webhook-address';

/** How one delivery ended: `delivered` (2xx), `failed` (no 2xx after every try), `refused` (address policy). */
export type WebhookOutcome = 'delivered' | 'failed' | 'refused';

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: unknown;
}

export interface WebhookOptions extends WebhookRules {
  resolve?: HostResolver;
  open?: RequestOpener;
  timeoutMs?: number;
  /** Tries in all; waits 0.5 s, 1 s, 2 s, ... between them. */
  tries?: number;
}

/**
 * Sends a job's end as one CloudEvents 1.0 event in structured mode (`application/cloudevents+json`) with an
 * HTTP POST. The URL passes the image URLs' address policy at every send: the name is resolved once, every answer
 * must be public (or allowlisted), and the socket connects to a checked address. 5xx, 429, time-outs and
 * connection errors are tried again; the event id is the job's id, so a receiver can drop a repeat.
 */
export class CompletionWebhook {
  private readonly resolve: HostResolver;
  private readonly open: RequestOpener;

  constructor(private readonly options: WebhookOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.open = options.open ?? nodeRequestOpener;
  }

  async send(rawUrl: string, event: CloudEvent): Promise<WebhookOutcome> {
    const tries = this.options.tries ?? 4;
    for (let attempt = 1; ; attempt++) {
      let status: number | undefined;
      try {
        status = await this.post(new URL(rawUrl), JSON.stringify(event));
      } catch (error) {
        if (error instanceof ProblemError) return 'refused';
      }
      if (status !== undefined && status >= 200 && status < 300) return 'delivered';
      const retryable = status === undefined || status >= 500 || status === 429;
      if (!retryable || attempt >= tries) return 'failed';
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
    }
  }

  private async post(url: URL, body: string): Promise<number> {
    const [target] = await webhookAddresses(url, this.options, this.resolve);
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    return new Promise<number>((resolve, reject) => {
      const request = this.open(url, {
        host: target.address,
        family: target.family,
        port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        ...(isIP(url.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: url.hostname }),
        headers: {
          host: url.host,
          'content-type': 'application/cloudevents+json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'food-vision-api jobs',
        },
        timeout: timeoutMs,
      });
      request.on('timeout', () => request.destroy(new Error('webhook timed out')));
      request.on('error', reject);
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      });
      request.end(body);
    });
  }
}
