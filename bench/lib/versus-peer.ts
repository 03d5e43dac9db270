import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedModel } from '@app/inference';
import { FIXTURE_MODELS } from '../../test/support/shared-data';
import type { BuiltApp } from './build';
import { heyAvailable, writeUploadBody } from './hey';
import { peerModel, peerUnavailable, startPeer, type RunningPeer } from './peer';
import { phoneJpeg, phoneOthers } from './phone-photos';
import {
  sideBySide,
  summarise,
  type Contender,
  type SideBySideRound,
  type SideBySideSummary,
} from './side-by-side';
import { startServer, type RunningServer } from './server';
import { compareFidelity, measureStages, type FidelityResult, type StageCosts } from './stages';

export const SERVICE = 'service';
export const SERVICE_EXACT = 'service (exact)';
export const PEER = 'peer';

export interface VersusPeerResults {
  /** Why the peer did not run (and how to install it), when it did not. */
  peerMissing?: string;
  rounds: SideBySideRound[];
  photo: SideBySideSummary[];
  phone: SideBySideSummary[];
  /** Event-loop CPU ms per request of the service, by photo and concurrency (median of rounds). */
  eventLoopMs: Record<string, number>;
  stages: { photo: StageCosts; phone: StageCosts; served: StageCosts };
  fidelity: FidelityResult[];
  seconds: number;
  rounds_: number;
}

function contender(name: string, server: RunningServer, eventLoop: Map<string, number[]>): Contender {
  return {
    name,
    baseUrl: server.baseUrl,
    cpu: () => {
      const cpu = server.cpu();
      // Remember the event loop's share; sideBySide asks before and after each round.
      eventLoop.set(name, [...(eventLoop.get(name) ?? []), cpu.mainThread]);
      return cpu.process;
    },
  };
}

/**
 * The service (default settings) against the Python peer on the same `.h5` Food-101 MobileNetV2, side by side:
 * `pizza__1.jpg` at 1, 8 and 32 connections, then phone-sized photos (12 MP JPEG, 4000 × 3000 PNG and WebP),
 * with the service also in `exact` fidelity. Plus each stage alone and exact vs fast through the model.
 */
