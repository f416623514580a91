/**
 * The Parquet writer: turns one page of Okta System Log events into one ZSTD Parquet object per
 * `dt/hour` partition, with DuckDB doing all the JSON work (the page text is never parsed in JS).
 * This module runs the statements (one DuckDB connection, prepared statements, the page and output
 * files); page-sql.ts generates them from the schema. The contract (columns, conversions, time,
 * quarantine, deduplication, errors, memory) and the layout decisions: docs/writer.md.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import { assertOrgLabel, eventObjectKey, quarantineObjectKey } from '../layout';
import type { PageWriteInput, PageWriteResult, PageWriter, WrittenObject } from '../ports';
import { openDuckDb, runOnThisThread, type DuckDbOptions, type OpenDuckDb } from './duckdb';
import { InvalidPageInputError, MalformedPageError, ParquetWriteError } from './errors';
import { arrayElementSpans, hasLoneSurrogateEscape, lineElementSpans, type Span } from './json-text';
import { buildPageSql } from './page-sql';

export { InvalidPageInputError, MalformedPageError, ParquetWriteError } from './errors';
export { jsonTransformStructure } from './page-sql';

/** Why an element went to quarantine. */
export type QuarantineReason = 'not_an_object' | 'missing_uuid' | 'invalid_published' | 'invalid_unicode' | 'outside_window';

/** One line of a quarantine object (JSON Lines). */
export interface QuarantineLine {
  readonly reason: QuarantineReason;
  /** 0-based position of the element in the page. */
  readonly index: number;
  /** The element's JSON text exactly as it was in the page. */
  readonly raw: string;
}

export interface DuckDbParquetWriterOptions extends DuckDbOptions {
  /**
   * ZSTD level of the Parquet column chunks (1 fastest .. 22 smallest). On realistic Okta pages
   * higher levels barely shrank the files and cost more time (docs/writer.md, "Cost").
   * @default 1
   */
  readonly compressionLevel?: number;
}

/**
 * Every statement is prepared once, when the writer opens. The summary and the COPY read the
 * staging table, which every page replaces: DuckDB notices the new table and binds them again
 * when they run, which costs what planning them afresh would, without a parse and a prepare
 * round trip through the thread pool per call.
 */
interface Statements {
  readonly stage: Map<PageWriteInput['format'], DuckDBPreparedStatement>;
  readonly summary: DuckDBPreparedStatement;
  readonly dedupe: DuckDBPreparedStatement;
  /** The COPY of a partition in page order, and the one that sorts it by `published`. */
  readonly copy: DuckDBPreparedStatement;
  readonly copySorted: DuckDBPreparedStatement;
  /** Sets the `raw` text written for one staged element ($1 text, $2 position): `PageWriteInput.rawOf`. */
  readonly setRaw: DuckDBPreparedStatement;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const DEFAULT_COMPRESSION_LEVEL = 1;
/** The page buffer grows in steps of this many bytes. */
const SCRATCH_UNIT = 1 << 20;

const msToMicros = (ms: number): bigint => BigInt(ms) * 1000n;
const trimMicros = (iso: string): string => iso.replace(/^(.*\.\d{3})000Z$/, '$1Z');

/** Writes pages of Okta events as Parquet with DuckDB. The contract: docs/writer.md. */
export class DuckDbParquetWriter implements PageWriter {
  private queue: Promise<unknown> = Promise.resolve();
  private calls = 0;
  private closed = false;
  /** The UTF-8 bytes of the page being staged; reused from page to page (see `writeTextFile`). */
  private scratch: Buffer = Buffer.alloc(0);

  private constructor(
    private readonly db: OpenDuckDb,
    private readonly workDir: string,
    private readonly statements: Statements,
  ) {}

