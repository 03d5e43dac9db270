import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { HttpMessage } from './cloudevents-http';
import { EventDispatcher, type OutgoingEvent } from './event-dispatcher';
import type { EventSink, SendResult } from './http-sink';
import { REQUEST_EVENT_TYPE, RESPONSE_EVENT_TYPE } from './prediction-events';
import { PredictionLogMetrics } from './prediction-log-metrics';

/** A sink whose answers the test gives, one call at a time. */
class ScriptedSink implements EventSink {
  readonly calls: Array<{ body: string; answer: (result: SendResult) => void }> = [];
  inFlight = 0;
  maxInFlight = 0;
  closed = false;

  send(message: HttpMessage): Promise<SendResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve) =>
      this.calls.push({
        body: message.body,
        answer: (result) => {
          this.inFlight--;
          resolve(result);
        },
      }),
    );
  }

  close(): void {
    this.closed = true;
    for (const call of this.calls) call.answer({ ok: false, reason: 'connection', retryable: true });
  }

  /** Answers the oldest call not yet answered. */
  answerNext(result: SendResult): string {
    const call = this.calls.shift();
    if (!call) throw new Error('no send to answer');
    call.answer(result);
    return call.body;
  }
}

const event = (body: string, type: OutgoingEvent['type'] = REQUEST_EVENT_TYPE): OutgoingEvent => ({
  type,
  message: { headers: {}, body },
});
const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const { values } = await registry.getSingleMetric(`food_vision_${name}`)!.get();
  return values.find((one) => Object.entries(labels).every(([key, v]) => one.labels[key] === v))?.value ?? 0;
}

function setUp(options: Partial<ConstructorParameters<typeof EventDispatcher>[2]> = {}) {
  const registry = new Registry();
  const sink = new ScriptedSink();
  const dispatcher = new EventDispatcher(sink, new PredictionLogMetrics(registry), {
    bufferSize: 3,
    concurrency: 2,
    retries: 2,
    backoff: { baseMs: 1, maxMs: 4 },
    ...options,
  });
  return { registry, sink, dispatcher };
}

describe('EventDispatcher', () => {
  it('sends at most `concurrency` events at once and counts each one delivered by type', async () => {
    const { registry, sink, dispatcher } = setUp({ bufferSize: 10 });
    for (const name of ['a', 'b', 'c', 'd']) dispatcher.enqueue(event(name, RESPONSE_EVENT_TYPE));
    expect(sink.calls.map((call) => call.body)).toEqual(['a', 'b']);
    expect(dispatcher.waiting).toBe(2);
    expect(await value(registry, 'prediction_log_buffer_events')).toBe(2);
    const sent: string[] = [];
    while (sent.length < 4) {
      sent.push(sink.answerNext({ ok: true }));
      await turn();
    }
    expect(sent).toEqual(['a', 'b', 'c', 'd']);
    expect(sink.maxInFlight).toBe(2);
    expect(await value(registry, 'prediction_log_events_sent_total', { type: 'response' })).toBe(4);
    expect(await value(registry, 'prediction_log_buffer_events')).toBe(0);
  });

  it('drops the oldest waiting event when the buffer is full, and counts it', async () => {
    const { registry, sink, dispatcher } = setUp({ concurrency: 1 });
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) dispatcher.enqueue(event(name));
    // "a" is being sent; the buffer of 3 held b, c, d, then e and f pushed b and c out.
    expect(await value(registry, 'prediction_log_dropped_total', { reason: 'buffer_full' })).toBe(2);
    const sent: string[] = [];
    while (sent.length < 4) {
      sent.push(sink.answerNext({ ok: true }));
      await turn();
    }
    expect(sent).toEqual(['a', 'd', 'e', 'f']);
  });

  it('retries timeouts, connection failures, 5xx and 429 with backoff, up to the retries, then drops', async () => {
    const { registry, sink, dispatcher } = setUp({ concurrency: 1 });
    dispatcher.enqueue(event('a'));
    sink.answerNext({ ok: false, reason: 'timeout', retryable: true });
    await turn();
    sink.answerNext({ ok: false, reason: 'server_error', retryable: true });
    await turn();
    sink.answerNext({ ok: false, reason: 'connection', retryable: true });
    await turn();
    expect(sink.calls).toHaveLength(0);
    expect(await value(registry, 'prediction_log_send_failures_total', { reason: 'timeout' })).toBe(1);
    expect(await value(registry, 'prediction_log_send_failures_total', { reason: 'server_error' })).toBe(1);
    expect(await value(registry, 'prediction_log_send_failures_total', { reason: 'connection' })).toBe(1);
    expect(await value(registry, 'prediction_log_dropped_total', { reason: 'retries_exhausted' })).toBe(1);

    dispatcher.enqueue(event('b'));
    sink.answerNext({ ok: false, reason: 'too_many_requests', retryable: true });
    await turn();
    expect(sink.answerNext({ ok: true })).toBe('b');
    await turn();
    expect(await value(registry, 'prediction_log_events_sent_total', { type: 'request' })).toBe(1);
  });

  it('never retries an event the sink refused (4xx) or an address the policy refused', async () => {
    const { registry, sink, dispatcher } = setUp({ concurrency: 1 });
    dispatcher.enqueue(event('a'));
    dispatcher.enqueue(event('b'));
    sink.answerNext({ ok: false, reason: 'rejected', retryable: false });
    await turn();
    expect(sink.answerNext({ ok: false, reason: 'forbidden_address', retryable: false })).toBe('b');
    await turn();
    expect(sink.calls).toHaveLength(0);
    expect(await value(registry, 'prediction_log_dropped_total', { reason: 'rejected' })).toBe(1);
    expect(await value(registry, 'prediction_log_dropped_total', { reason: 'forbidden_address' })).toBe(1);
  });

  it('waits for the sink’s Retry-After, within the backoff cap', async () => {
    const { sink, dispatcher } = setUp({ concurrency: 1, backoff: { baseMs: 1, maxMs: 200 } });
    dispatcher.enqueue(event('a'));
    sink.answerNext({ ok: false, reason: 'too_many_requests', retryable: true, retryAfterMs: 150 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.calls).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(sink.calls).toHaveLength(1);
  });

  it('flushes what it can within the deadline, then drops the rest as shutdown and cuts the sink', async () => {
    const { registry, sink, dispatcher } = setUp({ concurrency: 1, bufferSize: 10 });
    for (const name of ['a', 'b', 'c']) dispatcher.enqueue(event(name));
    setTimeout(() => sink.answerNext({ ok: true }), 10);
    const started = performance.now();
    await dispatcher.flush(60);
    expect(performance.now() - started).toBeLessThan(200);
    expect(sink.closed).toBe(true);
    expect(await value(registry, 'prediction_log_events_sent_total', { type: 'request' })).toBe(1);
    // "b" was being sent when the deadline came, "c" was waiting; a later enqueue is dropped at once.
    dispatcher.enqueue(event('d'));
    expect(await value(registry, 'prediction_log_dropped_total', { reason: 'shutdown' })).toBe(3);
    expect(await value(registry, 'prediction_log_send_failures_total', { reason: 'connection' })).toBe(0);
  });

  it('flushes at once when nothing is waiting', async () => {
    const { dispatcher } = setUp();
    const started = performance.now();
    await dispatcher.flush(2_000);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
