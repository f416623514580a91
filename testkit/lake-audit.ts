/**
 * Reads a whole lake back for an audit (tests, the soak): every Parquet row's uuid, a digest of its
 * `raw`, and the object it is in (each org-day as readers read it: `lakeFilesOf`); and every quarantined element or page. Works over any `LakeSink`
 * (objects are copied into a temporary folder and read with DuckDB).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lakeFilesOf, readerFiles } from '../lib/core/compact/files';
import { QUARANTINE_PREFIX } from '../lib/core/layout';
import type { LakeSink } from '../lib/core/ports';
import { openDuckDb } from '../lib/core/writer/duckdb';

export interface AuditedEvent {
  /** Rows holding this uuid (1 in a correct lake). */
  count: number;
  /** SHA-256 (hex) of the `raw` of its first row. */
  readonly rawSha256: string;
  /** Keys of the objects holding it. */
  readonly keys: string[];
}

export interface QuarantinedItem {
  readonly key: string;
  /** The element's (or the whole page's) exact text (absent for bytes that are not UTF-8). */
  readonly raw: string;
  /** An import's piece that is not valid UTF-8: its exact bytes, base64. */
  readonly rawBase64?: string;
  /** The writer's reason, or `page` for a page kept whole. */
  readonly reason: string;
}

export interface LakeAudit {
  readonly objects: number;
  readonly rows: number;
  readonly byUuid: Map<string, AuditedEvent>;
  readonly quarantined: QuarantinedItem[];
}

/** SHA-256 (hex) of a text's UTF-8 bytes: compare with `AuditedEvent.rawSha256`. */
export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export async function auditLake(sink: LakeSink, options: { readonly tmpDir?: string } = {}): Promise<LakeAudit> {
  const dir = join(options.tmpDir ?? tmpdir(), `okta-lake-audit-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  const db = await openDuckDb({ tmpDir: join(dir, 'duckdb'), threads: 2, memoryLimit: '1GB' });
  try {
    // Each org-day once, as readers read it: its originals, or its compacted parts and unabsorbed late objects.
    const { originals, parts } = readerFiles(await lakeFilesOf(sink));
    const keys = [...originals, ...parts];
    const files: string[] = [];
    for (const [i, key] of keys.entries()) {
      const body = await sink.get(key);
      if (body === undefined) throw new Error(`audit: ${key} was listed but cannot be read`);
      const file = join(dir, `${i}.parquet`);
      await writeFile(file, body);
      files.push(file);
    }
    const byUuid = new Map<string, AuditedEvent>();
    let rows = 0;
    if (files.length > 0) {
      const list = files.map((f) => `'${f}'`).join(', ');
      const reader = await db.connection.runAndReadAll(
        `SELECT uuid, sha256(raw) AS digest, file_index::INTEGER AS fi FROM (
           SELECT uuid, raw, CAST(regexp_extract(filename, '(\\d+)\\.parquet$', 1) AS INTEGER) AS file_index
           FROM read_parquet([${list}], filename = true))`,
      );
      for (const [uuid, digest, fi] of reader.getRowsJS() as [string, string, number][]) {
        rows++;
        const seen = byUuid.get(uuid);
        if (seen) {
          seen.count++;
          seen.keys.push(keys[fi]);
        } else {
          byUuid.set(uuid, { count: 1, rawSha256: digest, keys: [keys[fi]] });
        }
      }
    }
    const quarantined: QuarantinedItem[] = [];
    for (const key of (await sink.list(`${QUARANTINE_PREFIX}/`)).sort()) {
      const body = await sink.get(key);
      if (body === undefined) continue;
      const text = Buffer.from(body).toString('utf8');
      if (key.endsWith('.jsonl')) {
        for (const line of text.split('\n')) {
          if (line === '') continue;
          const parsed = JSON.parse(line) as { reason: string; raw: string; rawBase64?: string };
          quarantined.push({ key, raw: parsed.raw, reason: parsed.reason, ...(parsed.rawBase64 !== undefined ? { rawBase64: parsed.rawBase64 } : {}) });
        }
      } else {
        quarantined.push({ key, raw: text, reason: 'page' });
      }
    }
    return { objects: keys.length, rows, byUuid, quarantined };
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
