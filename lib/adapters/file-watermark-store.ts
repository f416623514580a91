/**
 * The watermark store of the local CLI: one JSON file per org in a folder (`<dir>/<org>.json`).
 *
 * Every operation is a short read-modify-write done while holding an exclusive lock file
 * (`<dir>/<org>.json.lock`, created with `O_EXCL`), so two processes sharing the folder never both
 * take the lease; the file itself is replaced atomically (temporary file + rename). The lease rules are
 * those of `lib/core/lease.ts`, the same as the DynamoDB store's.
 *
 * A lock file left by a process that died inside the read-modify-write is removed once it is older
 * than `staleLockMs`.
 */
import { join, resolve } from 'node:path';
import { ConfigError, StateStoreError } from '../core/errors';
import { acquireRecord, assertLeaseArgs, checkpointRecord, releaseRecord, type StoredOrgRecord } from '../core/lease';
import { assertOrgLabel } from '../core/layout';
import type { WatermarkReader } from '../core/detect/ports';
import type { IngestState, Lease, WatermarkStore } from '../core/ports';
import { LockedFiles } from './locked-files';
import { FieldReader, readIngestState } from './state-record';

export interface FileWatermarkStoreOptions {
  /** Folder holding one `<org>.json` per org; created when missing. */
  readonly dir: string;
  /**
   * How long an operation waits for another process's lock file before failing with `StateStoreError`.
   * @default 10_000
   */
  readonly lockTimeoutMs?: number;
  /**
   * Age after which a lock file is taken to be left by a dead process and removed. Locks are held for
   * one small read-modify-write only, so a live holder never comes near it.
   * @default 30_000
   */
  readonly staleLockMs?: number;
  /**
   * Flush state files (and their folder) to disk before and after the rename.
   * @default true
   */
  readonly fsync?: boolean;
}

/** The JSON document stored per org (the stored record itself). */
export type FileWatermarkDocument = StoredOrgRecord;




/** A JSON state document (or an object in it) read through the stores' shared `RecordReader`. */
class DocumentReader extends FieldReader<unknown> {
  protected readonly kinds = { string: 'a string', integer: 'an integer', record: 'an object' };

  protected asString(v: unknown): string | undefined {
    return typeof v === 'string' ? v : undefined;
  }

  protected asNumber(v: unknown): number | undefined {
    return typeof v === 'number' ? v : undefined;
  }

  protected asRecord(v: unknown): Record<string, unknown> | undefined {
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  }

  protected nested(fields: Record<string, unknown>, where: string): DocumentReader {
    return new DocumentReader(fields, where);
  }
}

function parseDocument(text: string, org: string, path: string): StoredOrgRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StateStoreError(`state file ${path} is not valid JSON`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new StateStoreError(`state file ${path} does not hold a JSON object`);
  }
  const r = new DocumentReader(json as Record<string, unknown>, `state file ${path}`);
  if (r.str('org') !== org) throw new StateStoreError(`state file ${path} belongs to org "${r.str('org')}", not "${org}"`);
  const version = r.int('version');
  const leaseOwner = r.optStr('leaseOwner');
  const leaseExpiresAt = r.optInt('leaseExpiresAt');
  return {
    ...readIngestState(r, 'org'),
    version,
    ...(leaseOwner !== undefined ? { leaseOwner } : {}),
    ...(leaseExpiresAt !== undefined ? { leaseExpiresAt } : {}),
  };
}

export class FileWatermarkStore implements WatermarkStore, WatermarkReader {
  /** The absolute folder path. */
  readonly dir: string;
  private readonly files: LockedFiles;

  constructor(options: FileWatermarkStoreOptions) {
    if (typeof options.dir !== 'string' || options.dir.trim() === '') {
      throw new ConfigError('FileWatermarkStore dir must be a non-empty folder path');
    }
    this.dir = resolve(options.dir);
    this.files = new LockedFiles({ ...options, dir: this.dir });
  }

  /** Path of the state file of `org` (the org label is validated, so it cannot leave `dir`). */
  stateFile(org: string): string {
    return join(this.dir, `${assertOrgLabel(org)}.json`);
  }

  /** The org's watermark (epoch ms), read without the lock (the file is replaced atomically). */
  async watermark(org: string): Promise<number | undefined> {
    const path = this.stateFile(org);
    const watermark = (await this.read(path, org))?.watermark;
    return watermark === undefined ? undefined : Date.parse(watermark);
  }

  async acquire(org: string, owner: string, ttlMs: number, nowMs: number): Promise<{ lease: Lease; state: IngestState } | undefined> {
    assertLeaseArgs(org, owner, ttlMs, nowMs);
    const path = this.stateFile(org);
    return this.withLock(path, async () => {
      const outcome = acquireRecord(await this.read(path, org), org, owner, ttlMs, nowMs);
      if (outcome === undefined) return undefined;
      await this.write(path, outcome.record);
      return { lease: outcome.lease, state: outcome.state };
    });
  }

  async checkpoint(lease: Lease, state: IngestState, ttlMs: number, nowMs: number): Promise<Lease> {
    assertLeaseArgs(lease.org, lease.owner, ttlMs, nowMs);
    const path = this.stateFile(lease.org);
    return this.withLock(path, async () => {
      const outcome = checkpointRecord(await this.read(path, lease.org), lease, state, ttlMs, nowMs);
      await this.write(path, outcome.record);
      return outcome.lease;
    });
  }

  async release(lease: Lease): Promise<void> {
    const path = this.stateFile(lease.org);
    await this.withLock(path, async () => {
      const next = releaseRecord(await this.read(path, lease.org), lease);
      if (next !== undefined) await this.write(path, next);
    });
  }

  private async read(path: string, org: string): Promise<StoredOrgRecord | undefined> {
    let text: string | undefined;
    try {
      text = await this.files.readText(path);
    } catch (err) {
      throw new StateStoreError(`could not read state file ${path}: ${(err as Error).message}`, { cause: err });
    }
    return text === undefined ? undefined : parseDocument(text, org, path);
  }

  private write(path: string, record: StoredOrgRecord): Promise<void> {
    return this.files.writeJson(path, record);
  }

  private withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    return this.files.withLock(path, fn);
  }
}
