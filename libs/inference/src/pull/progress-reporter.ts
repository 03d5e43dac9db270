import type { DownloadProgress } from './download';

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Download progress on stderr: on a terminal one line redrawn in place with a bar; in logs (CI, Docker) a
 * plain line at every 10 %, or every 10 MB when the size is unknown, so logs stay short.
 */
export class ProgressReporter {
  private lastStep = -1;
  private lastFile = '';

  constructor(private readonly stream: ProgressStream) {}

  update(file: string, { received, total }: DownloadProgress): void {
    if (file !== this.lastFile) {
      this.lastFile = file;
      this.lastStep = -1;
    }
    const percent = total ? Math.min(100, Math.floor((received / total) * 100)) : undefined;
    if (this.stream.isTTY) {
      const width = 30;
      const filled = percent === undefined ? 0 : Math.round((percent / 100) * width);
      const bar =
        percent === undefined
          ? ''
          : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% `;
      const size = total ? `${mb(received)} / ${mb(total)}` : mb(received);
      this.stream.write(`\r${bar}${size} ${file}\x1b[K`);
      return;
    }
    const step = percent === undefined ? Math.floor(received / 10e6) : Math.floor(percent / 10);
    if (step === this.lastStep) return;
    this.lastStep = step;
    this.stream.write(
      percent === undefined
        ? `${file}: ${mb(received)}\n`
        : `${file}: ${percent}% (${mb(received)} of ${mb(total!)})\n`,
    );
  }

  /** Ends the redrawn line on a terminal. */
  finish(): void {
    if (this.stream.isTTY && this.lastFile) this.stream.write('\n');
    this.lastFile = '';
  }
}
