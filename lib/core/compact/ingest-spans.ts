/**
 * When the rows of each original were ingested (`ingested_at`): what the late cutoff of a
 * generation is chosen from (`chooseLateCutoff`) and what `verifyDay` checks it against.
 */
import { CompactionError, CompactionLayoutError } from './errors';
import { fileList, type CompactionWorkspace, type LocalCopy } from './workspace';

/** When the rows of one original were ingested (epoch microseconds); none for an object without rows. */
export interface IngestSpan {
  readonly key: string;
  readonly minUs?: number;
  readonly maxUs?: number;
}

/** When the rows of each of `copies` were ingested; a row without `ingested_at` stops the day. */
export async function ingestSpans(ws: CompactionWorkspace, org: string, dt: string, copies: readonly LocalCopy[]): Promise<IngestSpan[]> {
  if (copies.length === 0) return [];
  let rows: Record<string, unknown>[];
  try {
    rows = (
      await ws.db.connection.runAndReadAll(
        `SELECT filename, min(epoch_us(ingested_at))::BIGINT AS lo, max(epoch_us(ingested_at))::BIGINT AS hi, count(*) FILTER (WHERE ingested_at IS NULL)::BIGINT AS missing
         FROM read_parquet(${fileList(copies.map((c) => c.file))}, filename = true, hive_partitioning = false) GROUP BY filename`,
      )
    ).getRowObjectsJS();
  } catch (cause) {
    throw new CompactionError(`${org} ${dt}: could not read the ${copies.length} late originals with DuckDB`, { cause });
  }
  const byFile = new Map(rows.map((r) => [String(r.filename), r]));
  return copies.map((c) => {
    const r = byFile.get(c.file);
    if (!r) return { key: c.key };
    if (Number(r.missing) > 0) throw new CompactionLayoutError(`${org} ${dt}: ${Number(r.missing)} row(s) of ${c.key} have no ingested_at; the day is not compacted`);
    return { key: c.key, minUs: Number(r.lo), maxUs: Number(r.hi) };
  });
}

