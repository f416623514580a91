#!/usr/bin/env node
// Puts DuckDB, with the native binding for the Lambda's CPU, next to the bundled ingestion function,
// whatever OS and CPU the deployer runs:
//
//   node bundle-duckdb.mjs --project <dir with package-lock.json> --out <asset dir> --cpu arm64|x64
//
// The asset gets two packages under node_modules/@duckdb/:
//  - `node-api`: DuckDB's JavaScript API (`@duckdb/node-api`, `@duckdb/node-bindings` and `detect-libc`,
//    at the versions package-lock.json pins) bundled by esbuild into ONE ES module, `index.mjs`, with
//    the same named exports. The published packages are ~60 CommonJS files: Node resolves, reads and
//    (for an `import`) lexes each of them, which made up most of the function's cold start (measured
//    in bench/cold-start.ts). Their licence texts go along (LICENSE, THIRD-PARTY-NOTICES).
//  - `node-bindings-linux-<cpu>`: the native library, copied as is from the project's node_modules when
//    npm installed it (a Linux host of that CPU); otherwise fetched once, at the version and integrity
//    pinned in package-lock.json, into node_modules/.cache/okta-lake/ and reused.
//
// Plain JavaScript run by `node` so that the NodejsFunction `afterBundling` hook works the same from
// bash and from cmd.exe. Types for the exports: bundle-duckdb.d.mts.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CACHE_DIR = join('node_modules', '.cache', 'okta-lake');
const CPUS = ['arm64', 'x64'];

export class DuckDbBundlingError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'DuckDbBundlingError';
  }
}

