/**
 * Compaction's keys and write-once state records (JSON), as pure functions: where each thing lives,
 * how a record is encoded, and how a stored record is read back and checked. See docs/compaction.md.
 *
 *   compacted/org=<org>/dt=<day>/g0001-part-0.parquet            compacted data (at most 2 parts)
 *   compacted/_state/org=<org>/frozen/dt=<day>.json              freeze record
 *   compacted/_state/org=<org>/dt=<day>/g0001-manifest.json      what generation 1 holds
 *   compacted/_state/org=<org>/dt=<day>/g0001-switch.json        generation 1 is current
 *
 * Every record is written once and never replaced; a generation that died before its switch record
 * is left where it is (its number is never used again) and readers ignore it.
 */
import { OktaLakeError } from '../errors';
import { COMPACTED_PREFIX, assertOrgLabel } from '../layout';

/** A compaction state record is malformed, or does not belong where it was found. */
export class CompactionRecordError extends OktaLakeError {}

export const STATE_PREFIX = `${COMPACTED_PREFIX}/_state`;
/** Generation numbers have this many digits in keys (`g0001`). */
export const GENERATION_DIGITS = 4;
export const MAX_GENERATION = 10 ** GENERATION_DIGITS - 1;
/** A compacted day has at most this many part files. */
export const MAX_PARTS = 2;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Validates a day (YYYY-MM-DD, a real UTC date). */
export function assertDay(dt: string): string {
  if (!DAY.test(dt) || new Date(`${dt}T00:00:00Z`).toISOString().slice(0, 10) !== dt) {
    throw new RangeError(`day "${dt}" is not a date of the form YYYY-MM-DD`);
  }
  return dt;
}

export const dayStartMs = (dt: string): number => Date.parse(`${assertDay(dt)}T00:00:00.000Z`);

export function generationLabel(g: number): string {
  if (!Number.isInteger(g) || g < 1 || g > MAX_GENERATION) throw new RangeError(`generation ${g} is out of range 1..${MAX_GENERATION}`);
  return `g${String(g).padStart(GENERATION_DIGITS, '0')}`;
}

/** `compacted/org=O/dt=D/` */
export const compactedDayPrefix = (org: string, dt: string): string => `${COMPACTED_PREFIX}/org=${assertOrgLabel(org)}/dt=${assertDay(dt)}/`;
/** `compacted/org=O/dt=D/g0001-part-0.parquet` */
export const partKey = (org: string, dt: string, g: number, part: number): string => `${compactedDayPrefix(org, dt)}${generationLabel(g)}-part-${part}.parquet`;
/** `compacted/_state/org=O/frozen/` */
export const frozenPrefix = (org: string): string => `${STATE_PREFIX}/org=${assertOrgLabel(org)}/frozen/`;
/** `compacted/_state/org=O/frozen/dt=D.json` */
export const freezeKey = (org: string, dt: string): string => `${frozenPrefix(org)}dt=${assertDay(dt)}.json`;
/** `compacted/_state/org=O/dt=D/` */
export const dayStatePrefix = (org: string, dt: string): string => `${STATE_PREFIX}/org=${assertOrgLabel(org)}/dt=${assertDay(dt)}/`;
export const manifestKey = (org: string, dt: string, g: number): string => `${dayStatePrefix(org, dt)}${generationLabel(g)}-manifest.json`;
export const switchKey = (org: string, dt: string, g: number): string => `${dayStatePrefix(org, dt)}${generationLabel(g)}-switch.json`;

/** What a key under `compacted/` is, or undefined for anything else. */
export type CompactedKey =
  | { readonly kind: 'part'; readonly org: string; readonly dt: string; readonly generation: number; readonly part: number }
  | { readonly kind: 'manifest' | 'switch'; readonly org: string; readonly dt: string; readonly generation: number }
  | { readonly kind: 'freeze'; readonly org: string; readonly dt: string };

