import {
  type ChannelCredentials,
  type Client,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { ROOT } from './deploy-files';

const PROTO_DIR = join(ROOT, 'apps', 'api', 'src', 'grpc', 'proto');
const REFLECTION_PROTO = join(
  ROOT,
  'node_modules',
  '@grpc',
  'reflection',
  'build',
  'proto',
  'grpc',
  'reflection',
  'v1alpha',
  'reflection.proto',
);

/** A gRPC client of the committed official .proto files, the way a user's grpc-js client would load them. */
export function protocolPackage(): GrpcObject {
  const definition = loadSync(
    [join(PROTO_DIR, 'open_inference_grpc.proto'), join(PROTO_DIR, 'health.proto'), REFLECTION_PROTO],
    { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true },
  );
  return loadPackageDefinition(definition);
}

type UnaryMethod = (
  request: object,
  metadata: Metadata,
  options: object,
  callback: (error: ServiceError | null, response: Answer) => void,
) => NodeJS.EventEmitter;

type ClientConstructor = new (address: string, creds: ChannelCredentials, options?: object) => Client;

export interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents: { fp32_contents: number[]; bytes_contents: Buffer[] } | null;
}

/** The fields the tests read; ModelInferResponse's, and the others' through the index signature. */
export interface Answer {
  [field: string]: unknown;
  outputs: OutputTensor[];
  raw_output_contents: Buffer[];
}

export interface CallResult<T = Answer> {
  response?: T;
  error?: ServiceError;
  /** The response headers (initial metadata) the server sent, if any. */
  headers?: Record<string, string>;
  /** The trailing metadata sent with the status. */
  trailers?: Record<string, string>;
}

export interface GrpcTestClient {
  /** A unary call; never rejects: the answer or the error. */
  call(
    method: string,
    request: object,
    options?: { deadlineMs?: number; metadata?: Record<string, string> },
  ): Promise<CallResult>;
  health(method: 'Check' | 'List', request: object): Promise<CallResult<Record<string, unknown>>>;
  /** grpc.health.v1 Watch: the statuses received so far, and when the stream ended (OK or an error). */
  watch(service: string): { statuses: string[]; ended: Promise<ServiceError | undefined>; cancel(): void };
  reflection(request: object): Promise<unknown>;
  close(): void;
}

const lookup = (root: GrpcObject, path: string): ClientConstructor => {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as GrpcObject)[part];
  return node as ClientConstructor;
};

export function grpcClient(
  address: string,
  creds: ChannelCredentials = credentials.createInsecure(),
  options: object = {},
): GrpcTestClient {
  const root = protocolPackage();
  const inference = new (lookup(root, 'inference.GRPCInferenceService'))(address, creds, {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    ...options,
  });
  const health = new (lookup(root, 'grpc.health.v1.Health'))(address, creds);
  const reflection = new (lookup(root, 'grpc.reflection.v1alpha.ServerReflection'))(address, creds);
  const unary = (
    client: Client,
    method: string,
    request: object,
    opts: { deadlineMs?: number; metadata?: Record<string, string> } = {},
  ) =>
    new Promise<CallResult<Answer>>((resolve) => {
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(opts.metadata ?? {})) metadata.set(key, value);
      const callOptions = opts.deadlineMs === undefined ? {} : { deadline: Date.now() + opts.deadlineMs };
      let headers: Record<string, string> | undefined;
      let answered: Omit<CallResult<Answer>, 'headers' | 'trailers'> | undefined;
      let trailers: Record<string, string> | undefined;
      // The answer and the status (with the trailing metadata) arrive separately; resolve once both have.
      const settle = () => {
        if (answered && trailers) resolve({ ...answered, headers, trailers });
      };
      const call = (client as unknown as Record<string, UnaryMethod>)[method](
        request,
        metadata,
        callOptions,
        (error, response) => {
          answered = error ? { error } : { response };
          settle();
        },
      );
      call.on('metadata', (received: Metadata) => {
        headers = Object.fromEntries(
          Object.entries(received.getMap()).map(([key, value]) => [key, String(value)]),
        );
      });
      call.on('status', (received: { metadata: Metadata }) => {
        trailers = Object.fromEntries(
          Object.entries(received.metadata.getMap()).map(([key, value]) => [key, String(value)]),
        );
        settle();
      });
    });
  return {
    call: (method, request, opts) => unary(inference, method, request, opts),
    health: (method, request) => unary(health, method, request),
    watch: (service) => {
      const statuses: string[] = [];
      const stream = (
        health as unknown as { Watch(request: object): NodeJS.ReadableStream & { cancel(): void } }
      ).Watch({ service });
      stream.on('data', (message: { status: string }) => statuses.push(message.status));
      const ended = new Promise<ServiceError | undefined>((resolve) => {
        stream.once('error', (error: ServiceError) => resolve(error));
        stream.once('end', () => resolve(undefined));
      });
      return { statuses, ended, cancel: () => stream.cancel() };
    },
    reflection: (request) =>
      new Promise((resolve, reject) => {
        const stream = (
          reflection as unknown as {
            ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(m: object): void };
          }
        ).ServerReflectionInfo();
        stream.once('data', (message: unknown) => {
          resolve(message);
          stream.end();
        });
        stream.once('error', reject);
        stream.write(request);
      }),
    close: () => {
      inference.close();
      health.close();
      reflection.close();
    },
  };
}
