// Runs in a fresh Node process from the bundled ingestion asset's folder, as the Lambda runtime would:
// times the module load of the handler and the first DuckDB connection, prints them as JSON.
// Usage: node bench/cold-start-child.mjs <asset dir>
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const assetDir = process.argv[2];
const t0 = performance.now();
await import(pathToFileURL(join(assetDir, 'index.mjs')).href);
const t1 = performance.now();
const require = createRequire(join(assetDir, 'index.mjs'));
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);
const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const connection = await instance.connect();
await connection.run('SELECT 1');
const t2 = performance.now();
process.stdout.write(`${JSON.stringify({ moduleLoadMs: t1 - t0, firstConnectionMs: t2 - t1, totalMs: t2 - t0 })}\n`);
connection.closeSync();
process.exit(0);
