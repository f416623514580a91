/**
 * Cold start of the bundled ingestion function: synthesizes the stack for this machine's CPU (so the
 * asset carries the DuckDB binding that can load here), then, in fresh Node processes started from
 * the asset folder, times the handler's module load and the first DuckDB connection.
 *
 *   npx tsx bench/cold-start.ts [runs=7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { synth } from '../test/infra/support';

export interface ColdStartResult {
  readonly runs: number;
  readonly moduleLoadMs: number;
  readonly firstConnectionMs: number;
  readonly totalMs: number;
  readonly assetBytes: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchColdStart(runs = 7): Promise<ColdStartResult> {
  const outdir = mkdtempSync(join(tmpdir(), 'okta-lake-coldstart-'));
  try {
    const arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
    const s = synth({ orgs: [{ host: 'acme.okta.com', auth: 'ssws' }], lambdaArchitecture: arch }, { bundle: true, outdir });
    const manifest = JSON.parse(readFileSync(join(outdir, `${s.stack.artifactId}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const dirs = Object.values(manifest.files).filter((f) => f.source.packaging === 'zip');
    const assetDir = dirs
      .map((f) => join(outdir, f.source.path))
      .find((d) => {
        try {
          return readFileSync(join(d, 'index.mjs'), 'utf8').includes('okta-lake') && execFileSync('ls', [join(d, 'node_modules', '@duckdb')]).length > 0;
        } catch {
          return false;
        }
      });
    if (!assetDir) throw new Error('no ingestion asset with DuckDB found in the cloud assembly');
    const assetBytes = Number(execFileSync('du', ['-sb', assetDir]).toString().split('\t')[0]);
    const samples: { moduleLoadMs: number; firstConnectionMs: number; totalMs: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(process.execPath, [resolve('bench/cold-start-child.mjs'), assetDir], { cwd: assetDir, env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' } });
      samples.push(JSON.parse(out.toString().trim()));
    }
    return {
      runs,
      moduleLoadMs: median(samples.map((x) => x.moduleLoadMs)),
      firstConnectionMs: median(samples.map((x) => x.firstConnectionMs)),
      totalMs: median(samples.map((x) => x.totalMs)),
      assetBytes,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchColdStart(Number(process.argv[2] ?? 7)));
}