export function bindingPackageName(cpu) {
  if (!CPUS.includes(cpu)) throw new DuckDbBundlingError(`cpu must be one of ${CPUS.join(', ')} (got "${cpu}")`);
  return `@duckdb/node-bindings-linux-${cpu}`;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function lockEntry(lock, name) {
  const entry = lock.packages?.[`node_modules/${name}`];
  if (!entry?.version) throw new DuckDbBundlingError(`package-lock.json has no entry for ${name}: run npm install`);
  return entry;
}

/** Versions (and the binding's lock entry) pinned by the project's package-lock.json. */
export function lockedDuckDbPackages(projectRoot, cpu) {
  const lock = readJson(join(projectRoot, 'package-lock.json'));
  const binding = bindingPackageName(cpu);
  return {
    api: { name: '@duckdb/node-api', version: lockEntry(lock, '@duckdb/node-api').version },
    bindings: { name: '@duckdb/node-bindings', version: lockEntry(lock, '@duckdb/node-bindings').version },
    detectLibc: { name: 'detect-libc', version: lockEntry(lock, 'detect-libc').version },
    binding: { name: binding, ...lockEntry(lock, binding) },
  };
}

function installedVersion(dir) {
  const manifest = join(dir, 'package.json');
  return existsSync(manifest) ? readJson(manifest).version : undefined;
}

function requireInstalled(projectRoot, { name, version }) {
  const dir = join(projectRoot, 'node_modules', name);
  const found = installedVersion(dir);
  if (found !== version) {
    throw new DuckDbBundlingError(`${name}@${version} is not installed in ${join(projectRoot, 'node_modules')} (found ${found ?? 'none'}): run npm ci`);
  }
  return dir;
}

function bindingIsComplete(dir, version) {
  return installedVersion(dir) === version && existsSync(join(dir, 'duckdb.node'));
}

/** The cache folder holding one fetched binding version. */
export function bindingCacheDir(projectRoot, cpu, version) {
  return join(projectRoot, CACHE_DIR, `duckdb-${version}-linux-${cpu}`);
}

/**
 * Where each package comes from. `fetch` is true when the binding is neither installed nor cached.
 */
export function resolveDuckDbSources(projectRoot, cpu) {
  const pinned = lockedDuckDbPackages(projectRoot, cpu);
  const sources = {
    [pinned.api.name]: requireInstalled(projectRoot, pinned.api),
    [pinned.bindings.name]: requireInstalled(projectRoot, pinned.bindings),
    [pinned.detectLibc.name]: requireInstalled(projectRoot, pinned.detectLibc),
  };
  const local = join(projectRoot, 'node_modules', pinned.binding.name);
  const cacheRoot = bindingCacheDir(projectRoot, cpu, pinned.binding.version);
  const cached = join(cacheRoot, 'node_modules', pinned.binding.name);
  if (bindingIsComplete(local, pinned.binding.version)) {
    return { sources: { ...sources, [pinned.binding.name]: local }, fetch: false, pinned, cacheRoot };
  }
  return { sources: { ...sources, [pinned.binding.name]: cached }, fetch: !bindingIsComplete(cached, pinned.binding.version), pinned, cacheRoot };
}

/** The npm invocation that installs exactly the pinned binding (version and integrity) into `dir`. */
export function npmFetchCommand(cpu) {
  return ['ci', '--os=linux', `--cpu=${cpu}`, '--libc=glibc', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
}

function defaultRunNpm(args, cwd) {
  // The test suite sets OKTA_LAKE_OFFLINE=1: a test that would download a binding fails instead.
  if (process.env.OKTA_LAKE_OFFLINE === '1') {
    throw new DuckDbBundlingError(`refusing to run npm ${args.join(' ')} (downloads a DuckDB binding) while OKTA_LAKE_OFFLINE=1`);
  }
  // Under `npx cdk`, npm_execpath is npm's own CLI script: running it with node works on every OS.
  const npmCli = process.env.npm_execpath;
  const result =
    npmCli && /npm-cli\.js$/.test(npmCli)
      ? spawnSync(process.execPath, [npmCli, ...args], { cwd, stdio: ['ignore', 'inherit', 'inherit'] })
      : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' });
  if (result.error) throw new DuckDbBundlingError(`could not run npm: ${result.error.message}`, { cause: result.error });
  if (result.status !== 0) throw new DuckDbBundlingError(`npm ${args.join(' ')} failed with exit code ${result.status}`);
}

/** Fetches the pinned binding into its cache folder (atomically: a failed fetch leaves no cache). */
export function fetchBinding(projectRoot, cpu, pinned, cacheRoot, runNpm = defaultRunNpm) {
  const { name, version, integrity, os, cpu: cpus, libc, license } = pinned.binding;
  const parent = dirname(cacheRoot);
  mkdirSync(parent, { recursive: true });
  const work = mkdtempSync(join(parent, '.fetch-'));
  try {
    // An optional dependency: npm checks a direct one against the host's platform (EBADPLATFORM),
    // but selects optional ones by --os/--cpu/--libc, which name the Lambda's platform.
    const manifest = { name: 'okta-lake-duckdb-binding', version: '0.0.0', private: true, optionalDependencies: { [name]: version } };
    writeFileSync(join(work, 'package.json'), JSON.stringify(manifest, null, 2));
    const lock = {
      name: manifest.name,
      version: manifest.version,
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: manifest.name, version: manifest.version, optionalDependencies: manifest.optionalDependencies },
        [`node_modules/${name}`]: { version, integrity, os, cpu: cpus, libc, license, optional: true },
      },
    };
    writeFileSync(join(work, 'package-lock.json'), JSON.stringify(lock, null, 2));
    runNpm(npmFetchCommand(cpu), work);
    if (!bindingIsComplete(join(work, 'node_modules', name), version)) {
      throw new DuckDbBundlingError(`npm did not install ${name}@${version} with its duckdb.node`);
    }
    rmSync(cacheRoot, { recursive: true, force: true });
    renameSync(work, cacheRoot);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error instanceof DuckDbBundlingError
      ? error
      : new DuckDbBundlingError(`could not fetch ${name}@${version}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** The package the asset's DuckDB API is bundled into (the name the ingestion bundle imports). */
export const API_PACKAGE = '@duckdb/node-api';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function resolveRelative(fromFile, specifier) {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.js`, join(base, 'index.js')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new DuckDbBundlingError(`cannot find "${specifier}" required by ${fromFile}`);
}

/**
 * The names a CommonJS package exports, read from its source the way Node's CommonJS lexer sees
 * TypeScript's CommonJS output: `exports.name = ...`, `Object.defineProperty(exports, "name", ...)`,
 * and `__exportStar(require("./file"), exports)` followed into the file. `default` and `__esModule`
 * are left out: in the bundle, `default` is the whole `module.exports`, as Node makes it.
 */
export function commonJsExportNames(packageDir) {
  const manifest = readJson(join(packageDir, 'package.json'));
  const entry = resolveRelative(join(packageDir, 'package.json'), `./${manifest.main ?? 'index.js'}`);
  const names = new Set();
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bexports\.([A-Za-z_$][\w$]*)\s*=[^=]/g)) names.add(m[1]);
    for (const m of text.matchAll(/Object\.defineProperty\(\s*exports\s*,\s*["']([^"']+)["']/g)) names.add(m[1]);
    for (const m of text.matchAll(/__exportStar\(\s*require\(\s*["'](\.[^"']*)["']\s*\)/g)) visit(resolveRelative(file, m[1]));
  };
  visit(entry);
  names.delete('default');
  names.delete('__esModule');
  return [...names].filter((n) => IDENTIFIER.test(n)).sort();
}

function loadEsbuild() {
  // esbuild is the project's own (NodejsFunction bundles with it too), found from this script.
  try {
    return createRequire(import.meta.url)('esbuild');
  } catch (cause) {
    throw new DuckDbBundlingError('esbuild is not installed next to this script: run npm ci', { cause });
  }
}

function licenceNotice(name, dir) {
  const manifest = readJson(join(dir, 'package.json'));
  const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'LICENCE'].map((f) => join(dir, f)).find((f) => existsSync(f));
  const text = file ? readFileSync(file, 'utf8').trim() : `Licensed under ${manifest.license} (the package ships no licence file).`;
  return `${name}@${manifest.version} (${manifest.license})\n\n${text}\n`;
}

