import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../data-plane/prediction-feed';
import { httpMessage, percentEncode, STRUCTURED_CONTENT_TYPE } from './cloudevents-http';
import { predictionEvents, REQUEST_EVENT_TYPE, RESPONSE_EVENT_TYPE } from './prediction-events';

const record: PredictionRecord = {
  at: Date.parse('2026-05-01T10:00:00.250Z'),
  protocol: 'v1',
  requestId: 'req-42',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  model: { name: 'food101-mobilenet', version: '1' },
  label: 'pizza',
  confidence: 0.41,
  margin: 0.1,
  top: [
    { label: 'pizza', confidence: 0.41 },
    { label: 'lasagna', confidence: 0.31 },
  ],
  abstention: {
    reason: 'low_confidence',
    detail: 'The top class is under min_confidence.',
    min_confidence: 0.5,
    candidates: [{ label: 'pizza', confidence: 0.41 }],
  },
  image: {
    origin: 'upload',
    format: 'jpeg',
    size: 'under_1024',
    width: 640,
    height: 480,
    bytes: new Uint8Array(7),
  },
  timings: { fetchMs: 0, decodeMs: 20.04, queueMs: 4.96, inferenceMs: 25 },
};
const context = { id: 'c0ffee', source: 'food-vision-7f9c', now: new Date('2026-05-01T10:00:00.300Z') };

describe('the CloudEvents of one prediction', () => {
  const [request, response] = predictionEvents(record, 'ab'.repeat(32), context);

  it('are the KServe payload logger’s pair: same id, request then response types, KServe’s extensions', () => {
    expect(request.attributes).toEqual({
      specversion: '1.0',
      id: 'c0ffee',
      source: 'food-vision-7f9c',
      type: REQUEST_EVENT_TYPE,
      // The answer's time less fetch, decode, queue and inference.
      time: '2026-05-01T10:00:00.200Z',
      datacontenttype: 'application/json',
      inferenceservicename: 'food101-mobilenet',
      component: 'predictor',
      recordedtime: '2026-05-01T10:00:00.300Z',
      requestid: 'req-42',
      modelversion: '1',
      protocol: 'v1',
    });
    expect(response.attributes).toEqual({
      ...request.attributes,
      type: RESPONSE_EVENT_TYPE,
      time: '2026-05-01T10:00:00.250Z',
    });
  });

  it('describe the image without its bytes; the response adds the answer and the timings', () => {
    expect(request.data).toEqual({
      request_id: 'req-42',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      model: { name: 'food101-mobilenet', version: '1' },
      protocol: 'v1',
      image: {
        sha256: 'ab'.repeat(32),
        origin: 'upload',
        format: 'jpeg',
        size: 'under_1024',
        width: 640,
        height: 480,
        bytes: 7,
      },
    });
    expect(response.data).toEqual({
      ...request.data,
      label: 'pizza',
      confidence: 0.41,
      margin: 0.1,
      top: record.top,
      abstained: true,
      abstention: record.abstention,
      timings: { fetch_ms: 0, decode_ms: 20, queue_ms: 5, inference_ms: 25 },
    });
  });

  it('leave out what a tensor has not (sha256, byte length, top k) and what the request had not (ids)', () => {
    const tensor: PredictionRecord = {
      ...record,
      requestId: undefined,
      traceId: undefined,
      abstention: undefined,
      top: [],
      image: { origin: 'tensor', format: 'tensor', size: 'tensor' },
    };
    const [tensorRequest, tensorResponse] = predictionEvents(tensor, undefined, context);
    expect(tensorRequest.data).toEqual({
      model: record.model,
      protocol: 'v1',
      image: { origin: 'tensor', format: 'tensor', size: 'tensor' },
    });
    expect(tensorRequest.attributes).not.toHaveProperty('requestid');
    // An answer of whole probability rows (/v2, gRPC) has no top k: the top-1 stands for it.
    expect(tensorResponse.data).toMatchObject({
      abstained: false,
      top: [{ label: 'pizza', confidence: 0.41 }],
    });
    expect(tensorResponse.data).not.toHaveProperty('abstention');
  });

  for (const mode of ['binary', 'structured'] as const) {
    it(`parse with the CNCF SDK in ${mode} mode into the same attributes and data`, () => {
      for (const event of [request, response]) {
        const message = httpMessage(event, mode);
        const parsed = HTTP.toEvent({ headers: message.headers, body: message.body });
        if (Array.isArray(parsed)) throw new Error('one event expected');
        // toEvent reads leniently; the strict constructor checks the event against the spec's schema.
        const checked = new CloudEvent(parsed);
        expect(checked.validate()).toBe(true);
        const { data, ...attributes } = checked.toJSON();
        expect(attributes).toEqual({
          ...event.attributes,
          time: new Date(event.attributes.time).toISOString(),
        });
        expect(data).toEqual(event.data);
      }
    });
  }

  it('puts attributes in ce- headers in binary mode and the whole event in the body in structured mode', () => {
    const binary = httpMessage(response, 'binary');
    expect(binary.headers).toMatchObject({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-type': RESPONSE_EVENT_TYPE,
      'ce-id': 'c0ffee',
      'ce-inferenceservicename': 'food101-mobilenet',
    });
    expect(binary.headers).not.toHaveProperty('ce-datacontenttype');
    expect(JSON.parse(binary.body)).toEqual(response.data);

    const structured = httpMessage(response, 'structured');
    expect(structured.headers).toEqual({ 'content-type': STRUCTURED_CONTENT_TYPE });
    expect(JSON.parse(structured.body)).toEqual({ ...response.attributes, data: response.data });
  });
});

describe('header values (CloudEvents HTTP binding 3.1.3.2)', () => {
  it('percent-encode space, double quote, percent and everything outside printable ASCII', () => {
    expect(percentEncode('Euro € 😀')).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80');
    expect(percentEncode('a"b%c\td')).toBe('a%22b%25c%09d');
    expect(percentEncode('req-42.abc_DEF:/?=')).toBe('req-42.abc_DEF:/?=');
  });
});
