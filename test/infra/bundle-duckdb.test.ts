import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  API_PACKAGE,
  CACHE_DIR,
  DuckDbBundlingError,
  bindingCacheDir,
  commonJsExportNames,
  lockedDuckDbPackages,
  npmFetchCommand,
  prepareDuckDbAsset,
  resolveDuckDbSources,
  type RunNpm,
} from '../../lib/constructs/bundle-duckdb.mjs';
import { PROJECT_ROOT } from '../../lib/constructs/lambda-defaults';

const VERSION = '9.9.9-r.1';
const INTEGRITY = 'sha512-pinnedintegrityvalue==';

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

/**
 * A project with DuckDB's JavaScript packages installed (small CommonJS stand-ins written the way
 * TypeScript emits them, as the real ones are) and, optionally, the x64 binding.
 */
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
  const api = join(root, 'node_modules/@duckdb/node-api');
  writeJson(join(api, 'package.json'), { name: '@duckdb/node-api', version: VERSION, main: './lib/index.js', license: 'MIT' });
  writeFileSync(join(api, 'LICENSE'), 'api licence text');
  writeFile(
    join(api, 'lib/index.js'),
    [
      '"use strict";',
      'var __exportStar = function (m, exports) { for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) exports[p] = m[p]; };',
      'Object.defineProperty(exports, "__esModule", { value: true });',
      'exports.default = require("./duckdb");',
      '__exportStar(require("./duckdb"), exports);',
    ].join('\n'),
  );
  writeFile(
    join(api, 'lib/duckdb.js'),
    [
      '"use strict";',
      'Object.defineProperty(exports, "__esModule", { value: true });',
      'exports.DuckDBInstance = exports.bindingVersion = void 0;',
      'const bindings = require("@duckdb/node-bindings");',
      'exports.bindingVersion = bindings.version;',
      'class DuckDBInstance { static create() { return "instance on " + bindings.platform; } }',
      'exports.DuckDBInstance = DuckDBInstance;',
      'Object.defineProperty(exports, "libc", { enumerable: true, get: function () { return bindings.libc; } });',
    ].join('\n'),
  );
  const bindings = join(root, 'node_modules/@duckdb/node-bindings');
  writeJson(join(bindings, 'package.json'), { name: '@duckdb/node-bindings', version: VERSION, main: './duckdb.js', license: 'MIT' });
  writeFile(
    join(bindings, 'duckdb.js'),
    'const { familySync } = require("detect-libc");\nmodule.exports = { ...require(`@duckdb/node-bindings-linux-${process.arch}/binding.js`), libc: familySync() };',
  );
  const libc = join(root, 'node_modules/detect-libc');
  writeJson(join(libc, 'package.json'), { name: 'detect-libc', version: '2.1.2', main: './index.js', license: 'Apache-2.0' });
  writeFileSync(join(libc, 'index.js'), 'exports.familySync = () => "glibc";');
  writeFileSync(join(libc, 'LICENSE'), 'detect-libc licence text');
  if (options.x64Installed) {
    writeJson(join(root, 'node_modules/@duckdb/node-bindings-linux-x64/package.json'), { version: VERSION });
    writeFileSync(join(root, 'node_modules/@duckdb/node-bindings-linux-x64/duckdb.node'), 'x64 binary');
    writeFileSync(join(root, 'node_modules/@duckdb/node-bindings-linux-x64/binding.js'), 'module.exports = { version: "x64 binding", platform: "linux-x64" };');
  }
}

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Imports the bundled API from the asset folder in a fresh Node process (nothing of the project around). */
function importBundledApi(outDir: string): { named: Record<string, unknown>; defaultKeys: string[] } {
  const script = [
    `const api = await import(${JSON.stringify(pathToFileURL(join(outDir, 'node_modules/@duckdb/node-api/index.mjs')).href)});`,
    'const named = Object.fromEntries(Object.entries(api).filter(([k]) => k !== "default").map(([k, v]) => [k, typeof v === "function" ? v.create() : v]));',
    'console.log(JSON.stringify({ named, defaultKeys: Object.keys(api.default).sort() }));',
  ].join('\n');
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: outDir }).toString()) as { named: Record<string, unknown>; defaultKeys: string[] };
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
    expect(existsSync(join(root, CACHE_DIR))).toBe(false);
  });

  it('bundles the JavaScript API into one ES module with the package’s named exports, next to the binding only', () => {
    // Prepare
    fakeProject(root, { x64Installed: true });
    // Act
    const resolved = prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'x64', runNpm: fakeNpm([]) });
    // Assess: two packages; the bindings and detect-libc are inside the bundle, not beside it.
    expect(readdirSync(join(out, 'node_modules'))).toEqual(['@duckdb']);
    expect(readdirSync(join(out, 'node_modules/@duckdb')).sort()).toEqual(['node-api', 'node-bindings-linux-x64']);
    expect(resolved.exports).toEqual(['DuckDBInstance', 'bindingVersion', 'libc']);
    const manifest = JSON.parse(readFileSync(join(out, 'node_modules', API_PACKAGE, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: API_PACKAGE, version: VERSION, type: 'module', main: './index.mjs', exports: { '.': './index.mjs' }, license: 'MIT' });
    expect(readdirSync(join(out, 'node_modules', API_PACKAGE)).sort()).toEqual(['LICENSE', 'THIRD-PARTY-NOTICES', 'index.mjs', 'package.json']);
    // Loaded from the asset folder, it finds the binding package for this CPU at run time.
    const api = importBundledApi(out);
    expect(api.named).toEqual({ DuckDBInstance: 'instance on linux-x64', bindingVersion: 'x64 binding', libc: 'glibc' });
    expect(api.defaultKeys).toEqual(['DuckDBInstance', 'bindingVersion', 'default', 'libc']);
    // The licences of what went into the bundle go along with it.
    expect(readFileSync(join(out, 'node_modules', API_PACKAGE, 'LICENSE'), 'utf8')).toBe('api licence text');
    const notices = readFileSync(join(out, 'node_modules', API_PACKAGE, 'THIRD-PARTY-NOTICES'), 'utf8');
    expect(notices).toContain(`@duckdb/node-bindings@${VERSION} (MIT)`);
    expect(notices).toContain('detect-libc@2.1.2 (Apache-2.0)\n\ndetect-libc licence text');
  });

  it('says so when the API has no DuckDBInstance export to bundle, or esbuild cannot bundle it', () => {
    // Prepare: an API whose exports this bundling cannot read.
    fakeProject(root, { x64Installed: true });
    writeFileSync(join(root, 'node_modules/@duckdb/node-api/lib/duckdb.js'), 'module.exports = require("@duckdb/node-bindings");');
    // Act / Assess
    expect(() => prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'x64' })).toThrow(/could not read the exports of @duckdb\/node-api .*no DuckDBInstance/);
    // Prepare: a dependency of the API that is not installed.
    fakeProject(root, { x64Installed: true });
    writeFileSync(join(root, 'node_modules/detect-libc/index.js'), 'module.exports = require("not-installed-anywhere");');
    // Act / Assess
    expect(() => prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'x64' })).toThrow(DuckDbBundlingError);
    expect(() => prepareDuckDbAsset({ projectRoot: root, outDir: out, cpu: 'x64' })).toThrow(/esbuild could not bundle @duckdb\/node-api: .*not-installed-anywhere/s);
  });

  it('reads the same export names from the installed @duckdb/node-api as Node does', async () => {
    // Act
    const read = commonJsExportNames(join(PROJECT_ROOT, 'node_modules/@duckdb/node-api'));
    const seenByNode = Object.keys(await import('@duckdb/node-api')).filter((k) => k !== 'default' && k !== '__esModule');
    // Assess
    expect(read).toEqual([...seenByNode].sort());
    expect(read).toContain('DuckDBInstance');
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
    expect(existsSync(join(out, 'node_modules', API_PACKAGE, 'index.mjs'))).toBe(true);
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