/**
 * Bundles `@duckdb/node-api` with its JavaScript dependencies into `<outDir>/node_modules/@duckdb/node-api/index.mjs`
 * (an ES module with the same named exports, the native binding package left external), with a
 * package.json that points at it and the licence texts of what went in.
 */
export function bundleDuckDbApi({ sources, pinned, outDir }) {
  const apiDir = sources[pinned.api.name];
  const names = commonJsExportNames(apiDir);
  if (!names.includes('DuckDBInstance')) {
    throw new DuckDbBundlingError(`could not read the exports of ${pinned.api.name} in ${apiDir} (found ${names.length}, no DuckDBInstance)`);
  }
  const manifest = readJson(join(apiDir, 'package.json'));
  const main = resolveRelative(join(apiDir, 'package.json'), `./${manifest.main ?? 'index.js'}`);
  const target = join(outDir, 'node_modules', API_PACKAGE);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const local = '__okta_lake_duckdb_api';
  const contents = [
    `const ${local} = require(${JSON.stringify(main)});`,
    `export default ${local};`,
    `export const { ${names.join(', ')} } = ${local};`,
    '',
  ].join('\n');
  const esbuild = loadEsbuild();
  try {
    esbuild.buildSync({
      stdin: { contents, resolveDir: apiDir, sourcefile: 'duckdb-node-api.mjs', loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      keepNames: true,
      legalComments: 'eof',
      // The native library stays a package of its own (one per CPU); the bindings pick it at run time.
      external: ['@duckdb/node-bindings-*'],
      // Lets the bindings' `require()` of the native library work inside an ES module.
      banner: { js: "import{createRequire as __oktaLakeRequire}from'node:module';const require=__oktaLakeRequire(import.meta.url);" },
      outfile: join(target, 'index.mjs'),
      logLevel: 'silent',
    });
  } catch (error) {
    throw new DuckDbBundlingError(`esbuild could not bundle ${pinned.api.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  writeFileSync(
    join(target, 'package.json'),
    `${JSON.stringify(
      {
        name: API_PACKAGE,
        version: pinned.api.version,
        description: `${pinned.api.name}@${pinned.api.version} with ${pinned.bindings.name}@${pinned.bindings.version} and ${pinned.detectLibc.name}@${pinned.detectLibc.version}, bundled into one ES module by okta-lake`,
        license: manifest.license,
        type: 'module',
        main: './index.mjs',
        exports: { '.': './index.mjs' },
      },
      null,
      2,
    )}\n`,
  );
  const apiLicence = join(apiDir, 'LICENSE');
  if (existsSync(apiLicence)) cpSync(apiLicence, join(target, 'LICENSE'));
  const notices = [pinned.bindings, pinned.detectLibc].map(({ name }) => licenceNotice(name, sources[name]));
  writeFileSync(join(target, 'THIRD-PARTY-NOTICES'), `Bundled into index.mjs besides ${pinned.api.name}:\n\n${notices.join('\n---\n\n')}`);
  return { exports: names };
}

/**
 * Writes `<outDir>/node_modules/@duckdb/`: the bundled JavaScript API and the native binding package
 * for `cpu`, fetching the binding first when needed.
 */
export function prepareDuckDbAsset({ projectRoot, outDir, cpu, runNpm }) {
  const root = resolve(projectRoot);
  let resolved = resolveDuckDbSources(root, cpu);
  if (resolved.fetch) {
    fetchBinding(root, cpu, resolved.pinned, resolved.cacheRoot, runNpm);
    resolved = resolveDuckDbSources(root, cpu);
  }
  const { name } = resolved.pinned.binding;
  const target = join(outDir, 'node_modules', name);
  rmSync(target, { recursive: true, force: true });
  cpSync(resolved.sources[name], target, { recursive: true, dereference: true });
  const { exports } = bundleDuckDbApi({ sources: resolved.sources, pinned: resolved.pinned, outDir });
  return { ...resolved, exports };
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    if (!['--project', '--out', '--cpu'].includes(flag) || argv[i + 1] === undefined) {
      throw new DuckDbBundlingError(`usage: bundle-duckdb.mjs --project <dir> --out <dir> --cpu arm64|x64 (bad argument "${flag}")`);
    }
    args[flag.slice(2)] = argv[i + 1];
  }
  if (!args.project || !args.out || !args.cpu) throw new DuckDbBundlingError('usage: bundle-duckdb.mjs --project <dir> --out <dir> --cpu arm64|x64');
  return args;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = parseArgs(process.argv.slice(2));
    prepareDuckDbAsset({ projectRoot: args.project, outDir: args.out, cpu: args.cpu });
  } catch (error) {
    process.stderr.write(`okta-lake: bundling DuckDB into the Lambda asset failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
