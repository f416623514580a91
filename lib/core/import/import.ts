/**
 * Importing an exported System Log file into the lake: every event once, nothing lost, bytes kept.
 *
 * 1. The file is split into pieces, byte for byte (split.ts), whatever its shape.
 * 2. Top-level keys that differ from Okta's only in case (`eventtype`, `debugcontext`, as some
 *    data-lake exports write them) are read as Okta's: the typed columns come from the renamed
 *    object, `raw` keeps the text as it was (`PageWriteInput.rawOf`). The renames are counted.
 * 3. Each event is compared by uuid with the rest of the file and with what the lake already holds
 *    in the partitions the file touches (`LakeIndex`, with digests of `raw`):
 *    - the same uuid with the same text is a repeat: dropped and counted;
 *    - the same uuid with another text is a conflict: the later one goes to quarantine, verbatim,
 *      with reason `uuid_conflict` and where the first one is (`file` or `lake`);
 *    - the rest is written, through the shared store step under names made from its content.
 * 4. Pieces that are not JSON (`invalid_json`), not valid UTF-8 (`invalid_utf8`, kept as base64 of
 *    their exact bytes) or not placeable (`not_an_object`, `missing_uuid`, `invalid_published`: no
 *    instant on a real calendar day, where `Date.parse` would roll 09-31 over) go to one quarantine
 *    object of the import, named after its content; a piece an earlier import already quarantined
 *    is not quarantined again.
 *
 * So importing the same events again, in another shape, another file or on another day, writes
 * nothing twice. What it cannot see: the same uuid stored under another `published` day than this
 * file gives it (the lake is indexed by partition), which the `lake-duplicate-events` hunt finds.
 */
import { createHash } from 'node:crypto';
import { assertOrgLabel, partitionOf, quarantineObjectKey, QUARANTINE_PREFIX, type Partition } from '../layout';
import type { CompactionState } from '../compact/state';
import type { LateEvidenceLog } from '../late-evidence';
import type { Clock, LakeSink, PageWriter } from '../ports';
import { EVENT_COLUMNS } from '../schema';
import type { LakeIndex } from '../ports';
import { putNew, storePage } from '../lake/store-page';
import { splitExport, type ExportShape } from './split';

/** Why an imported piece is in quarantine. */
export type ImportQuarantineReason = 'invalid_json' | 'invalid_utf8' | 'not_an_object' | 'missing_uuid' | 'invalid_published' | 'uuid_conflict';

/** One line of an import's quarantine object (JSON Lines). */
export interface ImportQuarantineLine {
  readonly reason: ImportQuarantineReason;
  /** 0-based position of the piece in the file. */
  readonly index: number;
  /** The piece's exact text (absent for `invalid_utf8`). */
  readonly raw?: string;
  /** For `invalid_utf8`: the piece's exact bytes, base64. */
  readonly rawBase64?: string;
  /** For `uuid_conflict`: the uuid, and where the event kept under it is. */
  readonly uuid?: string;
  readonly conflictWith?: 'file' | 'lake';
}

/** Name beginning of an import's quarantine objects. */
export const IMPORT_QUARANTINE_PREFIX = 'import-q-';

export interface ImportOptions {
  /** The file's bytes. */
  readonly bytes: Uint8Array;
  /** The org the export came from (its host): the lake's org label. */
  readonly org: string;
  readonly writer: PageWriter;
  readonly sink: LakeSink;
  /** What the lake holds, with digests of `raw`. */
  readonly index: LakeIndex;
  /** When the import started (its late-evidence record and the day of its quarantine object). */
  readonly now: Date;
  /**
   * Stamps each page's `ingested_at` as it is written: compaction's late cutoff relies on an
   * object's rows being stamped shortly before it lands (docs/compaction.md), which one stamp for a
   * long import would break. @default the time elapsed since the call added to `now`
   */
  readonly clock?: Pick<Clock, 'now'>;
  /** Where the span of the events written is recorded, so that detections evaluate that time again. */
  readonly lateEvidence?: Pick<LateEvidenceLog, 'record'>;
  readonly compaction?: CompactionState;
  /** Events written per page (bounded memory). @default 10000 */
  readonly pageEvents?: number;
}