export async function versusPeer(options: {
  app: BuiltApp;
  resolved: ResolvedModel;
  tmp: string;
  seconds: number;
  rounds: number;
  phoneSeconds: number;
  log: (line: string) => void;
}): Promise<VersusPeerResults> {
  const { log, tmp } = options;
  const model = FIXTURE_MODELS.food101KerasH5;
  const pizza = readFileSync(join(model.dir, '..', '..', 'images', 'food', 'pizza__1.jpg'));
  const bigJpeg = await phoneJpeg(pizza);
  const { png, webp } = await phoneOthers(pizza);
  const bodies = {
    photo: [
      {
        name: 'pizza__1.jpg (740×740)',
        body: writeUploadBody(join(tmp, 'pizza.body'), 'pizza__1.jpg', pizza),
      },
    ],
    phone: [
      {
        name: '12 MP JPEG (4032×3024)',
        body: writeUploadBody(join(tmp, 'phone.jpg.body'), 'phone.jpg', bigJpeg),
      },
      { name: '4000×3000 PNG', body: writeUploadBody(join(tmp, 'phone.png.body'), 'phone.png', png) },
      { name: '4000×3000 WebP', body: writeUploadBody(join(tmp, 'phone.webp.body'), 'phone.webp', webp) },
    ],
  };

  log('each stage alone (decode exact / fast, bare sharp resize, inference)…');
  const photos = readPhotos(model.dir);
  const stages = {
    photo: await measureStages(
      options.resolved,
      photos.map((p) => p.bytes),
      3,
    ),
    phone: await measureStages(options.resolved, [bigJpeg], 3),
    served: await measureStages(options.resolved, [pizza], 20),
  };
  log('fidelity: exact vs fast through the model on the 13 photos and their 12 MP versions…');
  const phoneVersions = [];
  for (const photo of photos) phoneVersions.push({ label: photo.label, bytes: await phoneJpeg(photo.bytes) });
  const fidelity = await compareFidelity(options.resolved, [
    { name: '13 photos', images: photos },
    { name: '13 photos at 12 MP', images: phoneVersions },
  ]);

  const peerMissing = !heyAvailable() ? 'hey is not installed (apt-get install -y hey)' : peerUnavailable();
  if (peerMissing) log(`the Python peer is skipped: ${peerMissing}`);
  const exactManifest = join(tmp, 'manifest-exact.json');
  const manifest = JSON.parse(readFileSync(model.manifest, 'utf8')) as { input: { resize: object } };
  manifest.input.resize = { ...manifest.input.resize, fidelity: 'exact' };
  writeFileSync(exactManifest, JSON.stringify(manifest));

  // The 4000×3000 PNG is about 19 MB, past the 10 MB default of MAX_IMAGE_BYTES (which would answer 413); the peer has
  // no limit, so the service gets room for it too.
  const env = (manifestPath: string) => ({
    MODEL_MANIFEST: manifestPath,
    MODEL_DIR: model.dir,
    MAX_IMAGE_BYTES: String(32 * 1024 * 1024),
  });
  const servers: RunningServer[] = [];
  let peer: RunningPeer | undefined;
  try {
    const service = await startServer({
      entry: options.app.entry,
      env: env(model.manifest),
      logFile: join(tmp, 'server-h5.log'),
    });
    servers.push(service);
    const exact = await startServer({
      entry: options.app.entry,
      env: env(exactManifest),
      logFile: join(tmp, 'server-h5-exact.log'),
    });
    servers.push(exact);
    if (!peerMissing) peer = await startPeer(await peerModel(log), join(tmp, 'peer.log'));
    const eventLoop = new Map<string, number[]>();
    const contenders: Contender[] = [contender(SERVICE, service, eventLoop)];
    if (peer) contenders.push({ name: PEER, baseUrl: peer.baseUrl, cpu: () => peer!.cpu() });
    // Warm both (JIT, first-request paths) before anything is timed.
    await sideBySide({
      contenders,
      photos: bodies.photo,
      concurrencies: [8],
      rounds: 1,
      seconds: 2,
      log: () => undefined,
    });
    eventLoop.clear();
    const photoRounds = await sideBySide({
      contenders,
      photos: bodies.photo,
      concurrencies: [1, 8, 32],
      rounds: options.rounds,
      seconds: options.seconds,
      log,
    });
    const mainThread = eventLoop.get(SERVICE) ?? [];
    const serviceRounds = photoRounds.filter((row) => row.contender === SERVICE);
    const eventLoopMs: Record<string, number> = {};
    serviceRounds.forEach((row, i) => {
      const ms = ((mainThread[2 * i + 1] - mainThread[2 * i]) * 1000) / Math.max(1, row.total);
      eventLoopMs[`${row.photo} c=${row.connections}`] = Math.min(
        eventLoopMs[`${row.photo} c=${row.connections}`] ?? Infinity,
        ms,
      );
    });
    const phoneContenders = [
      contenders[0],
      contender(SERVICE_EXACT, exact, new Map()),
      ...contenders.slice(1),
    ];
    const phoneRounds = await sideBySide({
      contenders: phoneContenders,
      photos: bodies.phone,
      concurrencies: [8],
      rounds: options.rounds,
      seconds: options.phoneSeconds,
      log,
    });
    return {
      ...(peerMissing ? { peerMissing } : {}),
      rounds: [...photoRounds, ...phoneRounds],
      photo: summarise(photoRounds),
      phone: summarise(phoneRounds),
      eventLoopMs,
      stages,
      fidelity,
      seconds: options.seconds,
      rounds_: options.rounds,
    };
  } finally {
    await peer?.stop();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

function readPhotos(modelDir: string) {
  const dir = join(modelDir, '..', '..', 'images', 'food');
  const labels = readFileSync(join(dir, 'labels.csv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.split(','));
  return labels.map(([file, label]) => ({ label, bytes: readFileSync(join(dir, file)) }));
}
