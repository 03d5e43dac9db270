import { mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PredictionRecord } from '../data-plane/prediction-feed';
import type { CaptureSettings } from './prediction-log-settings';
import { topOf } from './prediction-events';
import type { CaptureOutcome, PredictionLogMetrics } from './prediction-log-metrics';

/** Images may wait to be written up to this many bytes together; one more is not captured (`busy`). */
export const MAX_PENDING_CAPTURE_BYTES = 32 * 1024 * 1024;

const EXTENSIONS: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', bmp: 'bmp' };

/** The sidecar written beside each captured image: what the model said, for whoever relabels it. */
export interface CaptureSidecar {
  sha256: string;
  file: string;
  label: string;
  confidence: number;
  margin: number;
  top: Array<{ label: string; confidence: number }>;
  abstained: boolean;
  model: string;
  version: string;
  protocol: string;
  request_id?: string;
  trace_id?: string;
  /** When the answer was given (ISO 8601). */
  time: string;
  image: { origin: string; format: string; width?: number; height?: number; bytes: number };
}

interface PendingCapture {
  name: string;
  bytes: Uint8Array;
  sidecar: string;
}

type Metrics = Pick<PredictionLogMetrics, 'captured' | 'captureFolderBytes'>;

/**
 * Writes low-confidence images to PREDICTION_CAPTURE_DIR for relabelling: `<sha256>.<ext>` (the bytes as sent)
 * and then `<sha256>.json` (the sidecar; its presence says the image is complete). Only images with a file
 * format: a tensor has no file to look at, so it is never captured. The folder's budget counts what was already
 * there at start; once an image and its sidecar would pass it, nothing more is written (`over_budget`) and
 * nothing is deleted: captured images are someone's work queue. One write at a time, off the prediction's path.
 */
export class CaptureWriter {
  private used = 0;
  private readonly known = new Set<string>();
  private readonly queue: PendingCapture[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly settings: CaptureSettings,
    private readonly metrics: Metrics,
    private readonly random: () => number = Math.random,
  ) {}

  /** Creates the folder and counts what it holds. */
  async start(): Promise<void> {
    await mkdir(this.settings.dir, { recursive: true });
    for (const entry of await readdir(this.settings.dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      this.used += (await stat(join(this.settings.dir, entry.name))).size;
      this.known.add(entry.name);
    }
    this.metrics.captureFolderBytes(this.used);
  }

  /** Whether this answer is one to capture: low or abstained, an image file (not a tensor), drawn in the sample. */
  wants(record: PredictionRecord): boolean {
    if (!record.image.bytes || EXTENSIONS[record.image.format] === undefined) return false;
    const low = record.confidence < this.settings.below || record.abstention !== undefined;
    return low && this.random() < this.settings.sample;
  }

  /**
   * Queues the image file `bytes` (the record's, whose sha256 is `sha256`) for writing, unless already captured,
   * over budget or busy. The caller decided with `wants`.
   */
  offer(record: PredictionRecord, bytes: Uint8Array, sha256: string): void {
    const name = `${sha256}.${EXTENSIONS[record.image.format]}`;
    if (this.known.has(name)) return this.metrics.captured('duplicate');
    const sidecar = `${JSON.stringify(sidecarOf(record, bytes, sha256, name), null, 2)}\n`;
    const size = bytes.byteLength + Buffer.byteLength(sidecar);
    if (this.used + size > this.settings.maxBytes) return this.metrics.captured('over_budget');
    const waiting = this.pendingBytes + bytes.byteLength;
    if (this.pendingBytes > 0 && waiting > MAX_PENDING_CAPTURE_BYTES) return this.metrics.captured('busy');
    // Counted at once, so images queued together cannot pass the budget between them.
    this.used += size;
    this.known.add(name);
    this.pendingBytes = waiting;
    this.queue.push({ name, bytes, sidecar });
    this.writing ??= this.writeQueued();
  }

  /** Waits at most `timeoutMs` for the queued images to be written; those left are not captured. */
  async flush(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.writing,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    for (const left of this.queue.splice(0)) {
      this.pendingBytes -= left.bytes.byteLength;
      this.release(left, 'shutdown');
    }
  }

  private async writeQueued(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      await this.write(next);
    }
    this.writing = undefined;
  }

  private async write(capture: PendingCapture): Promise<void> {
    this.pendingBytes -= capture.bytes.byteLength;
    const image = join(this.settings.dir, capture.name);
    try {
      // `wx`: a file of that name (the same image) is never overwritten.
      await writeFile(image, capture.bytes, { flag: 'wx' });
    } catch (error) {
      const duplicate = (error as NodeJS.ErrnoException).code === 'EEXIST';
      return this.release(capture, duplicate ? 'duplicate' : 'failed', { forget: !duplicate });
    }
    try {
      await writeFile(join(this.settings.dir, capture.name.replace(/\.\w+$/, '.json')), capture.sidecar, {
        flag: 'wx',
      });
    } catch {
      await unlink(image).catch(() => undefined);
      return this.release(capture, 'failed', { forget: true });
    }
    this.metrics.captured('written');
    this.metrics.captureFolderBytes(this.used);
  }

  /** Gives back the budget a capture reserved. */
  private release(capture: PendingCapture, outcome: CaptureOutcome, { forget = true } = {}): void {
    this.used -= capture.bytes.byteLength + Buffer.byteLength(capture.sidecar);
    if (forget) this.known.delete(capture.name);
    this.metrics.captured(outcome);
  }
}

function sidecarOf(
  record: PredictionRecord,
  bytes: Uint8Array,
  sha256: string,
  file: string,
): CaptureSidecar {
  return {
    sha256,
    file,
    label: record.label,
    confidence: record.confidence,
    margin: record.margin,
    top: topOf(record),
    abstained: record.abstention !== undefined,
    model: record.model.name,
    version: record.model.version,
    protocol: record.protocol,
    ...(record.requestId !== undefined ? { request_id: record.requestId } : {}),
    ...(record.traceId !== undefined ? { trace_id: record.traceId } : {}),
    time: new Date(record.at).toISOString(),
    image: {
      origin: record.image.origin,
      format: record.image.format,
      ...(record.image.width !== undefined ? { width: record.image.width, height: record.image.height } : {}),
      bytes: bytes.byteLength,
    },
  };
}