export interface ImportSummary {
  readonly shapes: readonly ExportShape[];
  readonly bom: boolean;
  /** Pieces found in the file. */
  readonly pieces: number;
  readonly eventsWritten: number;
  /** The same uuid and text again in the file: dropped. */
  readonly repeatedInFile: number;
  /** Already in the lake with the same text: dropped. */
  readonly repeatedInLake: number;
  /** The same uuid with another text, in the file or against the lake: quarantined. */
  readonly conflictsInFile: number;
  readonly conflictsInLake: number;
  /** Pieces in quarantine by reason (this import's and the writer's). */
  readonly quarantined: Readonly<Record<string, number>>;
  /** Quarantine pieces an earlier import already kept: not kept again. */
  readonly alreadyQuarantined: number;
  /** Case-variant top-level keys read as Okta's (`eventtype` -> `eventType`), with how many events had each. */
  readonly keysReadAsOkta: Readonly<Record<string, number>>;
  readonly objectsWritten: number;
  readonly objectsAlreadyStored: number;
  readonly bytesWritten: number;
}

const OKTA_KEYS = new Map(EVENT_COLUMNS.map((c) => [c.name.toLowerCase(), c.name]));

const sha256 = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `value` with case-variant top-level keys renamed to Okta's, and the renames; undefined when none applies. */
function oktaKeys(value: Record<string, unknown>): { renamed: Record<string, unknown>; renames: string[] } | undefined {
  const renames: string[] = [];
  for (const key of Object.keys(value)) {
    const okta = OKTA_KEYS.get(key.toLowerCase());
    if (okta !== undefined && okta !== key && !(okta in value)) renames.push(key);
  }
  if (renames.length === 0) return undefined;
  const renamed: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) renamed[renames.includes(key) ? (OKTA_KEYS.get(key.toLowerCase()) as string) : key] = v;
  return { renamed, renames };
}

interface Candidate {
  readonly index: number;
  /** The exact text: what `raw` keeps. */
  readonly raw: string;
  /** The text the typed columns are read from (differs after renames). */
  readonly typed: string;
  readonly uuid: string;
  readonly publishedMs: number;
}

