import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_SINK_TEMP_PREFIX, LocalSink } from '../../lib/adapters/local-sink';
import { ConfigError, ObjectExistsError, SinkError } from '../../lib/core/errors';
import { describeLakeSinkContract } from './sink-contract';

const root = mkdtempSync(join(tmpdir(), 'okta-lake-local-sink-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bytes = (text: string) => new TextEncoder().encode(text);

/** Every file under `dir`, as `/`-separated relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describeLakeSinkContract('LocalSink', () => new LocalSink({ root: join(root, 'contract') }));

describe('LocalSink', () => {
  it('writes files at the key path and leaves no temporary file behind', async () => {
    // Prepare
    const dir = join(root, 'layout');
    const sink = new LocalSink({ root: dir });
    const keys = Array.from({ length: 20 }, (_, i) => `events/org=a.okta.com/dt=2024-05-01/hour=${String(i % 3).padStart(2, '0')}/p${i}.parquet`);
    // Act
    await Promise.all(keys.map((key) => sink.put(key, bytes(key), 'application/vnd.apache.parquet')));
    const again = await Promise.allSettled(keys.map((key) => sink.put(key, bytes(`${key} again`), 'application/vnd.apache.parquet')));
    // Assess: the second writes were refused, and they too left no temporary file
    expect(again.every((o) => o.status === 'rejected' && o.reason instanceof ObjectExistsError)).toBe(true);
    expect(sink.location).toBe(dir);
    expect((await filesUnder(dir)).sort()).toEqual([...keys].sort());
  });

  it('never shows a partly written object to a concurrent reader', async () => {
    // Prepare: a 4 MB object
    const sink = new LocalSink({ root: join(root, 'atomic') });
    const key = 'events/big.parquet';
    const body = new Uint8Array(randomBytes(4 * 1024 * 1024));
    // Act: read in a loop while it is written
    let writing = true;
    const seen: Uint8Array[] = [];
    const reader = (async () => {
      while (writing) {
        const read = await sink.get(key);
        if (read !== undefined) seen.push(read);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await sink.put(key, body, 'application/octet-stream');
    writing = false;
    await reader;
    // Assess: a read finds nothing or the whole object, never a prefix
    for (const read of seen) expect(Buffer.from(read).equals(Buffer.from(body))).toBe(true);
    expect(Buffer.from((await sink.get(key))!).equals(Buffer.from(body))).toBe(true);
  });

  it('does not list temporary files of writes in progress', async () => {
    // Prepare
    const dir = join(root, 'temp-hidden');
    const sink = new LocalSink({ root: dir });
    await sink.put('events/a.parquet', bytes('a'), 'application/octet-stream');
    await writeFile(join(dir, 'events', `${LOCAL_SINK_TEMP_PREFIX}0123abcd`), 'partial');
    // Act / Assess
    expect(await sink.list('events/')).toEqual(['events/a.parquet']);
  });

  it('wraps a failed write in SinkError and cleans up its temporary file', async () => {
    // Prepare: a file where the key needs a folder
    const dir = join(root, 'blocked');
    const sink = new LocalSink({ root: dir });
    await sink.put('events', bytes('a file, not a folder'), 'text/plain');
    // Act
    const error = await sink.put('events/x.parquet', bytes('x'), 'text/plain').catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(SinkError);
    expect((error as Error).message).toContain(join(dir, 'events', 'x.parquet'));
    expect((error as Error).cause).toBeDefined();
    expect(await filesUnder(dir)).toEqual(['events']);
    expect(await sink.get('events/x.parquet')).toBeUndefined();
  });

  it('treats a folder as no object', async () => {
    const dir = join(root, 'folders');
    await mkdir(join(dir, 'events', 'dt=2024-05-01'), { recursive: true });
    const sink = new LocalSink({ root: dir });
    expect(await sink.get('events/dt=2024-05-01')).toBeUndefined();
    expect(await sink.list('')).toEqual([]);
  });

  it('lists an empty or missing root as nothing', async () => {
    expect(await new LocalSink({ root: join(root, 'never-created') }).list('')).toEqual([]);
  });

  it('refuses an empty root', () => {
    expect(() => new LocalSink({ root: ' ' })).toThrow(ConfigError);
  });
});
