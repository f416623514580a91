/**
 * What the CLI prints: progress on stderr (a live line on a terminal, a line every few seconds
 * otherwise), summaries and tables on stdout, and the exit codes every command shares.
 */
import type { IngestProgress } from '../core/ingest/ingest';
import type { Reporter } from '../core/ports';

/** Exit codes, documented in `okta-lake --help`. */
export const EXIT = {
  ok: 0,
  /** Something failed; the message says what. A rerun resumes where the last checkpoint is. */
  failure: 1,
  /** Wrong command line or configuration. */
  usage: 2,
  /** Okta refused the credential (401/403). */
  auth: 3,
  /** Stopped before catching up (interrupted); a rerun resumes at the same page. */
  partial: 4,
  /** Another run holds the lease for this org; nothing was fetched. */
  busy: 5,
} as const;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export const formatCount = (n: number): string => n.toLocaleString('en-US');

/** Renders rows as an aligned text table (first row is the header). Numbers align right. */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  if (rows.length === 0) return '';
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatCount(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = rows[0].map((_, i) => rows.slice(1).every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Progress of an ingest on stderr, with the share of the time range covered and an ETA. */
export class ProgressPrinter {
  private lastPrint = 0;
  private readonly started = Date.now();
  private readonly tty: boolean;
  private rateLimitWaitMs = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = stream.isTTY ? 200 : 5_000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** A reporter that shows warnings at once and counts rate-limit waits. */
  reporter(): Reporter {
    return {
      info: (message, fields) => {
        if (message === 'rate-limit wait' && typeof fields?.ms === 'number') {
          this.rateLimitWaitMs += fields.ms;
          this.printLine(`rate limit: waiting ${formatDuration(fields.ms)} for Okta's limit to reset`);
        }
      },
      warn: (message, fields) => this.printLine(`warning: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
    };
  }

  update(p: IngestProgress, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastPrint < this.intervalMs) return;
    this.lastPrint = now;
    const from = Date.parse(p.startedAt);
    const to = Date.parse(p.target);
    const covered = Date.parse(p.coveredUntil);
    const share = to > from ? Math.min(1, Math.max(0, (covered - from) / (to - from))) : 1;
    const elapsed = now - this.started;
    const eta = share > 0 ? (elapsed / share) * (1 - share) : Number.NaN;
    const text =
      `${formatCount(p.eventsWritten)} events, ${formatCount(p.pages)} pages, ${formatBytes(p.bytesWritten)}, ` +
      `up to ${p.coveredUntil.slice(0, 19)}Z (${(share * 100).toFixed(0)}%), ETA ${formatDuration(eta)}` +
      (this.rateLimitWaitMs > 0 ? `, rate-limit waits ${formatDuration(this.rateLimitWaitMs)}` : '') +
      (p.eventsQuarantined > 0 ? `, ${formatCount(p.eventsQuarantined)} quarantined` : '');
    if (this.tty) this.stream.write(`\r\x1b[K${text}`);
    else this.stream.write(`${text}\n`);
  }

  private printLine(text: string): void {
    this.stream.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
  }

  /** Ends the live line. */
  done(): void {
    if (this.tty && this.lastPrint > 0) this.stream.write('\n');
  }

  get rateLimitWaitTotalMs(): number {
    return this.rateLimitWaitMs;
  }
}
