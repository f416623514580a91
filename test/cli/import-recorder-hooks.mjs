// Module customization hooks for import-recorder.mjs (they run on Node's hooks thread).
import { appendFileSync } from 'node:fs';

let log;

export function initialize(data) {
  log = data.log;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(log, `${specifier}\t${resolved.url}\n`);
  return resolved;
}
