import { readFileSync } from 'node:fs';
import { serveBytes, startImageServer, type ImageServer, type Route } from './image-server';
import { foodPhotos, type FoodPhoto } from './shared-data';

/** What an item of a test job must come to: a photo's label (in the top 5), or a problem code. */
export type Expected = { label: string; photo: string } | { code: string };

export interface JobItemSpec {
  id: string;
  url: string;
  expected: Expected;
}

export interface ResultLine {
  id: string;
  index: number;
  prediction?: { predictions: Array<{ label: string; confidence: number }>; model: { name: string } };
  problem?: { code: string; status: number; detail: string; instance?: string };
}

export interface JobStatus {
  id: string;
  state: string;
  counts: { total: number; succeeded: number; failed: number; pending: number };
  rate_per_second: number;
  eta_seconds: number | null;
  [key: string]: unknown;
}

/**
 * The 13 shared photos on 127.0.0.1 at `/p/<n>.jpg` (any query string, so one photo can be many distinct items),
 * `/broken.jpg` (JPEG content type, not a JPEG) and 404 for anything else.
 */
export async function startPhotoServer(): Promise<{ server: ImageServer; photos: FoodPhoto[] }> {
  const photos = foodPhotos();
  const routes: Record<string, Route> = {
    '/broken.jpg': serveBytes(Buffer.from('this is not a photo at all, just text'), 'image/jpeg'),
  };
  photos.forEach((photo, index) => (routes[`/p/${index}.jpg`] = serveBytes(readFileSync(photo.path))));
  return { server: await startImageServer(routes), photos };
}

/**
 * `count` items cycling through the photos (distinct ids and query strings), with a broken photo every 50th item,
 * a missing one every 50th (offset 25), and a private address every 100th (offset 10): each with what it must
 * come to.
 */
export function jobItems(server: ImageServer, photos: FoodPhoto[], count: number): JobItemSpec[] {
  return Array.from({ length: count }, (_, index): JobItemSpec => {
    const id = `item-${String(index).padStart(5, '0')}`;
    if (index % 50 === 7)
      return { id, url: server.url(`/broken.jpg?n=${index}`), expected: { code: 'upstream_not_image' } };
    if (index % 50 === 32)
      return { id, url: server.url(`/missing/${index}.jpg`), expected: { code: 'upstream_status' } };
    if (index % 100 === 10)
      return { id, url: `http://10.20.30.40/${index}.jpg`, expected: { code: 'url_forbidden_address' } };
    const photo = photos[index % photos.length];
    return {
      id,
      url: server.url(`/p/${index % photos.length}.jpg?n=${index}`),
      expected: { label: photo.label, photo: photo.file },
    };
  });
}

export async function getJob(
  baseUrl: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<JobStatus> {
  const response = await fetch(`${baseUrl}/v1/jobs/${id}`, { headers });
  if (response.status !== 200) throw new Error(`GET job ${id}: ${response.status} ${await response.text()}`);
  return (await response.json()) as JobStatus;
}

/** Polls the job until `until` holds (by default: it ended). */
export async function waitForJob(
  baseUrl: string,
  id: string,
  until: (job: JobStatus) => boolean = (job) => ['completed', 'cancelled', 'failed'].includes(job.state),
  timeoutMs = 120_000,
  headers: Record<string, string> = {},
): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let job: JobStatus | undefined;
    try {
      job = await getJob(baseUrl, id, headers);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (job && until(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not get there in time: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function readResults(
  baseUrl: string,
  id: string,
  order: 'input' | 'completion' = 'input',
  headers: Record<string, string> = {},
): Promise<ResultLine[]> {
  const response = await fetch(`${baseUrl}/v1/jobs/${id}/results?order=${order}`, { headers });
  if (response.status !== 200)
    throw new Error(`results of ${id}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ResultLine);
}

/**
 * Checks that the results hold every item exactly once, each right: the photo's label in the top 5 and as the
 * top-1 for all but the known hard photo (`apple_pie__2`), or the expected problem code. Returns the top-1 hits.
 */
export function checkResults(lines: ResultLine[], items: JobItemSpec[]): { top1: number; photos: number } {
  const ids = lines.map((line) => line.id);
  if (new Set(ids).size !== ids.length) throw new Error('an item has more than one result');
  const byId = new Map(lines.map((line) => [line.id, line]));
  let top1 = 0;
  let photos = 0;
  const wrong: string[] = [];
  for (const item of items) {
    const line = byId.get(item.id);
    if (!line) {
      wrong.push(`${item.id}: no result`);
      continue;
    }
    if ('code' in item.expected) {
      if (line.problem?.code !== item.expected.code) {
        wrong.push(
          `${item.id}: expected ${item.expected.code}, got ${JSON.stringify(line.problem ?? line.prediction)}`,
        );
      }
      continue;
    }
    photos++;
    const labels = line.prediction?.predictions.map((prediction) => prediction.label) ?? [];
    if (!labels.includes(item.expected.label)) {
      wrong.push(
        `${item.id}: ${item.expected.photo} not in top 5: ${JSON.stringify(line.problem ?? labels)}`,
      );
    } else if (labels[0] === item.expected.label) {
      top1++;
    } else if (item.expected.photo !== 'apple_pie__2.jpg') {
      wrong.push(`${item.id}: ${item.expected.photo} top-1 was ${labels[0]}`);
    }
  }
  if (lines.length !== items.length) wrong.push(`${lines.length} results for ${items.length} items`);
  if (wrong.length > 0) throw new Error(`wrong results:\n${wrong.slice(0, 20).join('\n')}`);
  return { top1, photos };
}