const PART_KEY = /^compacted\/org=([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/g(\d{4})-part-(\d+)\.parquet$/;
const RECORD_KEY = /^compacted\/_state\/org=([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/g(\d{4})-(manifest|switch)\.json$/;
const FREEZE_KEY = /^compacted\/_state\/org=([^/]+)\/frozen\/dt=(\d{4}-\d{2}-\d{2})\.json$/;

export function parseCompactedKey(key: string): CompactedKey | undefined {
  let m = PART_KEY.exec(key);
  if (m) return { kind: 'part', org: m[1], dt: m[2], generation: Number(m[3]), part: Number(m[4]) };
  m = RECORD_KEY.exec(key);
  if (m) return { kind: m[4] as 'manifest' | 'switch', org: m[1], dt: m[2], generation: Number(m[3]) };
  m = FREEZE_KEY.exec(key);
  if (m) return { kind: 'freeze', org: m[1], dt: m[2] };
  return undefined;
}

/** The day is frozen: from `frozenAt` on, writers put its events under `late/`. */
export interface FreezeRecord {
  readonly kind: 'okta-lake/freeze';
  readonly version: 1;
  readonly org: string;
  readonly dt: string;
  /** ISO-8601 UTC. */
  readonly frozenAt: string;
}

/** An object read by a generation: an original under `events/` or `late/`. */
export interface SourceObject {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly rows: number;
}

/** A part file a generation wrote. */
export interface OutputObject {
  readonly key: string;
  readonly bytes: number;
  readonly rows: number;
  readonly sha256: string;
  /** First and last hour (HH) of its rows; parts split the day at an hour boundary. */
  readonly hours: readonly [string, string] | null;
}

/** What one generation of a compacted day holds, written after its parts and before its switch. */
export interface Manifest {
  readonly kind: 'okta-lake/compaction-manifest';
  readonly version: 1;
  readonly org: string;
  readonly dt: string;
  readonly generation: number;
  readonly createdAt: string;
  readonly frozenAt: string;
  /** Events (distinct uuids) in the parts. */
  readonly rows: number;
  /** Rows of the originals (repeats included). */
  readonly sourceRows: number;
  /** Rows that repeated an earlier row of the same uuid with the same `raw`, written once. */
  readonly duplicateRowsCollapsed: number;
  /** Events per hour (HH, derived from `published`). */
  readonly rowsPerHour: Readonly<Record<string, number>>;
  /** sha256 (hex) over the lines `<uuid> <sha256(raw)>` sorted by uuid, joined by `\n`. */
  readonly checksum: string;
  readonly uuids: readonly string[];
  readonly sources: readonly SourceObject[];
  readonly outputs: readonly OutputObject[];
  /**
   * The late cutoff (ISO-8601 UTC, whole milliseconds): every `late/` object this generation holds
   * has all its rows' `ingested_at` at or before it, and every `late/` object of the day it does
   * not hold has all of them after it (see `chooseLateCutoff`). Athena's view tells absorbed late
   * rows from unabsorbed ones by it, with one predicate per day instead of a list of objects.
   * Absent in records written before it existed.
   */
  readonly lateCutoff?: string;
  /** How the parts were written. */
  readonly format: { readonly compression: 'zstd'; readonly compressionLevel: number; readonly rowGroupRows: number; readonly sortedBy: readonly string[] };
}

/** Generation `generation` is the day's current one: readers read its parts (and late objects it did not absorb). */
export interface SwitchRecord {
  readonly kind: 'okta-lake/compaction-switch';
  readonly version: 1;
  readonly org: string;
  readonly dt: string;
  readonly generation: number;
  readonly switchedAt: string;
  readonly manifest: string;
  readonly manifestSha256: string;
  /** The part keys readers read, in order. */
  readonly parts: readonly string[];
  readonly rows: number;
  /** The `late/` objects of the day the parts hold (readers must not read them again). */
  readonly absorbedLate: readonly string[];
  /** The manifest's `lateCutoff`: `late/` rows with `ingested_at` after it are not in the parts. */
  readonly lateCutoff?: string;
  /**
   * The `events/` objects of the day the parts hold. Readers read any other `events/` object of
   * the day besides the parts: one a writer stored despite the freeze is then still read once.
   */
  readonly absorbedEvents: readonly string[];
}

export const encodeRecord = (record: FreezeRecord | Manifest | SwitchRecord): Uint8Array =>
  new TextEncoder().encode(`${JSON.stringify(record, null, record.kind === 'okta-lake/compaction-manifest' ? undefined : 2)}\n`);

export const JSON_TYPE = 'application/json';

function decode(body: Uint8Array, key: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new CompactionRecordError(`${key} is not a JSON document`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CompactionRecordError(`${key} is not a JSON object`);
  return value as Record<string, unknown>;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isInstant = (v: unknown): v is string => typeof v === 'string' && Number.isFinite(Date.parse(v));
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

function expect(cond: boolean, key: string, what: string): asserts cond {
  if (!cond) throw new CompactionRecordError(`${key}: ${what}`);
}

function checkPlace(r: Record<string, unknown>, key: string, kind: string, where: { org: string; dt: string; generation?: number }): void {
  expect(r.kind === kind && r.version === 1, key, `expected a ${kind} record of version 1`);
  expect(r.org === where.org && r.dt === where.dt, key, `belongs to org ${String(r.org)} day ${String(r.dt)}, found under org ${where.org} day ${where.dt}`);
  if (where.generation !== undefined) expect(r.generation === where.generation, key, `holds generation ${String(r.generation)}, its key says ${where.generation}`);
}

export function parseFreeze(body: Uint8Array, key: string, where: { org: string; dt: string }): FreezeRecord {
  const r = decode(body, key);
  checkPlace(r, key, 'okta-lake/freeze', where);
  expect(isString(r.frozenAt) && Number.isFinite(Date.parse(r.frozenAt)), key, '"frozenAt" is not an instant');
  return r as unknown as FreezeRecord;
}

export function parseSwitch(body: Uint8Array, key: string, where: { org: string; dt: string; generation: number }): SwitchRecord {
  const r = decode(body, key);
  checkPlace(r, key, 'okta-lake/compaction-switch', where);
  expect(isString(r.manifest) && isString(r.manifestSha256) && isString(r.switchedAt), key, '"manifest", "manifestSha256" or "switchedAt" is missing');
  expect(isStringList(r.parts) && r.parts.length >= 1 && r.parts.length <= MAX_PARTS, key, `"parts" must list 1 to ${MAX_PARTS} keys`);
  const prefix = compactedDayPrefix(where.org, where.dt);
  expect(r.parts.every((p) => p.startsWith(prefix)), key, `"parts" must be under ${prefix}`);
  expect(isStringList(r.absorbedLate) && isStringList(r.absorbedEvents), key, '"absorbedLate" and "absorbedEvents" must be lists of keys');
  expect(isCount(r.rows), key, '"rows" must be a count');
  expect(r.lateCutoff === undefined || isInstant(r.lateCutoff), key, '"lateCutoff" is not an instant');
  return r as unknown as SwitchRecord;
}

export function parseManifest(body: Uint8Array, key: string, where: { org: string; dt: string; generation: number }): Manifest {
  const r = decode(body, key);
  checkPlace(r, key, 'okta-lake/compaction-manifest', where);
  expect(isCount(r.rows) && isCount(r.sourceRows) && isCount(r.duplicateRowsCollapsed), key, 'row counts are missing');
  expect(isString(r.checksum) && isStringList(r.uuids) && r.uuids.length === r.rows, key, '"checksum" or "uuids" is missing, or "uuids" does not hold "rows" uuids');
  const objects = (v: unknown): boolean =>
    Array.isArray(v) && v.every((o) => typeof o === 'object' && o !== null && isString((o as SourceObject).key) && isString((o as SourceObject).sha256) && isCount((o as SourceObject).bytes) && isCount((o as SourceObject).rows));
  expect(objects(r.sources) && objects(r.outputs), key, '"sources" or "outputs" is malformed');
  expect(r.lateCutoff === undefined || isInstant(r.lateCutoff), key, '"lateCutoff" is not an instant');
  expect((r.outputs as unknown[]).length >= 1 && (r.outputs as unknown[]).length <= MAX_PARTS, key, `"outputs" must list 1 to ${MAX_PARTS} parts`);
  return r as unknown as Manifest;
}
