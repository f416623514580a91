// Bundles the okta-lake CLI into dist/okta-lake.mjs (the package's `bin`). Native and AWS SDK
// packages stay external: they are installed beside it by npm.
import { build } from 'esbuild';

await build({
  entryPoints: ['lib/cli/main.ts'],
  outfile: 'dist/okta-lake.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
