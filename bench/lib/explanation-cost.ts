import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltApp } from './build';
import { load } from './clients';
import type { LoadResult } from './load';
import { startServer } from './server';

export interface ExplanationCost {
  photos: Array<{
    file: string;
    label: string;
    confidence: number;
    maskedImages: number;
    ms: number;
    scale: number;
  }>;
  /** Interactive uploads at 8 connections, alone and while explanations run one after another beside them. */
  interactive: { alone: LoadResult; withExplanations: LoadResult; explanationsDuring: number; shed: number };
}

async function explain(baseUrl: string, bytes: Buffer, { allowShed = false } = {}) {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'photo.jpg');
  const response = await fetch(`${baseUrl}/v1/predictions?explain=occlusion`, { method: 'POST', body: form });
  if (allowShed && response.status === 503) {
    await response.arrayBuffer();
    return undefined;
  }
  if (!response.ok) throw new Error(`explain answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as {
    predictions: Array<{ label: string; confidence: number }>;
    explanation: { cost: { masked_images: number; ms: number }; overlay_scale: number };
  };
}

/**
 * What an explanation costs here: each photo explained once at the defaults (32-pixel patches every 16 pixels,
 * 169 masked images), timed; then interactive uploads at 8 connections alone, and again while explanations run
 * back to back in the background lane, to show what they take from interactive traffic.
 */
export async function measureExplanationCost(options: {
  app: BuiltApp;
  env: Record<string, string>;
  photos: Array<{ file: string; path: string }>;
  seconds: number;
  tmp: string;
  log: (line: string) => void;
}): Promise<ExplanationCost> {
  const { app, env, photos, seconds, tmp, log } = options;
  const server = await startServer({ entry: app.entry, env, logFile: join(tmp, 'server-explain.log') });
  try {
    const results: ExplanationCost['photos'] = [];
    await explain(server.baseUrl, readFileSync(photos[0].path)); // warm
    for (const photo of photos) {
      const answer = (await explain(server.baseUrl, readFileSync(photo.path)))!;
      const { cost, overlay_scale: scale } = answer.explanation;
      results.push({
        file: photo.file,
        label: answer.predictions[0].label,
        confidence: answer.predictions[0].confidence,
        maskedImages: cost.masked_images,
        ms: cost.ms,
        scale,
      });
      log(`explain ${photo.file}: ${cost.masked_images} masked images in ${cost.ms.toFixed(0)} ms`);
    }
    const job = {
      kind: 'post' as const,
      url: `${server.baseUrl}/v1/predictions`,
      connections: 8,
      bodies: 'uploads' as const,
      duration: seconds,
    };
    const alone = await load(job);
    let running = true;
    let explanationsDuring = 0;
    let shed = 0;
    // While interactive requests keep both workers busy, the background lane waits: an explanation may be shed
    // (503 inference_timeout) rather than slow them down.
    const background = (async () => {
      const bytes = readFileSync(photos[0].path);
      while (running) {
        if (await explain(server.baseUrl, bytes, { allowShed: true })) explanationsDuring++;
        else shed++;
      }
    })();
    const withExplanations = await load(job);
    running = false;
    await background;
    log(
      `interactive at 8 connections: alone ${alone.requestsPerSecond.toFixed(1)} req/s p99 ${alone.p99} ms; with explanations ${withExplanations.requestsPerSecond.toFixed(1)} req/s p99 ${withExplanations.p99} ms (${explanationsDuring} explanations, ${shed} shed)`,
    );
    return { photos: results, interactive: { alone, withExplanations, explanationsDuring, shed } };
  } finally {
    await server.stop();
  }
}

export function renderExplanationCost(cost: ExplanationCost, seconds: number): string {
  const mean = cost.photos.reduce((sum, photo) => sum + photo.ms, 0) / cost.photos.length;
  const { alone, withExplanations, explanationsDuring, shed } = cost.interactive;
  return [
    '## Explanation cost (occlusion, 32-pixel patches every 16 pixels)',
    '',
    `Each photo explained alone, on the Food-101 MobileNet int8 fixture; the masked images run in the background lane (one worker of two by default). Mean ${mean.toFixed(0)} ms per explanation, ${((cost.photos[0]?.maskedImages ?? 0) / (mean / 1000)).toFixed(0)} masked images/s.`,
    '',
    '| photo | top-1 | confidence | masked images | ms | largest drop |',
    '| --- | --- | --- | --- | --- | --- |',
    ...cost.photos.map(
      (photo) =>
        `| ${photo.file} | ${photo.label} | ${photo.confidence.toFixed(3)} | ${photo.maskedImages} | ${photo.ms.toFixed(0)} | ${photo.scale.toFixed(3)} |`,
    ),
    '',
    `Interactive uploads at 8 connections for ${seconds} s: alone ${alone.requestsPerSecond.toFixed(1)} req/s, p50 ${alone.p50} ms, p99 ${alone.p99} ms; with explanations asked for back to back beside them (${explanationsDuring} finished, ${shed} shed with 503 because interactive work kept every worker busy) ${withExplanations.requestsPerSecond.toFixed(1)} req/s, p50 ${withExplanations.p50} ms, p99 ${withExplanations.p99} ms.`,
    '',
  ].join('\n');
}
