import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FileWatermarkStore } from '../../lib/adapters/file-watermark-store';
import { ConfigError, StateStoreError } from '../../lib/core/errors';
import { describeWatermarkStoreContract } from './watermark-store-contract';

const root = mkdtempSync(join(tmpdir(), 'okta-lake-file-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Two instances over one folder stand for two processes: they share nothing but the files.
describeWatermarkStoreContract('FileWatermarkStore', () => {
  const dir = join(root, 'contract');
  return { store: new FileWatermarkStore({ dir }), other: new FileWatermarkStore({ dir }) };
});

const T0 = Date.parse('2024-05-01T00:00:00.000Z');

describe('FileWatermarkStore files', () => {
  it('keeps one JSON file per org and leaves no lock or temporary file behind', async () => {
    // Prepare
    const dir = join(root, 'layout');
    const store = new FileWatermarkStore({ dir });
    // Act
    const got = await store.acquire('acme.okta.com', 'run-a', 60_000, T0);
    const lease = await store.checkpoint(
      got!.lease,
      { org: 'acme.okta.com', watermark: '2024-05-01T00:00:00.000Z', totalEvents: 10, totalQuarantined: 0 },
      60_000,
      T0 + 1,
    );
    await store.release(lease);
    // Assess
    expect(await readdir(dir)).toEqual(['acme.okta.com.json']);
    const doc = JSON.parse(await readFile(join(dir, 'acme.okta.com.json'), 'utf8'));
    expect(doc).toStrictEqual({
      org: 'acme.okta.com',
      version: lease.version + 1,
      watermark: '2024-05-01T00:00:00.000Z',
      totalEvents: 10,
      totalQuarantined: 0,
      updatedAt: new Date(T0 + 1).toISOString(),
    });
  });

  it('creates the folder on first use', async () => {
    const store = new FileWatermarkStore({ dir: join(root, 'deep', 'er', 'state') });
    await expect(store.acquire('acme.okta.com', 'run-a', 60_000, T0)).resolves.toBeDefined();
  });

  it('waits for a held lock and fails with StateStoreError when it is not released in time', async () => {
    // Prepare: a fresh lock file, as another process inside its read-modify-write would leave
    const dir = join(root, 'held');
    const store = new FileWatermarkStore({ dir, lockTimeoutMs: 150 });
    await store.acquire('acme.okta.com', 'run-a', 60_000, T0);
    await writeFile(join(dir, 'acme.okta.com.json.lock'), '{"token":"someone-else"}');
    // Act / Assess
    await expect(store.acquire('acme.okta.com', 'run-b', 60_000, T0 + 120_000)).rejects.toThrow(StateStoreError);
    await expect(store.acquire('acme.okta.com', 'run-b', 60_000, T0 + 120_000)).rejects.toThrow(/held by another process/);
  });

  it('removes a stale lock left by a dead process', async () => {
    // Prepare
    const dir = join(root, 'stale');
    const store = new FileWatermarkStore({ dir, lockTimeoutMs: 5_000, staleLockMs: 1_000 });
    await store.acquire('acme.okta.com', 'run-a', 60_000, T0);
    const lock = join(dir, 'acme.okta.com.json.lock');
    await writeFile(lock, '{"token":"dead"}');
    const old = new Date(Date.now() - 10_000);
    await utimes(lock, old, old);
    // Act
    const got = await store.acquire('acme.okta.com', 'run-b', 60_000, T0 + 120_000);
    // Assess
    expect(got?.lease.owner).toBe('run-b');
    expect(await readdir(dir)).toEqual(['acme.okta.com.json']);
  });

  it('reports a corrupt state file as StateStoreError', async () => {
    // Prepare
    const dir = join(root, 'corrupt');
    const store = new FileWatermarkStore({ dir });
    await store.acquire('acme.okta.com', 'run-a', 60_000, T0);
    await writeFile(join(dir, 'acme.okta.com.json'), '{"org":"acme.okta.com","version":"three"}');
    await writeFile(join(dir, 'other.okta.com.json'), '{ not json');
    // Act / Assess
    await expect(store.acquire('acme.okta.com', 'run-a', 60_000, T0)).rejects.toThrow(/"version" is missing or not an integer/);
    await expect(store.acquire('other.okta.com', 'run-a', 60_000, T0)).rejects.toThrow(StateStoreError);
  });

  it('refuses org labels that would leave the folder, and bad options', async () => {
    const store = new FileWatermarkStore({ dir: join(root, 'escape') });
    await expect(store.acquire('../evil', 'run-a', 60_000, T0)).rejects.toThrow(/not allowed/);
    expect(() => new FileWatermarkStore({ dir: '' })).toThrow(ConfigError);
    expect(() => new FileWatermarkStore({ dir: root, lockTimeoutMs: 0 })).toThrow(/lockTimeoutMs/);
  });
});

/** Starts the contender script in its own Node process; resolves `ready` once it waits for the go file. */
function contender(args: string[]): { ready: Promise<void>; won: Promise<string[]> } {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'file-store-race.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let signalReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (signalReady = r));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) signalReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const won = new Promise<string[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      signalReady();
      if (code !== 0) reject(new Error(`contender exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.slice('ready\n'.length)) as string[]);
    });
  });
  return { ready, won };
}

describe('FileWatermarkStore across processes', () => {
  it('grants each lease to exactly one of three processes racing for it', async () => {
    // Prepare
    const dir = join(root, 'race');
    const goFile = join(root, 'race-go');
    const orgs = 30;
    const contenders = ['proc-a', 'proc-b', 'proc-c'].map((owner) => contender([dir, goFile, owner, String(orgs), String(T0)]));
    await Promise.all(contenders.map((c) => c.ready));
    // Act
    await writeFile(goFile, 'go');
    const won = await Promise.all(contenders.map((c) => c.won));
    // Assess
    const all = won.flat();
    expect(all).toHaveLength(orgs);
    expect(new Set(all).size).toBe(orgs);
  });
});
