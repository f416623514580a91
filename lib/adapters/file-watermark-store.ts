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
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, StateStoreError } from '../core/errors';
import { acquireRecord, assertLeaseArgs, checkpointRecord, releaseRecord, type StoredOrgRecord } from '../core/lease';
import { assertOrgLabel } from '../core/layout';
import type { IngestState, Lease, WatermarkStore } from '../core/ports';
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

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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

export class FileWatermarkStore implements WatermarkStore {
  /** The absolute folder path. */
  readonly dir: string;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  private readonly fsync: boolean;

  constructor(options: FileWatermarkStoreOptions) {
    if (typeof options.dir !== 'string' || options.dir.trim() === '') {
      throw new ConfigError('FileWatermarkStore dir must be a non-empty folder path');
    }
    this.dir = resolve(options.dir);
    this.lockTimeoutMs = positiveInteger('lockTimeoutMs', options.lockTimeoutMs, 10_000);
    this.staleLockMs = positiveInteger('staleLockMs', options.staleLockMs, 30_000);
    this.fsync = options.fsync ?? true;
  }

  /** Path of the state file of `org` (the org label is validated, so it cannot leave `dir`). */
  stateFile(org: string): string {
    return join(this.dir, `${assertOrgLabel(org)}.json`);
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
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw new StateStoreError(`could not read state file ${path}: ${(err as Error).message}`, { cause: err });
    }
    return parseDocument(text, org, path);
  }

  private async write(path: string, record: StoredOrgRecord): Promise<void> {
    const temp = join(this.dir, `.${randomBytes(8).toString('hex')}.json.tmp`);
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
        if (this.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new StateStoreError(`could not write state file ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (this.fsync) await this.syncDir();
  }

  /** Makes the rename durable; some platforms cannot open a folder for syncing, which is harmless. */
  private async syncDir(): Promise<void> {
    let handle;
    try {
      handle = await open(this.dir, 'r');
      await handle.sync();
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') {
        throw new StateStoreError(`could not flush folder ${this.dir}: ${(err as Error).message}`, { cause: err });
      }
    } finally {
      await handle?.close();
    }
  }

  /** Runs `fn` while holding `<path>.lock`, created exclusively; waits (bounded) while another holder has it. */
  private async withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const lockPath = `${path}.lock`;
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      const taken = await this.tryLock(lockPath, token);
      if (taken) break;
      if (await this.removeIfStale(lockPath)) continue;
      if (Date.now() >= deadline) {
        throw new StateStoreError(`lock file ${lockPath} is held by another process; gave up after ${this.lockTimeoutMs} ms`);
      }
      await sleep(5 + Math.floor(Math.random() * 20));
    }
    try {
      return await fn();
    } finally {
      await this.unlock(lockPath, token);
    }
  }

  private async tryLock(lockPath: string, token: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      let handle;
      try {
        handle = await open(lockPath, 'wx');
      } catch (err) {
        const code = errorCode(err);
        if (code === 'EEXIST') return false;
        if (code === 'ENOENT' && attempt === 0) {
          await mkdir(this.dir, { recursive: true }).catch((mkdirErr: unknown) => {
            throw new StateStoreError(`could not create folder ${this.dir}: ${(mkdirErr as Error).message}`, { cause: mkdirErr });
          });
          continue;
        }
        throw new StateStoreError(`could not create lock file ${lockPath}: ${(err as Error).message}`, { cause: err });
      }
      try {
        await handle.writeFile(JSON.stringify({ token, pid: process.pid, lockedAt: new Date().toISOString() }), 'utf8');
      } catch (err) {
        await handle.close().catch(() => undefined);
        await rm(lockPath, { force: true }).catch(() => undefined);
        throw new StateStoreError(`could not write lock file ${lockPath}: ${(err as Error).message}`, { cause: err });
      }
      await handle.close();
      return true;
    }
  }

  /** Removes a lock file older than `staleLockMs`; true when the lock is gone (retry at once). */
  private async removeIfStale(lockPath: string): Promise<boolean> {
    let modifiedMs: number;
    try {
      modifiedMs = (await stat(lockPath)).mtimeMs;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return true;
      throw new StateStoreError(`could not inspect lock file ${lockPath}: ${(err as Error).message}`, { cause: err });
    }
    if (Date.now() - modifiedMs <= this.staleLockMs) return false;
    // Move it aside first: of several processes finding the same stale lock, one rename wins.
    const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
    try {
      await rename(lockPath, aside);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return true;
      throw new StateStoreError(`could not remove stale lock file ${lockPath}: ${(err as Error).message}`, { cause: err });
    }
    await rm(aside, { force: true }).catch(() => undefined);
    return true;
  }

  /** Deletes the lock file if it is still ours (a holder slower than `staleLockMs` may have lost it). */
  private async unlock(lockPath: string, token: string): Promise<void> {
    try {
      const text = await readFile(lockPath, 'utf8');
      if (!text.includes(token)) return;
      await rm(lockPath, { force: true });
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw new StateStoreError(`could not remove lock file ${lockPath}: ${(err as Error).message}`, { cause: err });
    }
  }
}