export async function importExport(options: ImportOptions): Promise<ImportSummary> {
  const startedMs = Date.now();
  const org = assertOrgLabel(options.org);
  const pageEvents = options.pageEvents ?? 10_000;
  const split = splitExport(options.bytes);
  const quarantine: ImportQuarantineLine[] = [];
  const keysReadAsOkta: Record<string, number> = {};
  const totals = { eventsWritten: 0, repeatedInFile: 0, repeatedInLake: 0, conflictsInFile: 0, conflictsInLake: 0, objectsWritten: 0, objectsAlreadyStored: 0, bytesWritten: 0, alreadyQuarantined: 0 };
  const quarantined: Record<string, number> = {};

  // 1-2. Pieces, keys read as Okta's, first placement checks.
  const candidates: Candidate[] = [];
  for (const piece of split.pieces) {
    if (piece.kind === 'invalid_utf8') {
      quarantine.push({ reason: 'invalid_utf8', index: piece.index, rawBase64: Buffer.from(piece.bytes).toString('base64') });
      continue;
    }
    if (piece.kind === 'invalid_json') {
      quarantine.push({ reason: 'invalid_json', index: piece.index, raw: piece.text });
      continue;
    }
    if (!isObject(piece.value)) {
      quarantine.push({ reason: 'not_an_object', index: piece.index, raw: piece.text });
      continue;
    }
    const fixed = oktaKeys(piece.value);
    const event = fixed?.renamed ?? piece.value;
    for (const key of fixed?.renames ?? []) {
      const label = `${key} -> ${OKTA_KEYS.get(key.toLowerCase()) as string}`;
      keysReadAsOkta[label] = (keysReadAsOkta[label] ?? 0) + 1;
    }
    const uuid = event.uuid;
    if (typeof uuid !== 'string' || uuid === '') {
      quarantine.push({ reason: 'missing_uuid', index: piece.index, raw: piece.text });
      continue;
    }
    const publishedMs = calendarInstant(event.published);
    if (Number.isNaN(publishedMs)) {
      quarantine.push({ reason: 'invalid_published', index: piece.index, raw: piece.text });
      continue;
    }
    candidates.push({ index: piece.index, raw: piece.text, typed: fixed ? JSON.stringify(event) : piece.text, uuid, publishedMs });
  }

  // 3. Repeats and conflicts within the file, then against the lake.
  const firstInFile = new Map<string, string>();
  const unique: Candidate[] = [];
  for (const c of candidates) {
    const first = firstInFile.get(c.uuid);
    if (first === undefined) {
      firstInFile.set(c.uuid, c.raw);
      unique.push(c);
    } else if (first === c.raw) {
      totals.repeatedInFile++;
    } else {
      totals.conflictsInFile++;
      quarantine.push({ reason: 'uuid_conflict', index: c.index, raw: c.raw, uuid: c.uuid, conflictWith: 'file' });
    }
  }
  const partitions = new Map<string, Partition>();
  for (const c of unique) {
    const p = partitionOf(c.publishedMs);
    partitions.set(`${p.dt}/${p.hour}`, p);
  }
  const held = partitions.size > 0 ? await options.index.holdings(org, [...partitions.values()], { digests: true }) : undefined;
  const fresh: Candidate[] = [];
  for (const c of unique) {
    if (!held?.uuids.has(c.uuid)) {
      fresh.push(c);
    } else if (held.digests?.get(c.uuid) === sha256(c.raw)) {
      totals.repeatedInLake++;
    } else {
      totals.conflictsInLake++;
      quarantine.push({ reason: 'uuid_conflict', index: c.index, raw: c.raw, uuid: c.uuid, conflictWith: 'lake' });
    }
  }

  // The span of what is written is recorded before it is stored: a crash costs a re-evaluation, never a missed one.
  const times = fresh.map((c) => c.publishedMs);
  if (options.lateEvidence && times.length > 0) {
    const fromMs = times.reduce((a, t) => Math.min(a, t), Number.POSITIVE_INFINITY);
    const toMs = times.reduce((a, t) => Math.max(a, t), Number.NEGATIVE_INFINITY);
    await options.lateEvidence.record(org, { fromMs, toMs, maxDelayMs: Math.max(0, options.now.getTime() - fromMs) }, options.now.getTime());
  }

  // 3b. Write the fresh events, a bounded page at a time, under names made from their texts.
  const clock = options.clock ?? { now: () => options.now.getTime() + (Date.now() - startedMs) };
  for (let at = 0; at < fresh.length; at += pageEvents) {
    const page = fresh.slice(at, at + pageEvents);
    const rawOf = new Map<number, string>();
    page.forEach((c, i) => {
      if (c.typed !== c.raw) rawOf.set(i, c.raw);
    });
    const name = `import-${sha256(page.map((c) => c.raw).join('\n')).slice(0, 24)}`;
    const stored = await storePage(
      { writer: options.writer, sink: options.sink, ...(options.compaction ? { compaction: options.compaction } : {}) },
      { org, body: `[${page.map((c) => c.typed).join(',')}]`, format: 'array', name, ingestedAt: new Date(clock.now()), ...(rawOf.size > 0 ? { rawOf } : {}) },
      'content',
    );
    totals.eventsWritten += stored.result.eventsWritten;
    totals.objectsWritten += stored.written.length;
    totals.objectsAlreadyStored += stored.alreadyStored.length;
    totals.bytesWritten += stored.bytesWritten;
    // What the writer itself could not place (e.g. a `published` it cannot read) is in its quarantine object.
    if (stored.result.eventsQuarantined > 0) quarantined.unplaceable = (quarantined.unplaceable ?? 0) + stored.result.eventsQuarantined;
  }

  // 4. The import's quarantine, without what an earlier import kept.
  const kept = await earlierQuarantine(options.sink, org);
  const keep = quarantine.filter((q) => {
    const digest = quarantineDigest(q);
    if (kept.has(digest)) {
      totals.alreadyQuarantined++;
      return false;
    }
    kept.add(digest);
    return true;
  });
  for (const q of quarantine) quarantined[q.reason] = (quarantined[q.reason] ?? 0) + 1;
  if (keep.length > 0) {
    const name = `${IMPORT_QUARANTINE_PREFIX}${sha256([...keep].map(quarantineDigest).sort().join('\n')).slice(0, 24)}`;
    const body = new TextEncoder().encode(`${keep.map((q) => JSON.stringify(q)).join('\n')}\n`);
    const key = quarantineObjectKey(org, options.now.toISOString().slice(0, 10), name);
    if ((await putNew(options.sink, key, body, 'content')) === 'written') {
      totals.objectsWritten++;
      totals.bytesWritten += body.byteLength;
    } else {
      totals.objectsAlreadyStored++;
    }
  }

  return {
    shapes: [...split.shapes],
    bom: split.bom,
    pieces: split.pieces.length,
    eventsWritten: totals.eventsWritten,
    repeatedInFile: totals.repeatedInFile,
    repeatedInLake: totals.repeatedInLake,
    conflictsInFile: totals.conflictsInFile,
    conflictsInLake: totals.conflictsInLake,
    quarantined,
    alreadyQuarantined: totals.alreadyQuarantined,
    keysReadAsOkta,
    objectsWritten: totals.objectsWritten,
    objectsAlreadyStored: totals.objectsAlreadyStored,
    bytesWritten: totals.bytesWritten,
  };
}

