import {
  Server as GrpcServer,
  ServerCredentials,
  loadPackageDefinition,
  type GrpcObject,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createServer, type Server } from 'node:http';
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { ROOT } from './deploy-files';

/** The official OTLP definitions, vendored byte for byte (see their README). */
export const OTLP_PROTO_DIR = join(ROOT, 'test', 'fixtures', 'opentelemetry-proto');
export const OTLP_PROTO_FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/common/v1/common.proto',
  'opentelemetry/proto/resource/v1/resource.proto',
  'opentelemetry/proto/trace/v1/trace.proto',
];
const SERVICE_FILE = OTLP_PROTO_FILES[0];
const REQUEST_TYPE = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

export type OtlpTransport = 'http/protobuf' | 'http/json' | 'grpc';
type AttributeValue = string | number | boolean | AttributeValue[];

/** One exported span, decoded with the official definitions. */
export interface ReceivedSpan {
  transport: OtlpTransport;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  durationMs: number;
  attributes: Record<string, AttributeValue>;
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  events: Array<{ name: string; attributes: Record<string, AttributeValue> }>;
  resource: Record<string, AttributeValue>;
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (HTTP). */
  httpEndpoint: string;
  /** Address for the gRPC exporter (http://127.0.0.1:port). */
  grpcEndpoint: string;
  spans: ReceivedSpan[];
  /** Export requests refused because they did not match the definitions (must stay empty). */
  rejected: string[];
  /** Waits until `done(spans)` holds (polling), or throws after `timeoutMs`. */
  waitFor(done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(OTLP_PROTO_DIR, target));
  root.loadSync(join(OTLP_PROTO_DIR, SERVICE_FILE));
  root.resolveAll();
  return root;
}

const hexOf = (value: unknown): string =>
  typeof value === 'string' ? value : Buffer.from(value as Uint8Array).toString('hex');

function anyValue(value: Record<string, unknown> | undefined): AttributeValue {
  if (!value) return '';
  const key =
    typeof value.value === 'string'
      ? value.value
      : ['stringValue', 'intValue', 'doubleValue', 'boolValue', 'arrayValue'].find((name) => name in value);
  const inner = key === undefined ? undefined : value[key];
  switch (key) {
    case 'intValue':
      return Number(inner);
    case 'doubleValue':
      return Number(inner);
    case 'boolValue':
      return Boolean(inner);
    case 'arrayValue':
      return ((inner as { values?: Array<Record<string, unknown>> }).values ?? []).map(anyValue);
    default:
      return typeof inner === 'string' ? inner : '';
  }
}

function attributesOf(list: unknown): Record<string, AttributeValue> {
  const entries = (list as Array<{ key: string; value: Record<string, unknown> }> | undefined) ?? [];
  return Object.fromEntries(entries.map(({ key, value }) => [key, anyValue(value)]));
}

/** The spans of an ExportTraceServiceRequest as protobufjs, proto-loader or OTLP/JSON lay it out (camelCase). */
function spansOf(request: Record<string, unknown>, transport: OtlpTransport): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of (request.resourceSpans as Array<Record<string, unknown>>) ?? []) {
    const resource = attributesOf(
      (resourceSpans.resource as { attributes?: unknown } | undefined)?.attributes,
    );
    for (const scopeSpans of (resourceSpans.scopeSpans as Array<Record<string, unknown>>) ?? []) {
      for (const span of (scopeSpans.spans as Array<Record<string, unknown>>) ?? []) {
        const startNs = BigInt(String(span.startTimeUnixNano));
        const endNs = BigInt(String(span.endTimeUnixNano));
        const status = (span.status as { code?: unknown; message?: unknown } | undefined) ?? {};
        spans.push({
          transport,
          traceId: hexOf(span.traceId),
          spanId: hexOf(span.spanId),
          parentSpanId: span.parentSpanId === undefined ? '' : hexOf(span.parentSpanId),
          name: String(span.name),
          kind: Number(span.kind ?? 0),
          startNs,
          endNs,
          durationMs: Number(endNs - startNs) / 1e6,
          attributes: attributesOf(span.attributes),
          status: {
            code: Number(status.code ?? 0),
            message: typeof status.message === 'string' ? status.message : '',
          },
          events: ((span.events as Array<Record<string, unknown>>) ?? []).map((event) => ({
            name: String(event.name),
            attributes: attributesOf(event.attributes),
          })),
          resource,
        });
      }
    }
  }
  return spans;
}

