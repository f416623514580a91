/** Types of bundle-duckdb.mjs (plain JavaScript so that the bundling hook runs it with bare `node`). */
export type DuckDbCpu = 'arm64' | 'x64';

export declare const CACHE_DIR: string;

export declare class DuckDbBundlingError extends Error {
  constructor(message: string, options?: { cause?: unknown });
}

export interface PinnedPackage {
  readonly name: string;
  readonly version: string;
}

export interface PinnedBinding extends PinnedPackage {
  readonly integrity?: string;
  readonly os?: string[];
  readonly cpu?: string[];
  readonly libc?: string[];
  readonly license?: string;
}

export interface PinnedDuckDbPackages {
  readonly api: PinnedPackage;
  readonly bindings: PinnedPackage;
  readonly detectLibc: PinnedPackage;
  readonly binding: PinnedBinding;
}

export interface ResolvedDuckDbSources {
  /** Package name to the folder it is copied from. */
  readonly sources: Record<string, string>;
  /** True when the binding must be fetched before copying. */
  readonly fetch: boolean;
  readonly pinned: PinnedDuckDbPackages;
  readonly cacheRoot: string;
}

export type RunNpm = (args: string[], cwd: string) => void;

export declare function bindingPackageName(cpu: DuckDbCpu): string;
export declare function lockedDuckDbPackages(projectRoot: string, cpu: DuckDbCpu): PinnedDuckDbPackages;
export declare function bindingCacheDir(projectRoot: string, cpu: DuckDbCpu, version: string): string;
export declare function resolveDuckDbSources(projectRoot: string, cpu: DuckDbCpu): ResolvedDuckDbSources;
export declare function npmFetchCommand(cpu: DuckDbCpu): string[];
export declare function fetchBinding(
  projectRoot: string,
  cpu: DuckDbCpu,
  pinned: PinnedDuckDbPackages,
  cacheRoot: string,
  runNpm?: RunNpm,
): void;
/** The package the asset's DuckDB API is bundled into. */
export declare const API_PACKAGE: '@duckdb/node-api';

export declare function commonJsExportNames(packageDir: string): string[];
export declare function bundleDuckDbApi(options: {
  sources: Record<string, string>;
  pinned: PinnedDuckDbPackages;
  outDir: string;
}): { exports: string[] };

export interface PreparedDuckDbAsset extends ResolvedDuckDbSources {
  /** The named exports of the bundled `@duckdb/node-api` (besides `default`). */
  readonly exports: string[];
}

export declare function prepareDuckDbAsset(options: {
  projectRoot: string;
  outDir: string;
  cpu: DuckDbCpu;
  runNpm?: RunNpm;
}): PreparedDuckDbAsset;
