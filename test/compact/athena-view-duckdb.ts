/**
 * Runs the Athena view (`lakeViewSql`) on DuckDB over a local lake, with the three tables shaped as
 * Athena sees them through the Glue tables: every Parquet file under each prefix (Athena lists the
 * partition folders, so it sees dead and superseded generations too), the partition columns from
 * the path, and the hidden column `"$path"` as `s3://<bucket>/<key>`.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { COMPACTED_PREFIX, EVENTS_PREFIX, LATE_PREFIX } from '../../lib/core/layout';
import { LAKE_TABLES } from '../../lib/core/compact';
import { openDuckDb } from '../../lib/core/writer/duckdb';

export const TEST_LAKE_LOCATION = 's3://test-lake';

async function parquetFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === '_state') continue;
      if (e.isDirectory()) await walk(join(path, e.name));
      else if (e.name.endsWith('.parquet')) out.push(join(path, e.name));
    }
  };
  await walk(dir);
  return out.sort();
}

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** uuid -> rows, raw and hours as the Athena view `viewSql` shows the lake at `dir`. */
export async function athenaViewRows(dir: string, viewSql: string): Promise<Map<string, { n: number; raw: string; hours: string[] }>> {
  const tables = [
    { name: LAKE_TABLES.events, files: await parquetFiles(join(dir, EVENTS_PREFIX)), partitions: ['org', 'dt', 'hour'] },
    { name: LAKE_TABLES.late, files: await parquetFiles(join(dir, LATE_PREFIX)), partitions: ['org', 'dt', 'hour'] },
    { name: LAKE_TABLES.compacted, files: await parquetFiles(join(dir, COMPACTED_PREFIX)), partitions: ['org', 'dt'] },
  ];
  const template = tables.flatMap((t) => t.files)[0];
  if (template === undefined) return new Map();
  const duck = await openDuckDb({ threads: 1, memoryLimit: '512MB' });
  try {
    const c = duck.connection;
    for (const [i, t] of tables.entries()) {
      if (t.files.length > 0) {
        const paths = t.files.map((f) => `${TEST_LAKE_LOCATION}/${relative(dir, f).split(sep).join('/')}`);
        await c.run(`CREATE TEMP TABLE okta_lake_paths_${i} AS SELECT unnest([${t.files.map(q).join(', ')}]) AS filename, unnest([${paths.map(q).join(', ')}]) AS p`);
        await c.run(
          `CREATE VIEW ${t.name} AS SELECT s.* EXCLUDE (filename), m.p AS "$path"
           FROM read_parquet([${t.files.map(q).join(', ')}], hive_partitioning = true, hive_types_autocast = false, filename = true, union_by_name = true) s
           JOIN okta_lake_paths_${i} m USING (filename)`,
        );
      } else {
        const extra = t.partitions.map((p) => `NULL::VARCHAR AS ${p}`).join(', ');
        await c.run(`CREATE TABLE ${t.name} AS SELECT *, ${extra}, NULL::VARCHAR AS "$path" FROM read_parquet(${q(template)}, hive_partitioning = false) LIMIT 0`);
      }
    }
    await c.run(viewSql);
    const rows = (
      await c.runAndReadAll(
        `SELECT uuid, count(*)::INTEGER AS n, min(raw) AS raw, list(DISTINCT hour ORDER BY hour) AS hours FROM ${LAKE_TABLES.view} GROUP BY uuid`,
      )
    ).getRowObjectsJS();
    return new Map(rows.map((r) => [String(r.uuid), { n: Number(r.n), raw: String(r.raw), hours: (r.hours as string[]).map(String) }]));
  } finally {
    duck.close();
  }
}
