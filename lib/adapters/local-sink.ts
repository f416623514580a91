/**
 * The lake in a local folder, with the same key layout as in S3 (`events/org=.../dt=.../hour=.../x.parquet`).
 * Write-once, as the S3 sink: an object is written to a temporary file and hard-linked into place,
 * which fails when the name exists (`link(2)`: EEXIST), so a file is never replaced and never seen
 * half written.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConfigError, ObjectExistsError, SinkError } from '../core/errors';
import type { LakeSink } from '../core/ports';
import { InvalidSinkKeyError, assertListPrefix, assertSinkKey } from './sink-keys';

/** Name beginning of the temporary files a write goes through; `list` never returns them. */
export const LOCAL_SINK_TEMP_PREFIX = '.okta-lake-tmp-';

export interface LocalSinkOptions {
  /** The lake folder; created on the first write. Relative paths are resolved against the working directory. */
  readonly root: string;
  /**
   * Flush each object to disk before it is renamed into place, so a crash never leaves a
   * renamed-but-empty file.
   * @default true
   */
  readonly fsync?: boolean;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export class LocalSink implements LakeSink {
  readonly location: string;
  private readonly root: string;
  private readonly fsync: boolean;

  constructor(options: LocalSinkOptions) {
    if (typeof options.root !== 'string' || options.root.trim() === '') {
      throw new ConfigError('LocalSink root must be a non-empty folder path');
    }
    this.root = resolve(options.root);
    this.fsync = options.fsync ?? true;
    this.location = this.root;
  }

  /** Absolute path of `key`, refusing anything that would resolve outside the root. */
  private pathOf(key: string): string {
    const path = join(this.root, ...key.split('/'));
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
      throw new InvalidSinkKeyError(`key "${key}" resolves outside the sink root`);
    }
    return path;
  }

  /**
   * Stores `body` under a new key atomically (temporary file in the same folder, then a hard link
   * to the final name), or throws `ObjectExistsError` when the name is taken. A folder keeps no
   * content type.
   */
  async put(key: string, body: Uint8Array, _contentType: string): Promise<void> {
    const path = this.pathOf(assertSinkKey(key));
    const dir = dirname(path);
    const temp = join(dir, `${LOCAL_SINK_TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(dir, { recursive: true });
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(body);
        if (this.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      await link(temp, path);
    } catch (err) {
      if (errorCode(err) === 'EEXIST') {
        throw new ObjectExistsError(`${path} already exists: the lake is write-once, nothing was written`, key, { cause: err });
      }
      throw new SinkError(`could not store ${path}: ${(err as Error).message}`, { cause: err });
    } finally {
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertListPrefix(prefix);
    // Walk the deepest folder the prefix names completely, then filter by the whole prefix
    // (`events/org=a` matches `events/org=a/...` and `events/org=ab/...`, like S3).
    const cut = prefix.lastIndexOf('/');
    const folderKey = cut < 0 ? '' : prefix.slice(0, cut);
    const start = folderKey === '' ? this.root : this.pathOf(folderKey);
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        const code = errorCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw new SinkError(`could not list ${dir}: ${(err as Error).message}`, { cause: err });
      }
      for (const entry of entries) {
        const key = `${keyPrefix}${entry.name}`;
        if (entry.isDirectory()) {
          const folder = `${key}/`;
          if (!folder.startsWith(prefix) && !prefix.startsWith(folder)) continue;
          await walk(join(dir, entry.name), folder);
        } else if (entry.isFile() && !entry.name.startsWith(LOCAL_SINK_TEMP_PREFIX) && key.startsWith(prefix)) {
          keys.push(key);
        }
      }
    };
    await walk(start, folderKey === '' ? '' : `${folderKey}/`);
    return keys.sort();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const path = this.pathOf(assertSinkKey(key));
    try {
      const data = await readFile(path);
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (err) {
      const code = errorCode(err);
      // Missing, a folder (S3 has no folder objects), or a file where a folder was expected.
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
      throw new SinkError(`could not read ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
