/**
 * Cold start of the bundled ingestion function: synthesizes the stack for this machine's CPU (so the
 * asset carries the DuckDB binding that can load here), then, in fresh Node processes started from
 * the asset folder with the function's environment, times the handler's module load and the first
 * DuckDB connection (bench/cold-start-child.mjs).
 *
 * One more process runs first and is not counted (it warms the file cache, as the other runs find it).
 * Figures are medians over `runs` processes; the spread (p25..p75) and the CPU time are reported too,
 * because on a shared machine the wall-clock time of a single process varies a lot.
 *
 *   npx tsx bench/cold-start.ts [runs=7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { functionAssetDir, logicalIdOf, synth } from '../test/infra/support';

export interface ColdStartResult {
  readonly runs: number;
  /** Medians over the runs. */
  readonly moduleLoadMs: number;
  readonly firstConnectionMs: number;
  readonly totalMs: number;
  /** Quartiles of the total. */
  readonly totalP25Ms: number;
  readonly totalP75Ms: number;
  /** Median CPU time (user + system) of module load and first connection. */
  readonly cpuMs: number;
  readonly assetBytes: number;
}

interface Sample {
  readonly moduleLoadMs: number;
  readonly firstConnectionMs: number;
  readonly totalMs: number;
  readonly cpuMs: number;
}

const quantile = (xs: number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const median = (xs: number[]): number => quantile(xs, 0.5);

/** The function's environment variables that are plain strings in the template (not CloudFormation references). */
function templateEnvironment(properties: unknown): Record<string, string> {
  const variables = (properties as { Environment?: { Variables?: Record<string, unknown> } } | undefined)?.Environment?.Variables ?? {};
  return Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export async function benchColdStart(runs = 7): Promise<ColdStartResult> {
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive integer, got ${runs}`);
  const outdir = mkdtempSync(join(tmpdir(), 'okta-lake-coldstart-'));
  try {
    const arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
    const s = synth({ orgs: [{ host: 'acme.okta.com', auth: 'ssws' }], lambdaArchitecture: arch }, { bundle: true, outdir });
    const fn = s.stack.ingestion.function;
    const assetDir = functionAssetDir(s, outdir, fn);
    const assetBytes = Number(execFileSync('du', ['-sb', assetDir]).toString().split('\t')[0]);
    // As on Lambda, the function's own variables (NODE_OPTIONS among them, when set) apply at load.
    const env = {
      ...templateEnvironment(s.json.Resources[logicalIdOf(s, fn)]?.Properties),
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const child = resolve('bench/cold-start-child.mjs');
    const once = (): Sample => JSON.parse(execFileSync(process.execPath, [child, assetDir], { cwd: assetDir, env }).toString().trim()) as Sample;
    once();
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) samples.push(once());
    const totals = samples.map((x) => x.totalMs);
    return {
      runs,
      moduleLoadMs: median(samples.map((x) => x.moduleLoadMs)),
      firstConnectionMs: median(samples.map((x) => x.firstConnectionMs)),
      totalMs: median(totals),
      totalP25Ms: quantile(totals, 0.25),
      totalP75Ms: quantile(totals, 0.75),
      cpuMs: median(samples.map((x) => x.cpuMs)),
      assetBytes,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchColdStart(Number(process.argv[2] ?? 7)));
}
