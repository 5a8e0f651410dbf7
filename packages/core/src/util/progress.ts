export interface ProgressOptions {
  /** Shown before the bar, e.g. 'train'. */
  label?: string;
  /**
   * Where to write; default `process.stderr` (in a browser, the console). A TTY gets a redrawn bar with ETA, anything
   * else plain lines.
   */
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Plain-line mode: at most one line per this many ms (the last step is always printed). Default 5000. */
  lineIntervalMs?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/**
 * Progress of a long loop: a bar with rate and ETA on a terminal, plain `label 120/1000 (12%) ... eta 1m02s` lines
 * otherwise (CI logs, files).
 *
 * ```ts
 * const progress = new Progress(steps, { label: 'train' });
 * for (let i = 0; i < steps; i++) { await step(); progress.tick({ loss: 0.42 }); }
 * progress.done();
 * ```
 */
export class Progress {
  private readonly start: number;
  private lastLine = Number.NEGATIVE_INFINITY;
  private current = 0;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly now: () => number;

  constructor(
    readonly total: number,
    private readonly options: ProgressOptions = {},
    /** Steps already done (when resuming); they count toward the position but not toward the rate. */
    private readonly initial = 0,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.stream =
      options.stream ??
      (typeof process !== 'undefined' && process.stderr
        ? process.stderr
        : { write: (text: string) => console.info(text.trimEnd()) });
    this.start = this.now();
    this.current = initial;
  }

  /** Advances by `steps` and redraws; `info` values are shown after the ETA (numbers with 4 significant digits). */
  tick(info: Record<string, number | string> = {}, steps = 1): void {
    this.current = Math.min(this.total, this.current + steps);
    const t = this.now();
    const tty = this.stream.isTTY === true;
    const last = this.current >= this.total;
    if (!tty && !last && t - this.lastLine < (this.options.lineIntervalMs ?? 5000)) return;
    this.lastLine = t;
    const text = this.render(t, info, tty);
    this.stream.write(tty ? `\r${text}\x1b[K` : `${text}\n`);
  }

  /** Ends the bar's line on a terminal. */
  done(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private render(t: number, info: Record<string, number | string>, tty: boolean): string {
    const done = this.current - this.initial;
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.current) / rate : Number.NaN;
    const pct = this.total > 0 ? Math.floor((100 * this.current) / this.total) : 100;
    const extras = Object.entries(info)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
      .join(' ');
    const label = this.options.label ? `${this.options.label} ` : '';
    const bar = tty ? `[${'#'.repeat(Math.floor(pct / 5)).padEnd(20, '.')}] ` : '';
    const rateText = rate >= 1 || rate === 0 ? `${rate.toFixed(2)}/s` : `${(1 / rate).toFixed(2)}s/it`;
    return (
      `${label}${bar}${this.current}/${this.total} (${pct}%) ${rateText} ` +
      `elapsed ${formatDuration(elapsed)} eta ${formatDuration(eta)}${extras ? ` ${extras}` : ''}`
    );
  }
}

/** 75 -> '1m15s', 3725 -> '1h02m05s', NaN -> '?'. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}