const ID_LENGTHS: Record<string, number> = { traceId: 32, spanId: 16, parentSpanId: 16 };

/**
 * Checks an OTLP/JSON body against the definitions (specification/protocol/otlp.md, JSON Protobuf Encoding):
 * every key a field of its message in lowerCamelCase, enums as integers, trace and span ids as hex, 64-bit
 * integers as decimal strings or numbers. Throws at the first departure.
 */
function checkJson(type: protobuf.Type, value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${path} is not an object`);
  for (const [key, item] of Object.entries(value)) {
    const field = type.fields[key];
    if (!field) throw new Error(`${path}.${key} is not a field of ${type.fullName}`);
    const items = field.repeated ? (item as unknown[]) : [item];
    if (field.repeated && !Array.isArray(item)) throw new Error(`${path}.${key} is not an array`);
    items.forEach((one, index) => {
      const at = field.repeated ? `${path}.${key}[${index}]` : `${path}.${key}`;
      if (field.resolvedType instanceof protobuf.Type) return checkJson(field.resolvedType, one, at);
      if (field.resolvedType instanceof protobuf.Enum) {
        if (typeof one !== 'number') throw new Error(`${at} (an enum) is not an integer`);
        return;
      }
      if (field.type === 'bytes' && key in ID_LENGTHS) {
        if (typeof one !== 'string' || !new RegExp(`^[0-9a-f]{${ID_LENGTHS[key]}}$`).test(one))
          throw new Error(`${at} is not ${ID_LENGTHS[key]} hex digits`);
        return;
      }
      if (/int64$/.test(field.type) && !(typeof one === 'number' || /^-?\d+$/.test(String(one))))
        throw new Error(`${at} is not a decimal integer`);
    });
  }
}

/** An OTLP trace receiver on 127.0.0.1: HTTP (protobuf and JSON) at /v1/traces, and gRPC TraceService/Export. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const root = loadRoot();
  const requestType = root.lookupType(REQUEST_TYPE);
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];

  const http: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentType = request.headers['content-type'] ?? '';
      try {
        if (request.url !== '/v1/traces' || request.method !== 'POST')
          throw new Error(`${request.method} ${request.url}`);
        if (contentType.startsWith('application/x-protobuf')) {
          const message = requestType.decode(body);
          const object = requestType.toObject(message, { longs: String, enums: Number, bytes: Array });
          spans.push(...spansOf(object, 'http/protobuf'));
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } else if (contentType.startsWith('application/json')) {
          const json = JSON.parse(body.toString('utf8')) as unknown;
          checkJson(requestType, json, 'request');
          spans.push(...spansOf(json as Record<string, unknown>, 'http/json'));
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          throw new Error(`content-type ${contentType}`);
        }
      } catch (error) {
        rejected.push(error instanceof Error ? error.message : String(error));
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const httpPort = (http.address() as { port: number }).port;

  const definition = loadSync(join(OTLP_PROTO_DIR, SERVICE_FILE), {
    includeDirs: [OTLP_PROTO_DIR],
    longs: String,
    enums: Number,
    oneofs: true,
  });
  const service = (
    (loadPackageDefinition(definition).opentelemetry as GrpcObject).proto as unknown as {
      collector: { trace: { v1: { TraceService: { service: never } } } };
    }
  ).collector.trace.v1.TraceService.service;
  const grpc = new GrpcServer();
  grpc.addService(service, {
    Export: (
      call: { request: Record<string, unknown> },
      callback: (error: null, response: object) => void,
    ) => {
      spans.push(...spansOf(call.request, 'grpc'));
      callback(null, {});
    },
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );

  return {
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    spans,
    rejected,
    waitFor: async (done, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!done(spans)) {
        if (Date.now() > deadline)
          throw new Error(
            `The spans expected did not arrive within ${timeoutMs} ms; got ${spans.map((span) => span.name).join(', ')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return spans;
    },
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
    },
  };
}

/** The spans of one trace, and helpers to walk it. */
export function traceOf(spans: ReceivedSpan[], traceId: string) {
  const mine = spans.filter((span) => span.traceId === traceId);
  const byName = (name: string) => mine.filter((span) => span.name === name);
  const one = (name: string): ReceivedSpan => {
    const found = byName(name);
    if (found.length !== 1)
      throw new Error(`expected one "${name}" span in trace ${traceId}, got ${found.length}`);
    return found[0];
  };
  const childrenOf = (parent: ReceivedSpan) => mine.filter((span) => span.parentSpanId === parent.spanId);
  return { spans: mine, byName, one, childrenOf };
}
