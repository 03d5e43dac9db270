import { readFileSync } from 'node:fs';
import type { SideBySideSummary } from './side-by-side';
import { PEER, SERVICE, SERVICE_EXACT, type VersusPeerResults } from './versus-peer';

/** One core's float32 peak: clock × FLOPs per cycle (2 FMA pipes × vector lanes × 2), from /proc/cpuinfo. */
export function corePeakGflops(): { gflops: number; how: string } {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return { gflops: NaN, how: 'unknown (no /proc/cpuinfo)' };
  }
  const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(text)?.[1] ?? NaN);
  const flags = /flags\s*:(.*)/.exec(text)?.[1].split(/\s+/) ?? [];
  const lanes = flags.includes('avx512f') ? 16 : flags.includes('avx2') && flags.includes('fma') ? 8 : 4;
  const perCycle = 2 * lanes * (flags.includes('fma') ? 2 : 1);
  return {
    gflops: (mhz / 1000) * perCycle,
    how: `${(mhz / 1000).toFixed(2)} GHz × ${perCycle} FLOP/cycle (${lanes} float32 lanes, 2 FMA pipes)`,
  };
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–';

function table(rows: SideBySideSummary[], names: string[]): string[] {
  const head = `| photo | connections | ${names.map((n) => `${n} req/s (rounds) · p50 · CPU/req`).join(' | ')} | ${names
    .slice(1)
    .map((n) => `${names[0]} ÷ ${n}`)
    .join(' | ')} |`;
  const lines = [head, `|${' --- |'.repeat(2 + names.length + names.length - 1)}`];
  for (const row of rows) {
    const cells = names.map((name) => {
      const r = row.by[name];
      return r
        ? `${f1(r.rps)} (${r.rounds.map(f1).join(', ')}) · ${f1(r.p50)} ms · ${f1(r.cpuMs)} ms${r.non200 ? ` · **${r.non200} non-200**` : ''}`
        : '–';
    });
    const ratios = names.slice(1).map((name) => {
      const a = row.by[names[0]];
      const b = row.by[name];
      return a && b ? `${ratio(a.rps, b.rps)} req/s, p50 ${ratio(a.p50, b.p50)}` : '–';
    });
    lines.push(`| ${row.photo} | ${row.connections} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  return lines;
}

export function renderVersusPeer(results: VersusPeerResults, modelFlops: number): string {
  const peak = corePeakGflops();
  const out: string[] = ['## Against the Python peer (FastAPI + PyTorch), same `.h5`, same generator', ''];
  out.push(
    `Food-101 MobileNetV2 0.35 \`.h5\` on both. The service with default settings; the peer as its README runs it (gunicorn, 2 workers × 1 torch thread, Pillow, XNNPACK). \`hey\` at nice 19, ${results.seconds} s rounds alternating service / peer (${results.rounds_} each); the cells give the median and every round. CPU/req is all the server's processes and threads. The 1-minute load average before each round is in the raw rounds below: other work shared this machine.`,
    '',
  );
  if (results.peerMissing) out.push(`**The peer did not run:** ${results.peerMissing}`, '');
  const names = results.peerMissing ? [SERVICE] : [SERVICE, PEER];
  out.push(...table(results.photo, names), '');
  const at = (c: number) => results.photo.find((row) => row.connections === c);
  const c32 = at(32);
  const c1 = at(1);
  if (c32?.by[PEER] && c1?.by[PEER]) {
    out.push(
      `**Targets:** req/s at 32 connections ${ratio(c32.by[SERVICE].rps, c32.by[PEER].rps)} the peer's (target ≥ 1.5×); p50 at 1 connection ${f1(c1.by[SERVICE].p50)} ms against the peer's ${f1(c1.by[PEER].p50)} ms (target ≤).`,
      '',
    );
  }
  out.push('### Phone photos (made from `pizza__1.jpg` with sharp), 8 connections', '');
  out.push(
    ...table(results.phone, results.peerMissing ? [SERVICE, SERVICE_EXACT] : [SERVICE, SERVICE_EXACT, PEER]),
    '',
  );
  out.push('### Where the CPU goes', '');
  const s = results.stages;
  const loopKey = Object.keys(results.eventLoopMs).find((key) => key.endsWith('c=32'));
  const eventLoop = loopKey ? results.eventLoopMs[loopKey] : NaN;
  const served = c32?.by[SERVICE]?.cpuMs ?? NaN;
  const alone = s.served.decodeFastMs + s.served.inferenceMs;
  out.push(
    '| stage (CPU ms per image, one thread) | 13 photos | 12 MP JPEG |',
    '| --- | --- | --- |',
    `| decode + resize, \`exact\` | ${f2(s.photo.decodeExactMs)} | ${f2(s.phone.decodeExactMs)} |`,
    `| decode + resize, \`fast\` (default; JPEG on ${s.photo.jpegDecoder}) | ${f2(s.photo.decodeFastMs)} | ${f2(s.phone.decodeFastMs)} |`,
    `| decode + resize, \`fast\`, JPEG on libvips (without libturbojpeg) | ${f2(s.photo.decodeFastLibvipsMs)} | ${f2(s.phone.decodeFastLibvipsMs)} |`,
    `| bare \`sharp().resize(224, 224)\` | ${f2(s.photo.bareSharpMs)} | ${f2(s.phone.bareSharpMs)} |`,
    `| **fast ÷ bare** (target ≤ 1.5) | ${f2(s.photo.decodeFastMs / s.photo.bareSharpMs)} | ${f2(s.phone.decodeFastMs / s.phone.bareSharpMs)} |`,
    `| exact ÷ bare | ${f2(s.photo.decodeExactMs / s.photo.bareSharpMs)} | ${f2(s.phone.decodeExactMs / s.phone.bareSharpMs)} |`,
    `| inference (onnxruntime, 1 thread) | ${f2(s.photo.inferenceMs)} | |`,
    '',
  );
  const pizzaStage = s.served; // the per-request split below is for pizza__1.jpg at 32 connections
  out.push(
    `Served at 32 connections (\`pizza__1.jpg\`): **${f1(served)} ms CPU per request** in all, of which the event loop ${f1(eventLoop)} ms; decode (${f1(s.served.decodeFastMs)} ms) + inference (${f1(s.served.inferenceMs)} ms) of the same photo alone, one thread: ${f1(alone)} ms, so total ÷ (decode + inference) = **${f2(served / alone)}** (target ≤ 1.3); overhead (threads, copies, GC, HTTP beyond the event loop) ${overhead(served - eventLoop - alone)}.`,
    '',
    `Engine vs the arithmetic peak: the model is ${f1(modelFlops / 1e6)} MFLOPs (convolutions and dense, ×2 per multiply-add); ${f2(pizzaStage.inferenceMs)} ms per image is ${f1(modelFlops / (pizzaStage.inferenceMs / 1000) / 1e9)} GFLOP/s on one core, against a peak of ${f1(peak.gflops)} GFLOP/s (${peak.how}): **${f1((100 * modelFlops) / (pizzaStage.inferenceMs / 1000) / 1e9 / peak.gflops)} %** of peak.`,
    '',
    '### Fidelity: `exact` against `fast` through the model',
    '',
    '| images | top-1 agreement | max abs Δp | top-1 correct, exact / fast |',
    '| --- | --- | --- | --- |',
    ...results.fidelity.map(
      (r) =>
        `| ${r.set} | ${r.top1Agreement}/${r.images} | ${r.maxAbsDelta.toExponential(2)} | ${r.correct.exact}/${r.images} / ${r.correct.fast}/${r.images} |`,
    ),
    '',
    '<details><summary>Every round, with the load average before it</summary>',
    '',
    '| photo | c | round | server | req/s | p50 ms | p99 ms | non-200 | CPU ms/req | load before |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.rounds.map(
      (r) =>
        `| ${r.photo} | ${r.connections} | ${r.round} | ${r.contender} | ${f1(r.requestsPerSecond)} | ${f1(r.p50)} | ${f1(r.p99)} | ${r.non200} | ${f1(r.cpuMsPerRequest)} | ${f2(r.loadBefore)} |`,
    ),
    '',
    '</details>',
    '',
  );
  return out.join('\n');
}

/** What a request costs beyond its stages; negative when the stages measured alone came out dearer (noise). */
function overhead(ms: number): string {
  return ms >= 0
    ? `≈ ${ms.toFixed(1)} ms`
    : 'not measurable (the stages alone, timed in the bench process, came out dearer than the whole served request)';
}
