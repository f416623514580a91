// `node --import ./test/cli/import-recorder.mjs ...` appends every module the process imports
// (specifier and resolved URL, tab-separated, one per line) to the file named by
// OKTA_LAKE_IMPORT_LOG. Used by bundle.test.ts to see which packages the built CLI loads.
import { register } from 'node:module';

const log = process.env.OKTA_LAKE_IMPORT_LOG;
if (!log) throw new Error('import-recorder: set OKTA_LAKE_IMPORT_LOG to the file to append to');
register('./import-recorder-hooks.mjs', import.meta.url, { data: { log } });
