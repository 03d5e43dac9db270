import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { LOAD_GENERATOR_NICE } from './clients';
import { multipartUpload } from './load';

export interface HeyResult {
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
  non200: number;
}

export function heyAvailable(): boolean {
  return spawnSync('hey', ['-h']).error === undefined;
}

/** A multipart upload of `bytes` written to `file` once: `hey` sends the same body on every request. */
export function writeUploadBody(
  file: string,
  name: string,
  bytes: Buffer,
): { file: string; contentType: string } {
  const { headers, body } = multipartUpload(name, bytes);
  writeFileSync(file, body);
  return { file, contentType: headers['content-type'] };
}

/** `hey` at nice 19 against a 127.0.0.1 URL for `seconds`, from `connections` connections. */
export async function hey(options: {
  url: string;
  body: { file: string; contentType: string };
  connections: number;
  seconds: number;
}): Promise<HeyResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(options.url))
    throw new Error(`hey only targets 127.0.0.1, not ${options.url}`);
  const { stdout } = await promisify(execFile)(
    'nice',
    [
      '-n',
      String(LOAD_GENERATOR_NICE),
      'hey',
      '-z',
      `${options.seconds}s`,
      '-c',
      String(options.connections),
      '-t',
      '30',
      '-m',
      'POST',
      '-T',
      options.body.contentType,
      '-D',
      options.body.file,
      options.url,
    ],
    { timeout: (options.seconds + 60) * 1000, maxBuffer: 16 * 1024 * 1024 },
  );
  return parseHey(stdout, options.connections);
}

export function parseHey(text: string, connections: number): HeyResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const quantile = (q: number) =>
    Number(new RegExp(`\\s${q}%+ in ([\\d.]+) secs`).exec(text)?.[1] ?? NaN) * 1000;
  let total = 0;
  let ok = 0;
  for (const [, code, count] of text.matchAll(/\[(\d+)\]\s+(\d+) responses/g)) {
    total += Number(count);
    if (code === '200') ok += Number(count);
  }
  const errors = /Error distribution:([\s\S]*)$/.exec(text)?.[1] ?? '';
  for (const [, count] of errors.matchAll(/\[(\d+)\]/g)) total += Number(count);
  return {
    connections,
    requestsPerSecond: rps,
    p50: quantile(50),
    p99: quantile(99),
    total,
    non200: total - ok,
  };
}