  /** Opens DuckDB (see `openDuckDb`) and a private working folder under its `tmpDir`. */
  static async open(options: DuckDbParquetWriterOptions = {}): Promise<DuckDbParquetWriter> {
    const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
    if (!Number.isInteger(level) || level < 1 || level > 22) {
      throw new InvalidPageInputError(`compressionLevel must be an integer from 1 to 22, got ${level}`);
    }
    const sql = buildPageSql();
    const db = await openDuckDb(options);
    const workDir = join(db.tmpDir, `writer-${process.pid}-${randomUUID()}`);
    try {
      mkdirSync(workDir, { recursive: true });
      const c = db.connection;
      const stage = new Map<PageWriteInput['format'], DuckDBPreparedStatement>([
        ['array', await c.prepare(sql.stage('array'))],
        ['newline_delimited', await c.prepare(sql.stage('newline_delimited'))],
      ]);
      // Stage an empty page, so that the staging table exists for the other statements to bind to.
      const emptyPage = join(workDir, 'empty.json');
      writeFileSync(emptyPage, '[]');
      const stageArray = stage.get('array') as DuckDBPreparedStatement;
      stageArray.bind([emptyPage, null, null, null]);
      await runOnThisThread(stageArray);
      rmSync(emptyPage);
      const statements: Statements = {
        stage,
        summary: await c.prepare(sql.summary),
        dedupe: await c.prepare(sql.dedupe),
        copy: await c.prepare(sql.copy(level, false)),
        copySorted: await c.prepare(sql.copy(level, true)),
        setRaw: await c.prepare(sql.setRaw),
      };
      return new DuckDbParquetWriter(db, workDir, statements);
    } catch (error) {
      db.close();
      await rm(workDir, { recursive: true, force: true });
      throw new ParquetWriteError('could not prepare the Parquet writer', { cause: error });
    }
  }

  writePage(input: PageWriteInput): Promise<PageWriteResult> {
    if (this.closed) return Promise.reject(new ParquetWriteError('writePage called after close()'));
    const run = this.queue.then(() => this.write(input));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    const { stage, summary, dedupe, copy, copySorted, setRaw } = this.statements;
    for (const s of [...stage.values(), summary, dedupe, copy, copySorted, setRaw]) s.destroySync();
    this.scratch = Buffer.alloc(0);
    this.db.close();
    await rm(this.workDir, { recursive: true, force: true });
  }

  private async write(input: PageWriteInput): Promise<PageWriteResult> {
    const { org, name, format } = validate(input);
    const untilMicros = input.until === undefined ? null : msToMicros(Date.parse(input.until));
    const accept = input.accept === undefined ? [null, null] : [msToMicros(Date.parse(input.accept.from)), msToMicros(Date.parse(input.accept.to))];
    const ingestedMs = input.ingestedAt.getTime();
    if (format === 'array' && !/\S/.test(input.body)) {
      throw new MalformedPageError(`page ${name} is empty: expected a JSON array`);
    }

    const call = ++this.calls;
    const pageFile = join(this.workDir, `page-${call}.json`);
    const outFiles: string[] = [];
    try {
      const setAside = await this.stage(input.body, format, name, pageFile, [untilMicros, ...accept]);
      for (const [pos, raw] of input.rawOf ?? []) {
        try {
          this.statements.setRaw.bind([raw, pos]);
          await runOnThisThread(this.statements.setRaw);
        } catch (error) {
          throw new ParquetWriteError(`could not set the raw text of element ${pos} of page ${name}`, { cause: error });
        }
      }
      const summary = await this.summarise(name, setAside);

      const objects: WrittenObject[] = [];
      for (const [i, p] of summary.partitions.entries()) {
        const outFile = join(this.workDir, `page-${call}-${i}.parquet`);
        outFiles.push(outFile);
        try {
          const copy = summary.unordered ? this.statements.copySorted : this.statements.copy;
          copy.bind([p.dt, p.hour, msToMicros(ingestedMs), outFile]);
          await runOnThisThread(copy);
          const body = readFileSync(outFile);
          objects.push({ key: eventObjectKey(org, { dt: p.dt, hour: p.hour }, name), body, events: p.events });
        } catch (error) {
          throw new ParquetWriteError(`could not write partition dt=${p.dt}/hour=${p.hour} of page ${name}`, { cause: error });
        }
      }

      const { quarantine } = summary;
      const ingestDt = new Date(ingestedMs).toISOString().slice(0, 10);
      return {
        objects,
        quarantine:
          quarantine.length === 0
            ? undefined
            : {
                key: quarantineObjectKey(org, ingestDt, name),
                body: Buffer.from(quarantine.map((q) => JSON.stringify(q)).join('\n') + '\n', 'utf8'),
                events: quarantine.length,
              },
        eventsWritten: objects.reduce((n, o) => n + o.events, 0),
        eventsQuarantined: quarantine.length,
        duplicatesDropped: summary.duplicates,
        outsideWindow: summary.outside,
        ...(summary.minPublished === undefined ? {} : { minPublished: summary.minPublished, maxPublished: summary.maxPublished }),
      };
    } finally {
      for (const f of [pageFile, ...outFiles]) rmSync(f, { force: true });
    }
  }

