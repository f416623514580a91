/**
 * `verifyDay`: proves that a compacted org-day holds exactly the events of its originals, as the
 * lake holds them now: the day's `events/` objects and the `late/` objects its current generation
 * absorbed, read again, against the current generation's parts, event by event (counts, uuids,
 * sha256 of each `raw`). Also checks the records: the switch names the manifest it was written for,
 * the parts and the originals are the objects the manifest lists (sizes, sha256), and no original
 * appeared after the day was compacted, and that the late cutoff divides the day's `late/` objects
 * as Athena's view assumes (absorbed ones ingested at or before it, the others after). Nothing is
 * written.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { LATE_PREFIX } from '../layout';
import { lakeFilesOf, listDays, type LakeReader } from './files';
import { ingestSpans } from './ingest-spans';
import { parseManifest, type Manifest } from './records';
import { compareEvents, copyObjects, openCompactionWorkspace, sameEvents, sha256Hex, type CompactionWorkspace, type EventComparison } from './workspace';
import type { DuckDbOptions } from '../writer/duckdb';

export type DayVerification =
  | { readonly org: string; readonly dt: string; readonly status: 'not-compacted'; readonly originals: number }
  | {
      readonly org: string;
      readonly dt: string;
      readonly status: 'verified' | 'failed';
      readonly generation: number;
      readonly parts: number;
      readonly originals: number;
      /** `late/` objects not absorbed: readers read them besides the parts (not part of the proof). */
      readonly unabsorbedLate: number;
      readonly comparison: EventComparison;
      /** Everything that is not as the records say, one sentence each (empty when verified). */
      readonly problems: readonly string[];
    };

export interface VerifyDayOptions {
  readonly reader: LakeReader;
  readonly org: string;
  readonly dt: string;
  readonly workspace?: CompactionWorkspace;
  readonly duckdb?: DuckDbOptions;
}

export async function verifyDay(options: VerifyDayOptions): Promise<DayVerification> {
  const ws = options.workspace ?? (await openCompactionWorkspace(options.duckdb));
  try {
    return await verifyIn(ws, options);
  } finally {
    if (!options.workspace) await ws.close();
  }
}

