/**
 * The rooms of the codebase and what each may import (docs/shared engineering notes): no import
 * cycles anywhere; lib/core imports neither the AWS SDK, CDK, nor the adapters, CLI, constructs or
 * handlers; constructs do not import adapters.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildImportGraph,
  describeViolation,
  importCycles,
  layerViolations,
  type LayerRule,
  type Violation,
} from './support/import-graph';

const ROOT = join(import.meta.dirname, '..');
const ROOMS = ['lib', 'lambdas', 'bin', 'testkit'];

const CORE_RULE: LayerRule = {
  name: 'lib/core stays free of AWS, CDK and outer rooms',
  from: 'lib/core/',
  forbiddenPackages: ['@aws-sdk/', 'aws-cdk-lib', 'constructs'],
  forbiddenFolders: ['lib/adapters/', 'lib/cli/', 'lib/constructs/', 'lambdas/'],
};

const CONSTRUCTS_RULE: LayerRule = {
  name: 'constructs do not import adapters',
  from: 'lib/constructs/',
  forbiddenPackages: [],
  forbiddenFolders: ['lib/adapters/'],
};

const key = (v: Violation): string => `${v.from} -> ${v.target ?? v.specifier}`;

describe('architecture', () => {
  const graph = buildImportGraph(ROOT, ROOMS);

  it('reads the whole tree', () => {
    expect(graph.files.length).toBeGreaterThan(100);
    expect(graph.edges.some((e) => e.from.startsWith('lambdas/'))).toBe(true);
  });

  it('has no import cycles', () => {
    expect(importCycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('keeps lib/core free of the AWS SDK, CDK, adapters, CLI, constructs and handlers', () => {
    expect(layerViolations(graph, [CORE_RULE]).map(describeViolation)).toEqual([]);
  });

  it('keeps constructs from importing adapters', () => {
    expect(layerViolations(graph, [CONSTRUCTS_RULE]).map(describeViolation)).toEqual([]);
  });
});

describe('the checker, on a planted fixture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'okta-lake-arch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const plant = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  plant('lib/core/a.ts', "import { b } from './b';\nexport const a = () => b;\n");
  plant('lib/core/b.ts', "import type { A } from './a';\nexport const b = 1;\nexport type B = A;\n");
  plant('lib/core/uses-adapter.ts', "export { s3 } from '../adapters';\n");
  plant('lib/core/uses-sdk.ts', "const m = () => import('@aws-sdk/client-s3');\nexport { m };\n");
  plant('lib/adapters/index.ts', "import { a } from '../core/a';\nexport const s3 = a;\n");
  plant('lib/constructs/table.ts', "import { s3 } from '../adapters/index';\nexport const t = s3;\n");
  plant('lib/ok.ts', "import { b } from './core/b';\nexport const ok = b;\n");
  const graph = buildImportGraph(dir, ['lib']);

  it('resolves x to x.ts and x/index.ts, and counts import type, export-from and import()', () => {
    expect(graph.edges).toContainEqual({ from: 'lib/core/b.ts', specifier: './a', target: 'lib/core/a.ts' });
    expect(graph.edges).toContainEqual({
      from: 'lib/core/uses-adapter.ts',
      specifier: '../adapters',
      target: 'lib/adapters/index.ts',
    });
    expect(graph.edges).toContainEqual({ from: 'lib/core/uses-sdk.ts', specifier: '@aws-sdk/client-s3' });
  });

  it('fails on the planted two-file cycle, naming it', () => {
    expect(importCycles(graph).map((c) => c.join(' -> '))).toEqual(['lib/core/a.ts -> lib/core/b.ts -> lib/core/a.ts']);
  });

  it('reports a bigger component with one concrete cycle path', () => {
    plant('lib/x/one.ts', "import './two';\n");
    plant('lib/x/two.ts', "import './three';\n");
    plant('lib/x/three.ts', "import './one';\nimport './two';\n");
    const cycles = importCycles(buildImportGraph(dir, ['lib/x']));
    expect(cycles).toEqual([['lib/x/one.ts', 'lib/x/two.ts', 'lib/x/three.ts', 'lib/x/one.ts']]);
  });

  it('fails on core -> adapter and core -> SDK, naming the import', () => {
    expect(layerViolations(graph, [CORE_RULE]).map(describeViolation)).toEqual([
      `${CORE_RULE.name}: lib/core/uses-adapter.ts imports '../adapters' (lib/adapters/index.ts)`,
      `${CORE_RULE.name}: lib/core/uses-sdk.ts imports '@aws-sdk/client-s3'`,
    ]);
  });

  it('fails on constructs -> adapter', () => {
    expect(layerViolations(graph, [CONSTRUCTS_RULE]).map(key)).toEqual([
      'lib/constructs/table.ts -> lib/adapters/index.ts',
    ]);
  });
});
