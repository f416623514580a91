import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CACHE_DIR,
  DuckDbBundlingError,
  bindingCacheDir,
  lockedDuckDbPackages,
  npmFetchCommand,
  prepareDuckDbAsset,
  resolveDuckDbSources,
  type RunNpm,
} from '../../lib/constructs/bundle-duckdb.mjs';
import { PROJECT_ROOT } from '../../lib/constructs/ingestion';

const VERSION = '9.9.9-r.1';
const INTEGRITY = 'sha512-pinnedintegrityvalue==';

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

/** A project with DuckDB's JavaScript packages installed and, optionally, the x64 binding. */
function fakeProject(root: string, options: { x64Installed: boolean }): void {
  const binding = (cpu: string) => ({ version: VERSION, integrity: `${INTEGRITY}${cpu}`, os: ['linux'], cpu: [cpu], libc: ['glibc'], license: 'MIT', optional: true });
  writeJson(join(root, 'package-lock.json'), {
    lockfileVersion: 3,
    packages: {
      'node_modules/@duckdb/node-api': { version: VERSION },
      'node_modules/@duckdb/node-bindings': { version: VERSION },
      'node_modules/detect-libc': { version: '2.1.2' },
      'node_modules/@duckdb/node-bindings-linux-x64': binding('x64'),
      'node_modules/@duckdb/node-bindings-linux-arm64': binding('arm64'),
    },
  });
  writeJson(join(root, 'node_modules/@duckdb/node-api/package.json'), { name: '@duckdb/node-api', version: VERSION });
  writeFileSync(join(root, 'node_modules/@duckdb/node-api/index.js'), 'module.exports = {};');
  writeJson(join(root, 'node_modules/@duckdb/node-bindings/package.json'), { name: '@duckdb/node-bindings', version: VERSION });
  writeJson(join(root, 'node_modules/detect-libc/package.json'), { name: 'detect-libc', version: '2.1.2' });
  if (options.x64Installed) {
    writeJson(join(root, 'node_modules/@duckdb/node-bindings-linux-x64/package.json'), { version: VERSION });
    writeFileSync(join(root, 'node_modules/@duckdb/node-bindings-linux-x64/duckdb.node'), 'x64 binary');
  }
}

/** Stands in for npm: installs the binding the way `npm ci` would, and records how it was asked. */
function fakeNpm(calls: { args: string[]; cwd: string }[]): RunNpm {
  return (args, cwd) => {
    calls.push({ args, cwd });
    const lock = JSON.parse(readFileSync(join(cwd, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    const [key, entry] = Object.entries(lock.packages).find(([k]) => k.startsWith('node_modules/'))!;
    writeJson(join(cwd, key, 'package.json'), { version: entry.version });
    writeFileSync(join(cwd, key, 'duckdb.node'), 'fetched binary');
  };
}

describe('bundling DuckDB into the Lambda asset', () => {
  let root: string;
  let out: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'okta-lake-duckdb-project-'));
    out = mkdtempSync(join(tmpdir(), 'okta-lake-duckdb-asset-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('copies the locally installed binding when it is the Lambda’s CPU, without npm', () => {
    // Prepare
    fakeProject(root, { x64Installed: true });
    const calls: { args: string[]; cwd: string }[] = [];
    // Act
    const resolved = prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'x64', runNpm: fakeNpm(calls) });
    // Assess
    expect(calls).toEqual([]);
    expect(resolved.fetch).toBe(false);
    expect(readFileSync(join(out, 'node_modules/@duckdb/node-bindings-linux-x64/duckdb.node'), 'utf8')).toBe('x64 binary');
    for (const pkg of ['@duckdb/node-api', '@duckdb/node-bindings', 'detect-libc']) expect(existsSync(join(out, 'node_modules', pkg, 'package.json'))).toBe(true);
    expect(existsSync(join(root, CACHE_DIR))).toBe(false);
  });

  it('fetches the other CPU’s binding once, pinned to the locked version and integrity, then reuses it', () => {
    // Prepare
    fakeProject(root, { x64Installed: true });
    const calls: { args: string[]; cwd: string }[] = [];
    // Act
    prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'arm64', runNpm: fakeNpm(calls) });
    prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'arm64', runNpm: fakeNpm(calls) });
    // Assess: npm ran once, for Linux arm64, in a folder under the cache.
    expect(calls).toHaveLength(1);
    expect(calls[0].args).toEqual(npmFetchCommand('arm64'));
    expect(calls[0].args).toEqual(expect.arrayContaining(['ci', '--os=linux', '--cpu=arm64', '--libc=glibc', '--ignore-scripts']));
    expect(relative(join(root, CACHE_DIR), calls[0].cwd).startsWith('..')).toBe(false);
    const cache = bindingCacheDir(root, 'arm64', VERSION);
    const lock = JSON.parse(readFileSync(join(cache, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    expect(lock.packages['node_modules/@duckdb/node-bindings-linux-arm64']).toMatchObject({ version: VERSION, integrity: `${INTEGRITY}arm64`, optional: true });
    const manifest = JSON.parse(readFileSync(join(cache, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.optionalDependencies).toEqual({ '@duckdb/node-bindings-linux-arm64': VERSION });
    expect(readFileSync(join(out, 'node_modules/@duckdb/node-bindings-linux-arm64/duckdb.node'), 'utf8')).toBe('fetched binary');
    expect(existsSync(join(out, 'node_modules/@duckdb/node-bindings-linux-x64'))).toBe(false);
  });

  it('leaves no cache behind when the fetch fails, and says what failed', () => {
    // Prepare
    fakeProject(root, { x64Installed: false });
    const failing: RunNpm = () => {
      throw new DuckDbBundlingError('npm ci failed with exit code 1');
    };
    // Act / Assess
    expect(() => prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'arm64', runNpm: failing })).toThrow(/npm ci failed/);
    expect(readdirSync(join(root, CACHE_DIR))).toEqual([]);
    expect(resolveDuckDbSources(root, 'arm64').fetch).toBe(true);
  });

  it('refuses to bundle JavaScript packages that differ from the lock file', () => {
    fakeProject(root, { x64Installed: true });
    writeJson(join(root, 'node_modules/@duckdb/node-api/package.json'), { version: '0.0.1' });
    expect(() => prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'x64' })).toThrow(/@duckdb\/node-api@9\.9\.9-r\.1 is not installed .* \(found 0\.0\.1\): run npm ci/);
  });

  it('refuses an unknown CPU', () => {
    fakeProject(root, { x64Installed: true });
    expect(() => resolveDuckDbSources(root, 'sparc' as 'x64')).toThrow(/cpu must be one of arm64, x64/);
  });

  it('pins the versions this project installed', () => {
    const pinned = lockedDuckDbPackages(PROJECT_ROOT, 'arm64');
    const installed = JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules/@duckdb/node-api/package.json'), 'utf8')) as { version: string };
    expect(pinned.api.version).toBe(installed.version);
    expect(pinned.binding).toMatchObject({ name: '@duckdb/node-bindings-linux-arm64', version: installed.version, integrity: expect.stringMatching(/^sha512-/) });
  });
});