/** `value` as epoch ms when it is an ISO-8601 instant on a real calendar day, NaN otherwise. */
function calendarInstant(value: unknown): number {
  if (typeof value !== 'string') return Number.NaN;
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ]\d{2}:\d{2}:\d{2}/.exec(value);
  const ms = Date.parse(value);
  if (!m || Number.isNaN(ms)) return Number.NaN;
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const real = day.getUTCFullYear() === Number(m[1]) && day.getUTCMonth() === Number(m[2]) - 1 && day.getUTCDate() === Number(m[3]);
  return real ? ms : Number.NaN;
}

/** What identifies a quarantined piece across imports: its reason and exact content (not its position). */
function quarantineDigest(q: Pick<ImportQuarantineLine, 'reason' | 'raw' | 'rawBase64'>): string {
  return sha256(`${q.reason}\n${q.rawBase64 !== undefined ? `b64:${q.rawBase64}` : `t:${q.raw ?? ''}`}`);
}

/** The digests of every piece earlier imports quarantined for `org`. */
async function earlierQuarantine(sink: LakeSink, org: string): Promise<Set<string>> {
  const digests = new Set<string>();
  const prefix = `${QUARANTINE_PREFIX}/org=${org}/`;
  const keys = (await sink.list(prefix)).filter((k) => k.split('/').at(-1)?.startsWith(IMPORT_QUARANTINE_PREFIX));
  for (const key of keys) {
    const body = await sink.get(key);
    for (const line of new TextDecoder().decode(body ?? new Uint8Array(0)).split('\n')) {
      if (line.trim() === '') continue;
      try {
        digests.add(quarantineDigest(JSON.parse(line) as ImportQuarantineLine));
      } catch {
        // Not one of ours: matches nothing.
      }
    }
  }
  return digests;
}
