// Runs in a fresh Node process from the bundled ingestion asset's folder, as the Lambda runtime would:
// times the module load of the handler and the first DuckDB connection (through the asset's own
// @duckdb/node-api, the module the handler imports), prints them as JSON. `cpuMs` is the process's
// CPU time (user + system, all threads) over the same span: on a busy machine it varies less than the
// wall-clock figures, which are what the bench reports.
// Usage: node bench/cold-start-child.mjs <asset dir>
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const assetDir = process.argv[2];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await import(pathToFileURL(join(assetDir, 'index.mjs')).href);
const t1 = performance.now();
const require = createRequire(join(assetDir, 'index.mjs'));
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);
const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const connection = await instance.connect();
await connection.run('SELECT 1');
const t2 = performance.now();
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ moduleLoadMs: t1 - t0, firstConnectionMs: t2 - t1, totalMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
connection.closeSync();
process.exit(0);