  /**
   * Writes `text` as UTF-8 to `file`, synchronously (one write of a few MB to local disk; the
   * promise API writes in 512 KB chunks through the thread pool and measured slower), encoding
   * into one buffer kept from page to page. `writeFileSync(file, text)` would allocate a new
   * buffer of the page's size for every page, which lives off the V8 heap until a garbage
   * collection, and V8 collects rarely when little is allocated on its heap: several pages'
   * worth of such buffers were seen waiting at once.
   */
  private writeTextFile(file: string, text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (this.scratch.length < bytes) this.scratch = Buffer.allocUnsafeSlow(Math.ceil(bytes / SCRATCH_UNIT) * SCRATCH_UNIT);
    const written = this.scratch.write(text, 0, 'utf8');
    writeFileSync(file, this.scratch.subarray(0, written));
  }

  /**
   * Loads the page into the staging table. Returns the elements set aside because DuckDB cannot
   * read them (by page position, with their exact text); throws `MalformedPageError` when the page
   * is not JSON.
   */
  private async stage(
    body: string,
    format: PageWriteInput['format'],
    name: string,
    pageFile: string,
    bounds: readonly (bigint | null)[],
  ): Promise<Map<number, string>> {
    const stage = this.statements.stage.get(format) as DuckDBPreparedStatement;
    const load = async (text: string): Promise<void> => {
      try {
        this.writeTextFile(pageFile, text);
      } catch (error) {
        throw new ParquetWriteError(`could not write page ${name} to ${pageFile}`, { cause: error });
      }
      stage.bind([pageFile, ...bounds]);
      await runOnThisThread(stage);
    };
    try {
      await load(body);
      return new Map();
    } catch (error) {
      if (error instanceof ParquetWriteError) throw error;
      const diagnosis = diagnose(body, format);
      if (diagnosis.kind === 'malformed') {
        throw new MalformedPageError(`page ${name} is not valid JSON (${format}): ${firstLine(error)}`, { cause: error });
      }
      if (diagnosis.kind === 'unexplained') {
        throw new ParquetWriteError(`DuckDB could not stage page ${name}, which is valid JSON: ${firstLine(error)}`, { cause: error });
      }
      try {
        await load(diagnosis.body);
      } catch (again) {
        if (again instanceof ParquetWriteError) throw again;
        throw new ParquetWriteError(`DuckDB could not stage page ${name} without its unreadable elements: ${firstLine(again)}`, {
          cause: again,
        });
      }
      return diagnosis.setAside;
    }
  }

