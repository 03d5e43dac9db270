/**
 * Hostile requests shared by the soak run and the fuzz script: each is something a careless or malicious client
 * sends, with the answer it must get (a 4xx, never a 5xx). Built from a real photo so the hostility is in the
 * protocol or the bytes, not in a missing file.
 */
export interface HostileRequest {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | string;
  /** A damaged photo may still decode (JPEG is forgiving): any answer below 500 is right for it. */
  mayBeAccepted?: boolean;
}

const nested = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);

/** A copy of `bytes` with `count` random bytes overwritten (never the first two, so it still looks like a JPEG). */
export function mutateBytes(bytes: Buffer, count: number, random: () => number): Buffer {
  const copy = Buffer.from(bytes);
  for (let i = 0; i < count; i++)
    copy[2 + Math.floor(random() * (copy.length - 2))] = Math.floor(random() * 256);
  return copy;
}

/** A PNG header claiming 60 000 × 60 000 pixels: a decompression bomb refused from the header. */
export function pixelBombPng(): Buffer {
  const header = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const size = Buffer.alloc(8);
  size.writeUInt32BE(60_000, 0);
  size.writeUInt32BE(60_000, 4);
  return Buffer.concat([header, size, Buffer.from('0806000000', 'hex'), Buffer.alloc(64)]);
}

export function hostileRequests(photo: Buffer, model: string, random: () => number): HostileRequest[] {
  const json = { 'content-type': 'application/json' };
  const infer = `/v2/models/${model}/infer`;
  const bytesElement = Buffer.alloc(4);
  bytesElement.writeUInt32LE(photo.length + 100);
  const binaryHeader = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: -5 } }],
    }),
  );
  return [
    { name: 'deep JSON /v1', path: '/v1/predictions', headers: json, body: nested(20_000) },
    {
      name: 'deep batch item',
      path: '/v1/predictions/batch',
      headers: json,
      body: `{"items":[{"url":${nested(20_000)}}]}`,
    },
    {
      name: 'deep tensor data /v2',
      path: infer,
      headers: json,
      body: `{"inputs":[{"name":"input","datatype":"FP32","shape":[1],"data":${nested(20_000)}}]}`,
    },
    {
      name: 'negative binary_data_size',
      path: infer,
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(binaryHeader.length),
      },
      body: Buffer.concat([binaryHeader, bytesElement, photo]),
    },
    {
      name: 'mutated JPEG',
      path: '/v1/predictions',
      headers: json,
      body: JSON.stringify({ image: mutateBytes(photo, 40, random).toString('base64') }),
      mayBeAccepted: true,
    },
    {
      name: 'truncated JPEG',
      path: '/v1/predictions',
      headers: json,
      body: JSON.stringify({ image: photo.subarray(0, Math.floor(photo.length / 3)).toString('base64') }),
    },
    {
      name: 'pixel bomb PNG',
      path: '/v1/predictions',
      headers: json,
      body: JSON.stringify({ image: pixelBombPng().toString('base64') }),
    },
    {
      name: 'NaN tensor',
      path: infer,
      headers: json,
      body: JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 224, 224, 3], data: ['NaN'] }],
      }),
    },
    {
      name: 'overflowing shape',
      path: infer,
      headers: json,
      body: JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2 ** 40, 2 ** 40, 3], data: [1] }],
      }),
    },
    { name: 'not JSON', path: '/v1/predictions', headers: json, body: '{"image": ' },
  ];
}
