/**
 * Progress on stderr: a bar with the rate and the ETA redrawn in place on a terminal; a plain line every few
 * seconds otherwise (a log, a CI job, a pipe).
 */
export class Progress {
  private readonly started = Date.now();
  private readonly startDone: number;
  private lastLine = 0;

  constructor(
    private readonly total: number,
    done: number,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {
    this.startDone = done;
  }

  update(done: number, force = false): void {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? (done - this.startDone) / seconds : 0;
    const left = this.total - done;
    const eta = rate > 0 ? `${formatSeconds(left / rate)}` : '?';
    const percent = this.total === 0 ? 100 : Math.floor((done / this.total) * 100);
    if (this.tty) {
      const width = 30;
      const filled = Math.round((percent / 100) * width);
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${percent}% ${rate.toFixed(1)}/s ETA ${eta}   `,
      );
      return;
    }
    if (!force && Date.now() - this.lastLine < 2_000) return;
    this.lastLine = Date.now();
    process.stderr.write(`classify: ${done}/${this.total} (${percent}%), ${rate.toFixed(1)}/s, ETA ${eta}\n`);
  }

  finish(done: number): void {
    this.update(done, true);
    if (this.tty) process.stderr.write('\n');
  }
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