  private async summarise(name: string, setAside: ReadonlyMap<number, string>): Promise<PageSummary> {
    let rows: Record<string, unknown>[];
    try {
      rows = await (await runOnThisThread(this.statements.summary)).getRowObjectsJS();
      if (rows.some((r) => r.status === 'repeats' && Number(r.n) > 0)) {
        await runOnThisThread(this.statements.dedupe);
        rows = await (await runOnThisThread(this.statements.summary)).getRowObjectsJS();
      }
    } catch (error) {
      throw new ParquetWriteError(`could not summarise page ${name}`, { cause: error });
    }
    const out: PageSummary = { partitions: [], quarantine: [], duplicates: 0, outside: 0, unordered: false };
    for (const row of rows) {
      const n = Number(row.n);
      switch (row.status) {
        case 'duplicate':
          out.duplicates += n;
          break;
        case 'repeats':
          if (n > 0) throw new ParquetWriteError(`page ${name} still has ${n} repeated uuids after dedupe`);
          break;
        case 'unordered':
          out.unordered = n === 1;
          break;
        case 'outside':
          out.outside += n;
          break;
        case 'quarantine': {
          const index = Number(row.pos);
          const original = setAside.get(index);
          out.quarantine.push(
            original === undefined
              ? { reason: row.problem as QuarantineReason, index, raw: String(row.raw) }
              : { reason: 'invalid_unicode', index, raw: original },
          );
          break;
        }
        case 'write':
          out.partitions.push({ dt: String(row.dt), hour: String(row.hour), events: n });
          // Partitions come in (dt, hour) order: the first min and the last max are the extremes.
          out.minPublished ??= trimMicros(String(row.min_ts));
          out.maxPublished = trimMicros(String(row.max_ts));
          break;
        default:
          throw new ParquetWriteError(`unexpected staging status ${String(row.status)} in page ${name}`);
      }
    }
    out.quarantine.sort((a, b) => a.index - b.index);
    return out;
  }
}

interface PageSummary {
  partitions: { dt: string; hour: string; events: number }[];
  /** The events to write are not in `published` order in the page: sort each file. */
  unordered: boolean;
  quarantine: QuarantineLine[];
  duplicates: number;
  outside: number;
  minPublished?: string;
  maxPublished?: string;
}

type Diagnosis =
  /** The page is not JSON (or not JSON Lines) at all. */
  | { readonly kind: 'malformed' }
  /** The page is valid JSON and nothing in it explains DuckDB's refusal. */
  | { readonly kind: 'unexplained' }
  /** The page with the elements DuckDB cannot read replaced by `null`, and their texts by position. */
  | { readonly kind: 'retry'; readonly body: string; readonly setAside: Map<number, string> };

/**
 * Why DuckDB refused a page. When the page is valid JSON whose only problem is elements DuckDB
 * cannot read (lone surrogate escapes), those elements are replaced by `null`, so every other
 * element keeps its position, and set aside for quarantine.
 */
function diagnose(body: string, format: PageWriteInput['format']): Diagnosis {
  let spans: Span[] | undefined;
  try {
    if (format === 'array') {
      JSON.parse(body);
      spans = arrayElementSpans(body);
    } else {
      spans = lineElementSpans(body);
      for (const s of spans) JSON.parse(body.slice(s.start, s.end));
    }
  } catch {
    return { kind: 'malformed' };
  }
  if (!spans) return { kind: 'malformed' };
  const setAside = new Map<number, string>();
  let patched = '';
  let from = 0;
  spans.forEach((s, index) => {
    const text = body.slice(s.start, s.end);
    if (!hasLoneSurrogateEscape(text)) return;
    setAside.set(index, text);
    patched += body.slice(from, s.start) + 'null';
    from = s.end;
  });
  if (setAside.size === 0) return { kind: 'unexplained' };
  return { kind: 'retry', body: patched + body.slice(from), setAside };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].slice(0, 300);
}

function validate(input: PageWriteInput): { org: string; name: string; format: PageWriteInput['format'] } {
  let org: string;
  try {
    org = assertOrgLabel(input.org);
  } catch (error) {
    throw new InvalidPageInputError(`invalid org label "${input.org}"`, { cause: error });
  }
  if (!NAME_PATTERN.test(input.name)) {
    throw new InvalidPageInputError(
      `invalid object name "${input.name}": use 1-200 letters, digits, dots, dashes or underscores, starting with a letter or digit`,
    );
  }
  if (input.format !== 'array' && input.format !== 'newline_delimited') {
    throw new InvalidPageInputError(`invalid page format "${String(input.format)}": use 'array' or 'newline_delimited'`);
  }
  if (input.until !== undefined && !Number.isFinite(Date.parse(input.until))) {
    throw new InvalidPageInputError(`invalid until "${input.until}": expected an ISO-8601 instant`);
  }
  if (input.accept !== undefined && !(Number.isFinite(Date.parse(input.accept.from)) && Date.parse(input.accept.from) < Date.parse(input.accept.to))) {
    throw new InvalidPageInputError(`invalid accept range ${input.accept.from}..${input.accept.to}: expected two ISO-8601 instants, from before to`);
  }
  for (const [pos, raw] of input.rawOf ?? []) {
    if (!(Number.isSafeInteger(pos) && pos >= 0) || typeof raw !== 'string') throw new InvalidPageInputError(`invalid rawOf entry at ${String(pos)}: expected a position and a text`);
  }
  if (!(input.ingestedAt instanceof Date) || !Number.isFinite(input.ingestedAt.getTime())) {
    throw new InvalidPageInputError('invalid ingestedAt: expected a valid Date');
  }
  return { org, name: input.name, format: input.format };
}
