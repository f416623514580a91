/**
 * The alert a detection run publishes: a short ASCII subject and a plain-text body meant to be read
 * as an e-mail (what fired, why it matters, the new findings as an aligned table, a link to the query
 * execution in the Athena console, the runbook).
 */
import type { Severity } from '../queries';
import type { ResultRow } from './ports';

/** SNS accepts e-mail subjects of fewer than 100 printable ASCII characters. */
export const SUBJECT_MAX_LENGTH = 99;
/** SNS messages are at most 256 KiB with their attributes; the body stays well under. */
export const MESSAGE_MAX_BYTES = 240 * 1024;
/** @default widest table cell, in characters; longer values end in "..." */
export const DEFAULT_MAX_CELL_WIDTH = 40;
const WRAP = 76;
const ELLIPSIS = '...';

/** Printable ASCII only: accents dropped, other characters as "?", whitespace runs as one space. */
export function toPrintableAscii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
}

/** `[HIGH] <title>: 3 new findings`, the title shortened with "..." to fit SNS's subject limit. */
export function formatSubject(severity: Severity, title: string, newFindings: number): string {
  const prefix = `[${severity.toUpperCase()}] `;
  const suffix = `: ${newFindings} new finding${newFindings === 1 ? '' : 's'}`;
  const room = SUBJECT_MAX_LENGTH - prefix.length - suffix.length;
  let t = toPrintableAscii(title) || 'Detection';
  if (t.length > room) t = `${t.slice(0, Math.max(0, room - ELLIPSIS.length)).trimEnd()}${ELLIPSIS}`;
  return `${prefix}${t}${suffix}`;
}

/** The query execution in the Athena console (query editor history). */
export function athenaConsoleUrl(region: string, executionId: string): string {
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/athena/home?region=${r}#/query-editor/history/${encodeURIComponent(executionId)}`;
}

/** One table cell: control characters as spaces, at most `width` characters (code points). */
export function formatCell(value: string | null, width: number): string {
  const text = value === null ? '(null)' : value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return `${chars.slice(0, Math.max(1, width - ELLIPSIS.length)).join('')}${ELLIPSIS}`;
}

const length = (s: string): number => Array.from(s).length;
const pad = (s: string, width: number): string => s + ' '.repeat(Math.max(0, width - length(s)));

/** An aligned text table: header, dashes, one line per row; columns two spaces apart. */
export function formatTable(columns: readonly string[], rows: readonly ResultRow[], maxCellWidth = DEFAULT_MAX_CELL_WIDTH): string[] {
  const header = columns.map((c) => formatCell(c, maxCellWidth));
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c] ?? null, maxCellWidth)));
  const widths = header.map((h, i) => Math.max(length(h), ...cells.map((r) => length(r[i]))));
  const line = (values: readonly string[]): string => values.map((v, i) => pad(v, widths[i])).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
}

/** Wraps text at word boundaries, keeping line breaks, and starting numbered steps ("2. ") on their own lines. */
export function wrapText(text: string, width = WRAP, indent = '  '): string[] {
  const out: string[] = [];
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .replace(/ (?=\d{1,2}[.)] )/g, '\n')
    .split('\n');
  for (const paragraph of paragraphs) {
    const words = paragraph.trim().split(/\s+/).filter((w) => w.length > 0);
    if (words.length === 0) continue;
    let current = '';
    for (const word of words) {
      if (current.length > 0 && current.length + 1 + word.length > width - indent.length) {
        out.push(indent + current);
        current = word;
      } else {
        current = current.length > 0 ? `${current} ${word}` : word;
      }
    }
    out.push(indent + current);
  }
  return out;
}

/** "1.2 MB" style (powers of 1024, as the Athena console shows). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "24 hours", "90 minutes", "7 days". */
export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes % (24 * 60) === 0) return plural(minutes / (24 * 60), 'day');
  if (minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}

/** Which instant an alert's evaluation was pinned at, and how late it or its evidence came. */
export interface EvaluationContext {
  readonly org: string;
  /** The instant the query was evaluated at (ISO-8601): its lookback ends there. */
  readonly evaluatedAt: string;
  /** `schedule`: the next step of the detection's cursor; `late`: a re-evaluation for late evidence. */
  readonly kind: 'schedule' | 'late';
  /** How long after `evaluatedAt` the evaluation ran (ms). */
  readonly delayMs: number;
  /** The detection's schedule period (ms): a longer delay means the lake was behind. */
  readonly scheduleMs: number;
  /** For a late re-evaluation: the `published` span of the late events and how late they arrived. */
  readonly lateRange?: { readonly from: string; readonly to: string; readonly maxDelayMs: number };
}

