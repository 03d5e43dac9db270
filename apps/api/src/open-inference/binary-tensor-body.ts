import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { raw, type Request, type RequestHandler, type Response } from 'express';
import { from, type Observable, switchMap } from 'rxjs';
import { problem } from '@app/problem';
import type { EnvironmentVariables } from '../config/environment';
import { exceedsJsonDepth, jsonTooDeep } from '../http/json-depth';
import { tensorLabel } from '../data-plane/tensor-label';

/** Binary tensor data extension: the length of the JSON part of the body; tensor bytes follow it. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

const invalid = (detail: string) => problem('validation_failed', detail);

/** Each binary input's bytes, by its index in `inputs`, for the requests that sent any. */
const BINARY_TENSORS = new WeakMap<Request, ReadonlyMap<number, Buffer>>();

/** The tensor bytes that followed the JSON of this request, by input index (none for an all-JSON request). */
export function binaryTensors(request: Request): ReadonlyMap<number, Buffer> {
  return BINARY_TENSORS.get(request) ?? new Map();
}

/**
 * Reads inference bodies the JSON parser left alone (it only takes application/json): a JSON header followed by
 * tensor bytes (binary tensor data extension, `Inference-Header-Content-Length`), or JSON sent without a JSON
 * content type. The tensor bytes stay bytes: each binary input's slice of the body is kept for the controller
 * (`binaryTensors`), and its `data` stays absent, so validation sees the JSON alone. An interceptor rather than a
 * middleware: it runs before the validation pipe, and its errors reach the V2 filter.
 */
@Injectable()
export class BinaryTensorBodyInterceptor implements NestInterceptor {
  private readonly readBody: RequestHandler;
  private readonly maxDepth: number;

  constructor(config: ConfigService<EnvironmentVariables, true>) {
    // The JSON parser's limit (app.factory.ts): raw bytes are smaller than their base64 or JSON text.
    const limit = Math.ceil((config.get('MAX_IMAGE_BYTES', { infer: true }) * 4) / 3) + 64 * 1024;
    this.readBody = raw({ type: () => true, limit });
    this.maxDepth = config.get('MAX_JSON_DEPTH', { infer: true });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    return from(this.decode(http.getRequest<Request>(), http.getResponse<Response>())).pipe(
      switchMap(() => next.handle()),
    );
  }

  private async decode(request: Request, response: Response): Promise<void> {
    const header = request.headers[INFERENCE_HEADER_CONTENT_LENGTH];
    if (request.body === undefined || header !== undefined) {
      await new Promise<void>((resolve, reject) =>
        this.readBody(request, response, (error?: unknown) =>
          error
            ? reject(error instanceof Error ? error : new Error('The request body could not be read.'))
            : resolve(),
        ),
      );
    }
    const body: unknown = request.body;
    if (!Buffer.isBuffer(body)) {
      // Parsed as application/json already: the whole body was JSON, so no input can have binary data.
      const contentLength = request.headers['content-length'];
      if (header !== undefined && contentLength !== undefined)
        headerLength(String(header), Number(contentLength));
      refuseBinaryInputs(body, 'the body is all JSON (application/json)');
      return;
    }
    if (header === undefined) {
      request.body = refuseBinaryInputs(
        parseJson(body, this.maxDepth),
        'there is no Inference-Header-Content-Length header',
      );
    } else {
      const { json, tensors } = splitBinaryBody(
        body,
        headerLength(String(header), body.length),
        this.maxDepth,
      );
      request.body = json;
      BINARY_TENSORS.set(request, tensors);
    }
  }
}

function parseJson(text: Buffer, maxDepth: number): unknown {
  if (exceedsJsonDepth(text, maxDepth)) throw jsonTooDeep(maxDepth);
  try {
    return JSON.parse(text.toString('utf8')) as unknown;
  } catch {
    throw invalid('The request body is not valid JSON.');
  }
}

interface BinaryInput {
  name?: unknown;
  datatype?: unknown;
  parameters?: { binary_data_size?: unknown } | null;
  data?: unknown;
}

/** The inputs of a request that are objects, with their index in `inputs`. */
function inputsOf(request: unknown): Array<{ input: BinaryInput; index: number }> {
  const inputs = (request as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs)) return [];
  return inputs.flatMap((input: unknown, index) =>
    typeof input === 'object' && input !== null ? [{ input: input, index }] : [],
  );
}

function hasBinarySize(input: BinaryInput): boolean {
  const parameters = input.parameters;
  return typeof parameters === 'object' && parameters !== null && 'binary_data_size' in parameters;
}

/** A body without binary tensor bytes: an input that declares binary_data_size has nothing to read. */
function refuseBinaryInputs(request: unknown, why: string): unknown {
  const binary = inputsOf(request).find(({ input }) => hasBinarySize(input))?.input;
  if (binary) {
    throw invalid(
      `Input "${tensorLabel(binary.name)}" has parameters.binary_data_size, but ${why}: send the JSON, then the tensor bytes, with Inference-Header-Content-Length giving the JSON's length (binary tensor data extension), or put the values in "data" without binary_data_size.`,
    );
  }
  return request;
}

/** Inference-Header-Content-Length: a decimal integer of bytes, from 1 to the body's length. */
function headerLength(header: string, bodyLength: number): number {
  const length = /^\d{1,15}$/.test(header.trim()) ? Number(header.trim()) : Number.NaN;
  if (!Number.isSafeInteger(length) || !(length <= bodyLength)) {
    throw invalid(
      `Inference-Header-Content-Length is ${JSON.stringify(header.slice(0, 32))}, but it must be a whole number of bytes from 1 to the body's ${bodyLength}.`,
    );
  }
  if (length === 0) {
    throw invalid(
      'Raw binary requests (Inference-Header-Content-Length: 0) are not supported: send the JSON header.',
    );
  }
  return length;
}

/** The JSON header, and each binary input's bytes (a view of the body), in the order the inputs are listed. */
function splitBinaryBody(
  body: Buffer,
  length: number,
  maxDepth: number,
): { json: unknown; tensors: Map<number, Buffer> } {
  const json = parseJson(body.subarray(0, length), maxDepth);
  const tensors = new Map<number, Buffer>();
  let offset = length;
  for (const { input, index } of inputsOf(json)) {
    if (!hasBinarySize(input)) continue;
    const tensor = tensorLabel(input.name);
    const size = input.parameters?.binary_data_size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw invalid(
        `Input "${tensor}" has binary_data_size ${tensorLabel(size)}: it must be a whole, non-negative number of bytes.`,
      );
    }
    if (input.data !== undefined) {
      throw invalid(
        `Input "${tensor}" has both "data" and binary_data_size: send its values one way, in the JSON or as bytes after it.`,
      );
    }
    if (offset + size > body.length) {
      throw invalid(
        `Input "${tensor}" has binary_data_size ${size}, but only ${body.length - offset} bytes of the body are left after the JSON and the inputs before it.`,
      );
    }
    tensors.set(index, body.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== body.length) {
    throw invalid(
      `The body has ${body.length - offset} bytes after the JSON and the binary inputs it declares: check Inference-Header-Content-Length and each binary_data_size.`,
    );
  }
  return { json, tensors };
}
