/**
 * A `LakeIndex` over any `LakeSink` (S3 or a folder): finds the Parquet objects that hold the
 * partitions asked for, as every reader of the lake finds them (each day once: its originals, or
 * once compacted its current parts and unabsorbed `late/` objects; `lakeFilesOf`), copies them into
 * a private temporary folder, and reads only their `uuid` column with DuckDB (the uuids, and how
 * many rows repeat one). Nothing here knows whether the sink is S3: the core stays free of the AWS SDK.
 *
 * Calls are serialised (one DuckDB connection); the copies are removed after each call.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, OktaLakeError } from '../errors';
import { lakeFilesOf, type DayFiles } from '../compact/files';
import { parsePartitionKey, partitionPrefix, type Partition } from '../layout';
import type { LakeHoldings, LakeIndex, LakeSink } from '../ports';
import { openDuckDb, type DuckDbOptions, type OpenDuckDb } from '../writer/duckdb';

/** The uuids of a partition could not be read (listing, fetching or reading a Parquet object failed). */
export class LakeIndexError extends OktaLakeError {}

export interface SinkLakeIndexOptions extends DuckDbOptions {
  readonly sink: LakeSink;
  /** Objects fetched from the sink at the same time. @default 8 */
  readonly concurrency?: number;
}

const PARQUET = '.parquet';

export class SinkLakeIndex implements LakeIndex {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly sink: LakeSink,
    private readonly db: OpenDuckDb,
    private readonly workDir: string,
    private readonly concurrency: number,
  ) {}

  /** Opens DuckDB (see `openDuckDb`; the defaults suit a Lambda function) for reading the lake. */
  static async open(options: SinkLakeIndexOptions): Promise<SinkLakeIndex> {
    const concurrency = options.concurrency ?? 8;
    if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64)) {
      throw new ConfigError(`SinkLakeIndex concurrency must be an integer from 1 to 64, got ${concurrency}`);
    }
    const db = await openDuckDb(options);
    const workDir = join(db.tmpDir, `lake-index-${process.pid}-${randomUUID()}`);
    return new SinkLakeIndex(options.sink, db, workDir, concurrency);
  }

  holdings(org: string, partitions: readonly Partition[], options: { readonly digests?: boolean } = {}): Promise<LakeHoldings> {
    if (this.closed) return Promise.reject(new LakeIndexError('holdings called after close()'));
    const run = this.queue.then(() => this.read(org, partitions, options.digests === true));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.db.close();
    await rm(this.workDir, { recursive: true, force: true });
  }

  /**
   * The objects that hold the asked partitions, as readers read them (`lakeFilesOf`): for a day not
   * compacted, its `events/` and `late/` objects of those hours; for a compacted day, its current
   * parts (only the rows of those hours, by `published`) and the `late/` objects of those hours its
   * current generation did not absorb.
   */
  private async sources(org: string, partitions: readonly Partition[]): Promise<{ originals: string[]; parts: { key: string; hours: string[] }[] }> {
    const hoursByDay = new Map<string, Set<string>>();
    for (const p of partitions) {
      const hours = hoursByDay.get(p.dt) ?? new Set<string>();
      hours.add(p.hour);
      hoursByDay.set(p.dt, hours);
    }
    const originals: string[] = [];
    const parts: { key: string; hours: string[] }[] = [];
    for (const [dt, hours] of hoursByDay) {
      let day: DayFiles | undefined;
      try {
        day = (await lakeFilesOf(this.sink, { org, dt }))[0];
      } catch (cause) {
        throw new LakeIndexError(`could not list ${this.sink.location}/${partitionPrefix(org, { dt })} and its compaction state`, { cause });
      }
      if (!day) continue;
      originals.push(...day.originals.filter((k) => hours.has(parsePartitionKey(k).hour ?? '')));
      for (const key of day.parts) parts.push({ key, hours: [...hours].sort() });
    }
    return { originals, parts };
  }

  private async read(org: string, partitions: readonly Partition[], withDigests: boolean): Promise<LakeHoldings> {
    const { originals, parts } = await this.sources(org, partitions);
    const keys = [...originals, ...parts.map((p) => p.key)];
    const uuids = new Set<string>();
    const digests = new Map<string, string>();
    if (keys.length === 0) return { uuids, duplicateRows: 0, ...(withDigests ? { digests } : {}) };
    const dir = join(this.workDir, randomUUID());
    await mkdir(dir, { recursive: true });
    try {
      const files = keys.map((_, i) => join(dir, `${i}${PARQUET}`));
      let next = 0;
      const fetchOne = async (): Promise<void> => {
        for (let i = next++; i < keys.length; i = next++) {
          let body: Uint8Array | undefined;
          try {
            body = await this.sink.get(keys[i]);
          } catch (cause) {
            throw new LakeIndexError(`could not read ${this.sink.location}/${keys[i]}`, { cause });
          }
          // Listed a moment ago and gone now: nothing replaces lake objects by deleting them, so
          // treat it as an error rather than as a partition without those events.
          if (body === undefined) throw new LakeIndexError(`${this.sink.location}/${keys[i]} was listed but cannot be found`);
          await writeFile(files[i], body);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, keys.length) }, fetchOne));
      const quote = (f: string): string => `'${f.replace(/'/g, "''")}'`;
      const branches: string[] = [];
      if (originals.length > 0) branches.push(`SELECT uuid${withDigests ? ', raw' : ''} FROM read_parquet([${files.slice(0, originals.length).map(quote).join(', ')}])`);
      parts.forEach((p, i) => {
        const hours = p.hours.map(quote).join(', ');
        branches.push(`SELECT uuid${withDigests ? ', raw' : ''} FROM read_parquet(${quote(files[originals.length + i])}) WHERE strftime(published, '%H') IN (${hours})`);
      });
      let rows: unknown[][];
      try {
        const digest = withDigests ? ', min(sha256(raw)) AS d' : '';
        const reader = await this.db.connection.runAndReadAll(`SELECT uuid, count(*)::INTEGER AS n${digest} FROM (${branches.join(' UNION ALL ')}) GROUP BY uuid`);
        rows = reader.getRowsJS();
      } catch (cause) {
        throw new LakeIndexError(`could not read the uuid column of ${keys.length} objects under ${this.sink.location}/${partitionPrefix(org)}`, { cause });
      }
      let duplicateRows = 0;
      for (const [uuid, n, d] of rows) {
        if (typeof uuid === 'string') {
          uuids.add(uuid);
          if (withDigests && typeof d === 'string') digests.set(uuid, d);
        }
        duplicateRows += Number(n) - 1;
      }
      return { uuids, duplicateRows, ...(withDigests ? { digests } : {}) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
