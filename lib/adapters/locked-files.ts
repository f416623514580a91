/**
 * Small JSON state files shared by processes on one machine: the local watermark store and the local
 * detection state use them. Every read-modify-write runs while holding an exclusive lock file
 * (`<path>.lock`, created with `O_EXCL`); a file is replaced atomically (temporary file + rename,
 * flushed); a lock file left by a process that died inside its read-modify-write is removed once it
 * is older than `staleLockMs`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError, StateStoreError } from '../core/errors';

export interface LockedFilesOptions {
  /** Folder the files live in (created when missing). */
  readonly dir: string;
  /** How long an operation waits for another process's lock. @default 10_000 */
  readonly lockTimeoutMs?: number;
  /** Age after which a lock file is taken to be left by a dead process. @default 30_000 */
  readonly staleLockMs?: number;
  /** Flush files (and their folder) to disk around the rename. @default true */
  readonly fsync?: boolean;
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class LockedFiles {
  readonly dir: string;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  private readonly fsync: boolean;

  constructor(options: LockedFilesOptions) {
    this.dir = options.dir;
    this.lockTimeoutMs = positiveInteger('lockTimeoutMs', options.lockTimeoutMs, 10_000);
    this.staleLockMs = positiveInteger('staleLockMs', options.staleLockMs, 30_000);
    this.fsync = options.fsync ?? true;
  }

  /** The file's text, or `undefined` when there is no such file. */
  async readText(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Replaces `path` with `value` as JSON, atomically (temporary file, flush, rename, flush the folder). */
  async writeJson(path: string, value: unknown): Promise<void> {
    await mkdir(dirname(path), { recursive: true }).catch(() => undefined);
    const temp = join(dirname(path), `.${randomBytes(8).toString('hex')}.json.tmp`);
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
        if (this.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new StateStoreError(`could not write state file ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (this.fsync) await this.syncDir(dirname(path));
  }

  /** Makes the rename durable; some platforms cannot open a folder for syncing, which is harmless. */
  private async syncDir(dir: string): Promise<void> {
    let handle;
    try {
      handle = await open(dir, 'r');
      await handle.sync();
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') {
        throw new StateStoreError(`could not flush folder ${dir}: ${(err as Error).message}`, { cause: err });
      }
    } finally {
      await handle?.close();
    }
  }

  /** Runs `fn` while holding `<path>.lock`, created exclusively; waits (bounded) while another holder has it. */
  async withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
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
          await mkdir(dirname(lockPath), { recursive: true }).catch((mkdirErr: unknown) => {
            throw new StateStoreError(`could not create folder ${dirname(lockPath)}: ${(mkdirErr as Error).message}`, { cause: mkdirErr });
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
