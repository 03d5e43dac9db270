import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { raw, type Request, type RequestHandler, type Response } from 'express';
import { from, type Observable, switchMap } from 'rxjs';
import { problem } from '@app/problem';
import type { EnvironmentVariables } from '../config/environment';

/** Binary tensor data extension: the length of the JSON part of the body; tensor bytes follow it. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

const invalid = (detail: string) => problem('validation_failed', detail);

/**
 * Reads inference bodies the JSON parser left alone (it only takes application/json): a JSON header followed by
 * tensor bytes (binary tensor data extension, `Inference-Header-Content-Length`), or JSON sent without a JSON
 * content type. The tensor bytes become ordinary `data` (BYTES elements as base64 strings), so validation and
 * inference see one request shape. An interceptor rather than a middleware: it runs before the validation pipe,
 * and its errors reach the V2 filter.
 */
@Injectable()
export class BinaryTensorBodyInterceptor implements NestInterceptor {
  private readonly readBody: RequestHandler;

  constructor(config: ConfigService<EnvironmentVariables, true>) {
    // The JSON parser's limit (app.factory.ts): raw bytes are smaller than their base64 or JSON text.
    const limit = Math.ceil((config.get('MAX_IMAGE_BYTES', { infer: true }) * 4) / 3) + 64 * 1024;
    this.readBody = raw({ type: () => true, limit });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    return from(this.decode(http.getRequest<Request>(), http.getResponse<Response>())).pipe(
      switchMap(() => next.handle()),
    );
  }

  private async decode(request: Request, response: Response): Promise<void> {
    const header = request.headers[INFERENCE_HEADER_CONTENT_LENGTH];
    if (request.body !== undefined && header === undefined) return;
    await new Promise<void>((resolve, reject) =>
      this.readBody(request, response, (error?: unknown) =>
        error
          ? reject(error instanceof Error ? error : new Error('The request body could not be read.'))
          : resolve(),
      ),
    );
    const body: unknown = request.body;
    if (!Buffer.isBuffer(body)) return;
    request.body = header === undefined ? parseJson(body) : withBinaryTensors(body, String(header));
  }
}

function parseJson(text: Buffer): unknown {
  try {
    return JSON.parse(text.toString('utf8')) as unknown;
  } catch {
    throw invalid('The request body is not valid JSON.');
  }
}

interface BinaryInput {
  name?: unknown;
  datatype?: unknown;
  parameters?: { binary_data_size?: unknown };
  data?: unknown;
}

/** The JSON header with each binary input's bytes decoded into its `data`, in the order the inputs are listed. */
function withBinaryTensors(body: Buffer, header: string): unknown {
  const length = Number(header);
  if (!Number.isInteger(length) || length < 0 || length > body.length) {
    throw invalid(`Inference-Header-Content-Length is ${header}, but the body has ${body.length} bytes.`);
  }
  if (length === 0) {
    throw invalid(
      'Raw binary requests (Inference-Header-Content-Length: 0) are not supported: send the JSON header.',
    );
  }
  const request = parseJson(body.subarray(0, length)) as { inputs?: unknown };
  let offset = length;
  for (const input of Array.isArray(request.inputs) ? (request.inputs as BinaryInput[]) : []) {
    const size = input?.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || offset + size > body.length) {
      throw invalid(
        `Input "${String(input.name)}" has binary_data_size ${JSON.stringify(size)}, beyond the body's tensor bytes.`,
      );
    }
    input.data = decodeTensorBytes(body.subarray(offset, offset + size), input.datatype, String(input.name));
    offset += size;
  }
  if (offset !== body.length) {
    throw invalid(
      `The body has ${body.length - offset} bytes after the last binary input: check each binary_data_size.`,
    );
  }
  return request;
}

/** Little-endian, row-major tensor bytes as JSON tensor data. */
function decodeTensorBytes(bytes: Buffer, datatype: unknown, tensor: string): Array<string | number> {
  switch (datatype) {
    case 'BYTES': {
      // Each element: a 4-byte little-endian length, then that many bytes.
      const elements: string[] = [];
      for (let offset = 0; offset < bytes.length;) {
        if (offset + 4 > bytes.length) throw invalid(`Input "${tensor}": a BYTES element length is cut off.`);
        const size = bytes.readUInt32LE(offset);
        if (offset + 4 + size > bytes.length) throw invalid(`Input "${tensor}": a BYTES element is cut off.`);
        elements.push(bytes.subarray(offset + 4, offset + 4 + size).toString('base64'));
        offset += 4 + size;
      }
      return elements;
    }
    case 'FP32': {
      if (bytes.length % 4 !== 0)
        throw invalid(`Input "${tensor}": FP32 data is not a whole number of 4-byte values.`);
      const values: number[] = new Array<number>(bytes.length / 4);
      for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
      return values;
    }
    case 'UINT8':
      return Array.from(bytes);
    default:
      throw invalid(
        `Input "${tensor}": binary data is read for BYTES, FP32 and UINT8 tensors, not ${String(datatype)}.`,
      );
  }
}
