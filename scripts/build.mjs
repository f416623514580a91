// Bundles the okta-lake CLI into dist/okta-lake.mjs (the package's `bin`). Native and AWS SDK
// packages stay external: they are installed beside it by npm.
//
// Code splitting keeps the CLI's dynamic imports dynamic: the S3 sink (and with it the AWS SDK) is
// a chunk of its own under <out>/chunks/, loaded only when a command writes to an s3:// target. A
// single-file bundle would hoist it into the entry and load the SDK on every start.
//
// Usage: node scripts/build.mjs [outDir]   (default dist; the tests build into a scratch folder,
// which must lie inside the project so that the external packages resolve from node_modules).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const outDir = process.argv[2] ?? 'dist';
const ENTRY = 'okta-lake';
const CHUNKS = 'chunks';

// Chunk names carry a content hash: remove the previous build's output so that chunks do not pile up.
rmSync(join(outDir, CHUNKS), { recursive: true, force: true });
rmSync(join(outDir, `${ENTRY}.mjs`), { force: true });

await build({
  entryPoints: { [ENTRY]: 'lib/cli/main.ts' },
  outdir: outDir,
  outExtension: { '.js': '.mjs' },
  chunkNames: `${CHUNKS}/[name]-[hash]`,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // A hashbang is valid at the start of any ES module, so the chunks may carry it too.
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
