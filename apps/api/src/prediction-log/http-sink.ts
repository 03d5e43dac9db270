import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { retryAfterMs } from './backoff';
import type { HttpMessage } from './cloudevents-http';
import { ForbiddenSinkAddress, type SocketLookup } from './sink-address-policy';

/** Why one try failed, as the `reason` of the failure counter. */
export type FailureReason =
  'server_error' | 'too_many_requests' | 'rejected' | 'timeout' | 'connection' | 'forbidden_address';

export type SendResult =
  { ok: true } | { ok: false; reason: FailureReason; retryable: boolean; retryAfterMs?: number };

/** Where events go: one try per call. */
export interface EventSink {
  send(message: HttpMessage): Promise<SendResult>;
  /** Cuts every connection; sends in progress fail. */
  close(): void;
}

export interface HttpSinkOptions {
  timeoutMs: number;
  /** Connections kept to the sink (keep-alive), as many as sends at once. */
  maxSockets: number;
  /** How the sink's name is resolved and checked at each new connection; absent: the system's, unchecked. */
  lookup?: SocketLookup;
}

class SendTimeout extends Error {}

/**
 * POSTs each event to the sink URL over keep-alive connections. A try ends at the answer's headers: 2xx is
 * delivered; 5xx and 429 are retryable (with the sink's Retry-After), any other status is a refusal to take the
 * event and is not; no answer within `timeoutMs` (connection included), or a failed connection, is retryable.
 */
export class HttpSink implements EventSink {
  private readonly agent: HttpAgent;
  private readonly open = new Set<ClientRequest>();

  constructor(
    private readonly url: URL,
    private readonly options: HttpSinkOptions,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.agent = url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  send(message: HttpMessage): Promise<SendResult> {
    return new Promise((resolve) => {
      const body = Buffer.from(message.body, 'utf8');
      const open = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = open(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...message.headers, 'content-length': String(body.length) },
        ...(this.options.lookup ? { lookup: this.options.lookup } : {}),
      });
      this.open.add(request);
      let settled = false;
      const settle = (result: SendResult): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      // Also bounds an answer whose body never ends: the socket is cut then, the result already given.
      const timer = setTimeout(() => request.destroy(new SendTimeout()), this.options.timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.open.delete(request);
      };
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        response.on('end', finish);
        response.on('error', finish);
        response.resume();
        settle(resultOf(status, response.headers['retry-after']));
      });
      request.on('error', (error) => {
        finish();
        settle(failureOf(error));
      });
      request.on('close', () => {
        finish();
        settle({ ok: false, reason: 'connection', retryable: true });
      });
      request.end(body);
    });
  }

  close(): void {
    for (const request of this.open) request.destroy();
    this.open.clear();
    this.agent.destroy();
  }
}

function resultOf(status: number, retryAfter: string | undefined): SendResult {
  if (status >= 200 && status < 300) return { ok: true };
  const wait = retryAfterMs(retryAfter);
  const withWait = wait !== undefined ? { retryAfterMs: wait } : {};
  if (status === 429) return { ok: false, reason: 'too_many_requests', retryable: true, ...withWait };
  if (status >= 500) return { ok: false, reason: 'server_error', retryable: true, ...withWait };
  return { ok: false, reason: 'rejected', retryable: false };
}

function failureOf(error: Error): SendResult {
  if (error instanceof ForbiddenSinkAddress)
    return { ok: false, reason: 'forbidden_address', retryable: false };
  if (error instanceof SendTimeout) return { ok: false, reason: 'timeout', retryable: true };
  return { ok: false, reason: 'connection', retryable: true };
}