/** "2 h 05 min", "7 min", "3 d 4 h": a delay as a person reads it. */
export function formatDelay(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The lines of the alert that say when the evidence was evaluated, and how late it came. */
export function evaluationLines(e: EvaluationContext): string[] {
  const lines: string[] = [`Evaluated as of ${e.evaluatedAt} for org ${e.org}, ${formatDelay(e.delayMs)} after that instant.`];
  if (e.lateRange !== undefined) {
    lines.push(
      `Late evidence: events published between ${e.lateRange.from} and ${e.lateRange.to} reached the lake up to ` +
        `${formatDelay(e.lateRange.maxDelayMs)} after they were published (Okta recorded them late and the reconciliation ` +
        'sweep added them, or they were imported). The detection evaluated that time again.',
    );
  } else if (e.delayMs > 2 * e.scheduleMs) {
    lines.push(
      `This evaluation ran ${formatDelay(e.delayMs)} after its instant: the lake was behind (an ingestion outage or backlog), ` +
        'and the detection caught up once the events arrived.',
    );
  }
  return lines;
}

export interface AlertContent {
  readonly detectionId: string;
  readonly title: string;
  readonly severity: Severity;
  readonly description: string;
  readonly runbook: string;
  readonly findingKey: readonly string[];
  readonly namedQueryName: string;
  readonly workGroup: string;
  readonly executionId: string;
  readonly consoleRegion: string;
  /** When the query ran (ISO-8601). */
  readonly ranAt: string;
  /** All result columns, in result order. */
  readonly columns: readonly string[];
  /** One row per new finding, in result order. */
  readonly newFindings: readonly ResultRow[];
  readonly rows: number;
  /** Distinct findings in the results. */
  readonly findings: number;
  readonly suppressed: number;
  readonly suppressionWindowMs: number;
  readonly maxFindingsInMessage: number;
  readonly dataScannedBytes?: number;
  /** The suppression store failed: every finding is listed, some may have been alerted before. */
  readonly suppressionUnavailable?: boolean;
  /** @default 40 */
  readonly maxCellWidth?: number;
  /** The instant evaluated, and how late (omitted by callers that evaluate at the wall clock). */
  readonly evaluation?: EvaluationContext;
}

function renderBody(c: AlertContent, shown: number): string {
  const n = c.newFindings.length;
  const lines: string[] = [];
  lines.push(`${c.severity.toUpperCase()}: ${c.title}`);
  lines.push(`${n} new finding${n === 1 ? '' : 's'} of detection ${c.detectionId} (severity ${c.severity}).`);
  lines.push('');
  lines.push('What fired');
  const summary =
    `The query "${c.namedQueryName}" returned ${c.rows} row${c.rows === 1 ? '' : 's'}, ` +
    `${c.findings} distinct finding${c.findings === 1 ? '' : 's'} (by ${c.findingKey.join(', ')}): ` +
    `${n} new, ${c.suppressed} already alerted within the last ${formatDuration(c.suppressionWindowMs)} and not repeated.`;
  lines.push(...wrapText(summary));
  if (c.suppressionUnavailable) {
    lines.push(
      ...wrapText(
        'Note: the suppression store could not be used, so every finding of this run is listed, including any alerted before.',
      ),
    );
  }
  if (c.evaluation !== undefined) {
    lines.push('');
    lines.push('When');
    for (const line of evaluationLines(c.evaluation)) lines.push(...wrapText(line));
  }
  lines.push('');
  lines.push('Why it matters');
  lines.push(...wrapText(c.description));
  lines.push('');
  lines.push(shown < n ? `New findings (first ${shown} of ${n})` : `New findings (${n})`);
  for (const row of formatTable(c.columns, c.newFindings.slice(0, shown), c.maxCellWidth ?? DEFAULT_MAX_CELL_WIDTH)) lines.push(`  ${row}`);
  if (shown < n) lines.push(`  ... and ${n - shown} more: see all results in the Athena console (link below).`);
  lines.push('');
  lines.push('Query execution');
  lines.push(`  ${athenaConsoleUrl(c.consoleRegion, c.executionId)}`);
  const scanned = c.dataScannedBytes !== undefined ? `, ${formatBytes(c.dataScannedBytes)} scanned` : '';
  lines.push(...wrapText(`Execution ${c.executionId} in workgroup ${c.workGroup}, ran at ${c.ranAt}${scanned}.`));
  lines.push('');
  lines.push('Runbook');
  lines.push(...wrapText(c.runbook));
  lines.push('');
  lines.push('--');
  lines.push(
    ...wrapText(
      `Sent by the okta-lake detection runner. Message attributes: severity=${c.severity}, detection_id=${c.detectionId} ` +
        '(for SNS subscription filter policies).',
      WRAP,
      '',
    ),
  );
  return `${lines.join('\n')}\n`;
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const marker = '\n[message truncated]\n';
  let out = '';
  let bytes = Buffer.byteLength(marker, 'utf8');
  for (const ch of text) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > maxBytes) break;
    out += ch;
    bytes += b;
  }
  return out + marker;
}

/** The e-mail body; lists at most `maxFindingsInMessage` findings, fewer if the message would be too large. */
export function formatBody(content: AlertContent): string {
  let shown = Math.min(content.newFindings.length, content.maxFindingsInMessage);
  let body = renderBody(content, shown);
  while (Buffer.byteLength(body, 'utf8') > MESSAGE_MAX_BYTES && shown > 1) {
    shown = Math.floor(shown / 2);
    body = renderBody(content, shown);
  }
  return truncateUtf8(body, MESSAGE_MAX_BYTES);
}
