/** The test kit is for tests and the bench only: production code never imports it. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|mts|mjs|js)$/.test(e.name) ? [path] : [];
  });
}

describe('testkit', () => {
  it('is imported by nothing in lib/, lambdas/ or bin/', () => {
    const importing = ['lib', 'lambdas', 'bin']
      .flatMap((d) => sources(join(ROOT, d)))
      .filter((f) => /from\s+'[^']*testkit\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(importing).toEqual([]);
  });
});
