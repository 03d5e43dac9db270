/**
 * The load generator of `npm run bench:grpc`, in its own process (started by grpc.ts): its encoding is not billed to
 * the server, and the bench's own process does nothing meanwhile. Every request is encoded once before the round
 * (the protobuf message, or the JSON text) and sent as bytes; gRPC answers are checked for their status and not
 * decoded. Reads one job (JSON) from argv, prints `ready`, starts on `go` from stdin, prints the result as JSON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, credentials } from '@grpc/grpc-js';
import { loadSync } from 'protobufjs';

export type OipRequest = 'rest-jpeg' | 'grpc-jpeg' | 'grpc-raw-jpeg' | 'grpc-uint8' | 'grpc-fp32';

export interface OipJob {
  request: OipRequest;
  httpPort: number;
  grpcPort: number;
  model: string;
  /** The JPEG photo, and the same photo as the model's 224 × 224 RGB input. */
  photo: string;
  pixels: string;
  seconds: number;
  connections: number;
}

export interface OipResult {
  /** The load generator's own CPU time (user + system) over the round, in ms. */
  clientCpuMs: number;
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

const PROTO = join(__dirname, '..', '..', 'apps', 'api', 'src', 'grpc', 'proto', 'open_inference_grpc.proto');
const METHOD = '/inference.GRPCInferenceService/ModelInfer';

function grpcMessage(job: OipJob): Buffer {
  const photo = readFileSync(job.photo);
  const pixels = readFileSync(job.pixels);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(photo.length);
  const tensor = (datatype: string, raw: Buffer) => ({
    modelName: job.model,
    inputs: [{ name: 'input', datatype, shape: [1, 224, 224, 3] }],
    rawInputContents: [raw],
  });
  const messages: Record<Exclude<OipRequest, 'rest-jpeg'>, object> = {
    'grpc-jpeg': {
      modelName: job.model,
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytesContents: [photo] } }],
    },
    'grpc-raw-jpeg': {
      modelName: job.model,
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
      rawInputContents: [Buffer.concat([length, photo])],
    },
    'grpc-uint8': tensor('UINT8', pixels),
    'grpc-fp32': tensor('FP32', Buffer.from(Float32Array.from(pixels).buffer)),
  };
  const type = loadSync(PROTO).lookupType('inference.ModelInferRequest');
  const message = messages[job.request as Exclude<OipRequest, 'rest-jpeg'>];
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

function sender(job: OipJob): { send: () => Promise<boolean>; close: () => void } {
  if (job.request === 'rest-jpeg') {
    const body = JSON.stringify({
      inputs: [
        { name: 'image', datatype: 'BYTES', shape: [1], data: [readFileSync(job.photo).toString('base64')] },
      ],
    });
    const url = `http://127.0.0.1:${job.httpPort}/v2/models/${job.model}/infer`;
    return {
      send: () =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
          async (response) => {
            await response.arrayBuffer();
            return response.ok;
          },
          () => false,
        ),
      close: () => undefined,
    };
  }
  const message = grpcMessage(job);
  const clients = Array.from(
    { length: job.connections },
    () =>
      new Client(`127.0.0.1:${job.grpcPort}`, credentials.createInsecure(), {
        'grpc.max_send_message_length': 64 * 1024 * 1024,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      }),
  );
  const identity = (bytes: Buffer) => bytes;
  let next = 0;
  return {
    send: () =>
      new Promise<boolean>((done) => {
        clients[next++ % clients.length].makeUnaryRequest(METHOD, identity, identity, message, (error) =>
          done(!error),
        );
      }),
    close: () => clients.forEach((client) => client.close()),
  };
}

/** `connections` closed loops for `seconds`, each waiting for its answer before the next call. */
async function round(job: OipJob, send: () => Promise<boolean>): Promise<OipResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const end = started + job.seconds * 1000;
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (await send()) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  const { user, system } = process.cpuUsage(cpu);
  return {
    clientCpuMs: (user + system) / 1000,
    requests: latencies.length,
    errors,
    seconds: (performance.now() - started) / 1000,
    latencies,
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as OipJob;
  const { send, close } = sender(job);
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() !== 'go') continue;
    lines.close();
    const result = await round(job, send);
    close();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
