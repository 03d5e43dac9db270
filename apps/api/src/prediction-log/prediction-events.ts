import type { Abstention, PredictionRecord } from '../data-plane/prediction-feed';

/** KServe's payload-logger event types (pkg/logger/worker.go), so sinks and triggers made for KServe take them. */
export const REQUEST_EVENT_TYPE = 'org.kubeflow.serving.inference.request';
export const RESPONSE_EVENT_TYPE = 'org.kubeflow.serving.inference.response';

export type PredictionEventType = typeof REQUEST_EVENT_TYPE | typeof RESPONSE_EVENT_TYPE;

/**
 * One CloudEvent 1.0: the context attributes (required, optional and extensions, every value a string) and the
 * data, a JSON object.
 */
export interface PredictionCloudEvent {
  attributes: {
    specversion: '1.0';
    id: string;
    source: string;
    type: PredictionEventType;
    time: string;
    datacontenttype: 'application/json';
  } & Record<string, string>;
  data: RequestEventData | ResponseEventData;
}

/** What the image was, never the image itself. */
export interface ImageSummary {
  /** Of the image file as sent; absent for a tensor. */
  sha256?: string;
  origin: PredictionRecord['image']['origin'];
  format: string;
  size: PredictionRecord['image']['size'];
  width?: number;
  height?: number;
  /** The image file's length; absent for a tensor. */
  bytes?: number;
}

/** The request event's data: which request, which model, and the image as facts. */
export interface RequestEventData {
  request_id?: string;
  trace_id?: string;
  model: { name: string; version: string };
  protocol: PredictionRecord['protocol'];
  image: ImageSummary;
}

/** The response event's data: the request event's, and the answer with its timings (one complete record). */
export interface ResponseEventData extends RequestEventData {
  label: string;
  confidence: number;
  margin: number;
  top: Array<{ label: string; confidence: number }>;
  abstained: boolean;
  abstention?: Abstention;
  timings: { fetch_ms: number; decode_ms: number; queue_ms: number; inference_ms: number };
}

export interface EventContext {
  /** Shared by the pair, as KServe's request and response events share the request's id. */
  id: string;
  source: string;
  /** When the events are made (KServe's `recordedtime`). */
  now: Date;
}

/**
 * The pair KServe's payload logger sends for one inference, for one classified image: a request event (what
 * came in, described: the image's sha256, format and size, never its bytes) and a response event (the same, and
 * the answer). Both carry KServe's extensions (`inferenceservicename`: the model, `component`: predictor,
 * `recordedtime`) and ours (`requestid`, `modelversion`, `protocol`), so a trigger can filter on them.
 */
export function predictionEvents(
  record: PredictionRecord,
  sha256: string | undefined,
  context: EventContext,
): [PredictionCloudEvent, PredictionCloudEvent] {
  const request: RequestEventData = {
    ...(record.requestId !== undefined ? { request_id: record.requestId } : {}),
    ...(record.traceId !== undefined ? { trace_id: record.traceId } : {}),
    model: { name: record.model.name, version: record.model.version },
    protocol: record.protocol,
    image: imageSummary(record.image, sha256),
  };
  const { fetchMs, decodeMs, queueMs, inferenceMs } = record.timings;
  const response: ResponseEventData = {
    ...request,
    label: record.label,
    confidence: record.confidence,
    margin: record.margin,
    top: topOf(record),
    abstained: record.abstention !== undefined,
    ...(record.abstention ? { abstention: record.abstention } : {}),
    timings: {
      fetch_ms: tenths(fetchMs),
      decode_ms: tenths(decodeMs),
      queue_ms: tenths(queueMs),
      inference_ms: tenths(inferenceMs),
    },
  };
  // The request event's time is when the image's work began: the answer's time less the time it took.
  const began = record.at - (fetchMs + decodeMs + queueMs + inferenceMs);
  return [
    { attributes: attributes(record, context, REQUEST_EVENT_TYPE, began), data: request },
    { attributes: attributes(record, context, RESPONSE_EVENT_TYPE, record.at), data: response },
  ];
}

function attributes(
  record: PredictionRecord,
  context: EventContext,
  type: PredictionEventType,
  at: number,
): PredictionCloudEvent['attributes'] {
  return {
    specversion: '1.0',
    id: context.id,
    source: context.source,
    type,
    time: new Date(Math.round(at)).toISOString(),
    datacontenttype: 'application/json',
    inferenceservicename: record.model.name,
    component: 'predictor',
    recordedtime: context.now.toISOString(),
    ...(record.requestId !== undefined ? { requestid: record.requestId } : {}),
    modelversion: record.model.version,
    protocol: record.protocol,
  };
}

/** Milliseconds to 0.1, as the /v1 answers give them. */
const tenths = (ms: number): number => Math.round(ms * 10) / 10;

/** The answer's top k; the top-1 alone when the record has none (an answer of whole probability rows). */
export function topOf(record: PredictionRecord): Array<{ label: string; confidence: number }> {
  return record.top.length > 0
    ? record.top.map(({ label, confidence }) => ({ label, confidence }))
    : [{ label: record.label, confidence: record.confidence }];
}

function imageSummary(image: PredictionRecord['image'], sha256: string | undefined): ImageSummary {
  return {
    ...(sha256 !== undefined ? { sha256 } : {}),
    origin: image.origin,
    format: image.format,
    size: image.size,
    ...(image.width !== undefined ? { width: image.width, height: image.height } : {}),
    ...(image.bytes !== undefined ? { bytes: image.bytes.byteLength } : {}),
  };
}
