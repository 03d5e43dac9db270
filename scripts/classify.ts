/**
 * npm run classify -- <folder or list> --out results.jsonl [--url http://localhost:5000] [--api-key KEY]
 *                     [--top-k 5] [--model NAME] [--chunk 1000]
 *
 * Classifies a folder of photos (each file's id is its path in the folder) or a list (one URL per line, or JSONL
 * of {"id", "url"}) through a running service's jobs API, writing one JSON line per photo to --out:
 * `{"id", "prediction"}` or `{"id", "problem"}`. The photos go in jobs of at most --chunk items (a folder's as tar
 * archives); results are appended as they come. Run it again after an interruption and it resumes: ids already in
 * the output are skipped, and the jobs it had started (kept in `<out>.jobs`) are read to the end rather than sent
 * again. Why the jobs API rather than batched /v1 calls: docs/jobs.md#the-command.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readDone, readInputs, type InputItem } from './classify/inputs';
import { Progress } from './classify/progress';
import { tarOf } from './classify/tar';

interface Options {
  url: string;
  apiKey?: string;
  topK?: number;
  model?: string;
  chunk: number;
}

interface JobStatus {
  id: string;
  state: string;
  counts: { total: number; succeeded: number; failed: number; pending: number };
}

const FINISHED = new Set(['completed', 'cancelled', 'failed']);
const MAX_CHUNK_BYTES = 256 * 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Classifier {
  private readonly done: Set<string>;
  private readonly wanted: Set<string>;
  private readonly progress: Progress;
  private readonly sidecar: string;

  constructor(
    private readonly items: InputItem[],
    private readonly out: string,
    private readonly options: Options,
  ) {
    const { ids, validBytes } = readDone(out);
    // A line cut short by an interruption is dropped, so the file stays valid JSON Lines.
    if (existsSync(out)) truncateSync(out, validBytes);
    this.wanted = new Set(items.map((item) => item.id));
    this.done = new Set([...ids].filter((id) => this.wanted.has(id)));
    this.sidecar = `${out}.jobs`;
    this.progress = new Progress(items.length, this.done.size);
  }

  async run(): Promise<{ total: number; skipped: number; written: number }> {
    const skipped = this.done.size;
    if (skipped > 0)
      process.stderr.write(
        `classify: ${skipped} of ${this.items.length} already in ${this.out}, skipping them\n`,
      );
    // Jobs an interrupted run started: read them to the end instead of sending their photos again.
    for (const jobId of this.recordedJobs()) await this.drain(jobId);
    let remaining = this.items.filter((item) => !this.done.has(item.id));
    while (remaining.length > 0) {
      const chunk = this.nextChunk(remaining);
      const jobId = await this.submit(chunk);
      appendFileSync(this.sidecar, `${jobId}\n`);
      await this.drain(jobId);
      remaining = remaining.filter((item) => !this.done.has(item.id) && !chunk.includes(item));
    }
    rmSync(this.sidecar, { force: true });
    this.progress.finish(this.done.size);
    return { total: this.items.length, skipped, written: this.done.size - skipped };
  }

  private recordedJobs(): string[] {
    if (!existsSync(this.sidecar)) return [];
    return readFileSync(this.sidecar, 'utf8')
      .split('\n')
      .filter((line) => /^[0-9a-f-]{36}$/.test(line));
  }

  private nextChunk(remaining: InputItem[]): InputItem[] {
    const chunk: InputItem[] = [];
    let bytes = 0;
    for (const item of remaining) {
      if (chunk.length >= this.options.chunk) break;
      bytes += 'file' in item ? readFileSync(item.file).length : 0;
      if (chunk.length > 0 && bytes > MAX_CHUNK_BYTES) break;
      chunk.push(item);
    }
    return chunk;
  }

  private async submit(chunk: InputItem[]): Promise<string> {
    const query = new URLSearchParams();
    if (this.options.topK !== undefined) query.set('top_k', String(this.options.topK));
    if (this.options.model !== undefined) query.set('model', this.options.model);
    const files = chunk.filter((item): item is { id: string; file: string } => 'file' in item);
    const urls = chunk.filter((item): item is { id: string; url: string } => 'url' in item);
    const request =
      files.length > 0
        ? {
            path: `/v1/jobs?${query.toString()}`,
            contentType: 'application/x-tar',
            body: tarOf(files.map((item) => ({ name: item.id, data: readFileSync(item.file) }))),
          }
        : {
            path: '/v1/jobs',
            contentType: 'application/json',
            body: JSON.stringify({
              items: urls.map(({ id, url }) => ({ id, url })),
              ...(this.options.topK !== undefined ? { top_k: this.options.topK } : {}),
              ...(this.options.model !== undefined ? { model: this.options.model } : {}),
            }),
          };
    for (let attempt = 1; ; attempt++) {
      const response = await this.fetch(request.path, {
        method: 'POST',
        headers: { 'content-type': request.contentType },
        body: request.body,
      });
      if (response.status === 201 || response.status === 200)
        return ((await response.json()) as JobStatus).id;
      const problem = await response.text();
      if (response.status === 503 && attempt < 30) {
        await sleep(Math.min(10_000, 500 * attempt));
        continue;
      }
      throw new Error(`the service refused the job (HTTP ${response.status}): ${problem}`);
    }
  }

  /** Appends the job's results as they come until it has ended; a job the service no longer has is skipped. */
  private async drain(jobId: string): Promise<void> {
    for (;;) {
      const response = await this.fetch(`/v1/jobs/${jobId}`);
      if (response.status === 404) return;
      if (!response.ok)
        throw new Error(`GET /v1/jobs/${jobId}: HTTP ${response.status} ${await response.text()}`);
      const job = (await response.json()) as JobStatus;
      await this.collect(jobId);
      if (FINISHED.has(job.state)) return;
      await sleep(500);
    }
  }

  private async collect(jobId: string): Promise<void> {
    const response = await this.fetch(`/v1/jobs/${jobId}/results?order=completion`);
    if (!response.ok) return;
    const fresh: string[] = [];
    for (const text of (await response.text()).split('\n')) {
      if (text === '') continue;
      const { index: _index, ...line } = JSON.parse(text) as { id: string; index: number };
      if (!this.wanted.has(line.id) || this.done.has(line.id)) continue;
      this.done.add(line.id);
      fresh.push(JSON.stringify(line));
    }
    if (fresh.length > 0) appendFileSync(this.out, `${fresh.join('\n')}\n`);
    this.progress.update(this.done.size);
  }

  private fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.options.apiKey) headers.set('x-api-key', this.options.apiKey);
    return fetch(new URL(path, this.options.url), { ...init, headers });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      url: { type: 'string', default: process.env.FOOD_VISION_URL ?? 'http://localhost:5000' },
      'api-key': { type: 'string', default: process.env.FOOD_VISION_API_KEY },
      'top-k': { type: 'string' },
      model: { type: 'string' },
      chunk: { type: 'string', default: '1000' },
    },
  });
  if (positionals.length !== 1 || !values.out) {
    throw new Error('Usage: npm run classify -- <folder or list> --out results.jsonl [--url http://service]');
  }
  const chunk = Number(values.chunk);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 100_000)
    throw new Error('--chunk must be 1 to 100000');
  const out = resolve(values.out);
  if (!existsSync(out)) writeFileSync(out, '');
  const items = readInputs(resolve(positionals[0]));
  const classifier = new Classifier(items, out, {
    url: values.url,
    apiKey: values['api-key'],
    topK: values['top-k'] === undefined ? undefined : Number(values['top-k']),
    model: values.model,
    chunk,
  });
  const { total, skipped, written } = await classifier.run();
  const missing = total - skipped - written;
  process.stderr.write(
    `classify: done, ${total} photos: ${written} written now, ${skipped} from before, in ${out}\n`,
  );
  if (missing > 0) {
    process.stderr.write(
      `classify: ${missing} photos have no result (their job was cancelled or failed); run again to retry them\n`,
    );
    process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`classify: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