async function verifyIn(ws: CompactionWorkspace, { reader, org, dt }: VerifyDayOptions): Promise<DayVerification> {
  const day = (await lakeFilesOf(reader, { org, dt }))[0];
  if (!day?.current) return { org, dt, status: 'not-compacted', originals: day ? day.events.length + day.late.length : 0 };
  const current = day.current;
  const problems: string[] = [];

  let manifest: Manifest | undefined;
  const mBody = await reader.get(current.manifest);
  if (mBody === undefined) problems.push(`the manifest ${current.manifest} named by the switch is missing`);
  else {
    if (sha256Hex(mBody) !== current.manifestSha256) problems.push(`the manifest ${current.manifest} is not the one the switch was written for (sha256 differs)`);
    try {
      manifest = parseManifest(mBody, current.manifest, { org, dt, generation: current.generation });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  const absorbed = new Set(current.absorbedLate);
  const originals = [...day.events, ...day.late.filter((k) => absorbed.has(k))].sort();
  for (const k of current.absorbedLate) if (!day.late.includes(k)) problems.push(`absorbed late object ${k} is missing`);
  const dir = join(ws.dir, `verify-${randomUUID()}`);
  const src = await copyObjects(reader, originals, dir, 'src');
  const parts = await copyObjects(reader, current.parts, dir, 'part');

  if (manifest) {
    const listed = new Map(manifest.sources.map((s) => [s.key, s]));
    for (const s of src) {
      const m = listed.get(s.key);
      if (!m) problems.push(`original ${s.key} is not among the sources of generation ${current.generation} (written after the day was compacted?)`);
      else if (m.sha256 !== s.sha256 || m.bytes !== s.bytes) problems.push(`original ${s.key} changed since generation ${current.generation} read it (size or sha256 differ)`);
    }
    const present = new Set(src.map((s) => s.key));
    for (const s of manifest.sources) {
      if (!present.has(s.key) && !(s.key.startsWith(`${LATE_PREFIX}/`) && !absorbed.has(s.key))) problems.push(`source ${s.key} of generation ${current.generation} is missing`);
    }
    const outputs = new Map(manifest.outputs.map((o) => [o.key, o]));
    for (const p of parts) {
      const m = outputs.get(p.key);
      if (!m) problems.push(`part ${p.key} is not in the manifest`);
      else if (m.sha256 !== p.sha256 || m.bytes !== p.bytes) problems.push(`part ${p.key} is not the file the manifest lists (size or sha256 differ)`);
    }
  }

  // Athena's view tells absorbed late rows from the others by the late cutoff alone (athena-view.ts).
  if (current.lateCutoff !== undefined) {
    const cutoffUs = Date.parse(current.lateCutoff) * 1000;
    const lateCopies = [...src.filter((s) => s.key.startsWith(`${LATE_PREFIX}/`)), ...(await copyObjects(reader, day.unabsorbedLate, dir, 'left'))];
    for (const span of await ingestSpans(ws, org, dt, lateCopies)) {
      if (span.minUs === undefined || span.maxUs === undefined) continue;
      if (absorbed.has(span.key) && span.maxUs > cutoffUs) {
        problems.push(`absorbed late object ${span.key} holds rows ingested after the late cutoff ${current.lateCutoff}: Athena's view reads them twice`);
      } else if (!absorbed.has(span.key) && span.minUs < cutoffUs + 1000) {
        problems.push(`late object ${span.key}, not absorbed, holds rows ingested at or before the late cutoff ${current.lateCutoff}: Athena's view does not read them`);
      }
    }
  }

  const comparison = await compareEvents(ws, src.map((s) => s.file), parts.map((p) => p.file));
  if (comparison.removed.count > 0) problems.push(`${comparison.removed.count} event(s) of the originals are not in the parts (removed): ${comparison.removed.uuids.slice(0, 5).join(', ')}`);
  if (comparison.added.count > 0) problems.push(`${comparison.added.count} event(s) in the parts are in no original (added): ${comparison.added.uuids.slice(0, 5).join(', ')}`);
  if (comparison.changed.count > 0) problems.push(`${comparison.changed.count} event(s) have a different raw in the parts (changed): ${comparison.changed.uuids.slice(0, 5).join(', ')}`);
  if (comparison.duplicated.count > 0) problems.push(`${comparison.duplicated.count} event(s) are more than once in the parts: ${comparison.duplicated.uuids.slice(0, 5).join(', ')}`);
  if (comparison.conflicting.count > 0) problems.push(`${comparison.conflicting.count} uuid(s) have different raw texts among the originals: ${comparison.conflicting.uuids.slice(0, 5).join(', ')}`);
  if (manifest && comparison.compactedChecksum !== manifest.checksum) problems.push('the parts\' checksum over (uuid, sha256(raw)) is not the manifest\'s');
  if (problems.length === 0 && !sameEvents(comparison)) problems.push('the checksums of the originals and the parts differ');
  if (current.rows !== comparison.compactedRows) problems.push(`the switch says ${current.rows} rows, the parts hold ${comparison.compactedRows}`);
  return {
    org,
    dt,
    status: problems.length === 0 ? 'verified' : 'failed',
    generation: current.generation,
    parts: parts.length,
    originals: originals.length,
    unabsorbedLate: day.unabsorbedLate.length,
    comparison,
    problems,
  };
}

/** Every org of the lake that has originals or compacted data on `dt`. */
export async function orgsOfDay(reader: LakeReader, dt: string): Promise<string[]> {
  const days = await listDays(reader, {});
  return [...new Set(days.filter((d) => d.dt === dt).map((d) => d.org))];
}

