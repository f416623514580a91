/**
 * Athena sees every org the lake holds. The Glue table projects `org` as an enum: a folder
 * `events/org=<label>/` outside it returns no rows, and says nothing. These tests synthesize the
 * stack from a configuration with ingested and query-only orgs, write a small lake with the real
 * writer (DuckDB, files) through the two paths that name org folders (the ingestion run, under the
 * labels the ingest function reads from the environment the stack gives it, and `okta-lake import
 * --org`), and check every `org=` folder against the synthesized `projection.org.values`.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSink } from '../../lib/adapters/local-sink';
import { importBytes } from '../../lib/cli/import-command';
import { INGEST_ENV } from '../../lib/config/ingest-contract';
import { partitionProjectionParameters } from '../../lib/constructs/catalog';
import { ConfigError } from '../../lib/core/errors';
import { fixtureEvents, fixturePage } from '../../lib/core/fixtures';
import { runIngest } from '../../lib/core/ingest/ingest';
import { EVENTS_PREFIX, parsePartitionKey } from '../../lib/core/layout';
import { parseOrg } from '../../lib/core/okta/org';
import type { LakeSink, PageWriter } from '../../lib/core/ports';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { readIngestSettings } from '../../lambdas/ingest/settings';
import { ManualClock } from '../../testkit/clock';
import { FakeSource, type FakeEvent } from '../../testkit/fakes';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { LAKE_TABLES } from '../../lib/core/compact/athena-view';
import { flatten, resourcesOfType, synth, type Synthesized } from './support';
import { HOUR } from '../../lib/core/time';

const DAY_START = '2024-03-11T06:00:00.000Z';

/** Two orgs ingested; one retired (its history was ingested while it was configured) and one import, kept queryable. */
const CONFIG = {
  orgs: [
    { host: 'acme.okta.com', auth: 'ssws' },
    { host: 'beta.oktapreview.com', auth: 'oauth' },
  ],
  queryOnlyOrgs: ['retired.okta.com', 'acme-old.okta.com'],
};
/** The org retired from `CONFIG` when it was still ingested. */
const RETIRED = 'retired.okta.com';
/** The label an export of an older org was imported under (`okta-lake import --org acme-old.okta.com`). */
const IMPORTED = 'acme-old.okta.com';

/** The Glue table's `org` projection and location template, as synthesized. */
function projectionOf(s: Synthesized): { orgs: string[]; template: string } {
  // The three tables (events/, late/, compacted/) project the same orgs; the events table is returned.
  const tables = resourcesOfType(s.json, 'AWS::Glue::Table').map(([, r]) => (r.Properties as { TableInput: { Name: string; Parameters: Record<string, unknown> } }).TableInput);
  expect(tables).toHaveLength(3);
  for (const t of tables) expect(t.Parameters['projection.org.values'], t.Name).toBe(tables[0].Parameters['projection.org.values']);
  const params = tables.find((t) => t.Name === LAKE_TABLES.events)!.Parameters;
  expect(params['projection.org.type']).toBe('enum');
  const bucketId = s.stack.getLogicalId(s.stack.storage.bucket.node.defaultChild as Parameters<typeof s.stack.getLogicalId>[0]);
  return { orgs: String(params['projection.org.values']).split(','), template: flatten(params['storage.location.template'], { [bucketId]: 'lake-bucket' }) };
}

/** The org labels the ingest function files events under: its settings, read from the environment the stack gives it. */
function ingestLabelsOf(s: Synthesized): string[] {
  const fn = s.json.Resources[s.stack.getLogicalId(s.stack.ingestion.function.node.defaultChild as Parameters<typeof s.stack.getLogicalId>[0])];
  const vars = (fn.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
  const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, flatten(v)]));
  expect(env[INGEST_ENV.orgs]).toBeDefined();
  return [...readIngestSettings(env).orgs.keys()];
}

/** The ingestion path: one run for `org` (the label `runIngest` is given, as the handler gives it) over a small window, through the real writer. */
async function ingestInto(sink: LakeSink, writer: PageWriter, org: string, seed: number): Promise<void> {
  const events = fixtureEvents(12, { seed, start: DAY_START, spacingMs: 10 * 60_000 }) as unknown as FakeEvent[];
  const result = await runIngest({
    org,
    source: new FakeSource(events, 5),
    writer,
    sink,
    store: new MemoryWatermarkStore(),
    owner: `test-${org}`,
    clock: new ManualClock(Date.parse(DAY_START) + 6 * HOUR),
    since: DAY_START,
    until: new Date(Date.parse(DAY_START) + 3 * HOUR).toISOString(),
  });
  expect(result.outcome).toBe('caught-up');
  expect(result.eventsWritten).toBe(events.length);
}

/**
 * The import path: `okta-lake import <file> --org <label>` writes the file's events under `label`.
 * The one call of `importBytes` in this file.
 */
async function importInto(sink: LakeSink, writer: PageWriter, org: string, seed: number): Promise<void> {
  const text = fixturePage(fixtureEvents(8, { seed, start: '2023-11-02T22:30:00.000Z', spacingMs: 15 * 60_000 }));
  const summary = await importBytes(new TextEncoder().encode(text), org, writer, sink, new Date('2024-03-12T00:00:00.000Z'));
  expect(summary.eventsWritten).toBe(8);
}

/** The `org=` folders of the lake's events, from the file system. */
function orgFolders(lake: string): string[] {
  return readdirSync(join(lake, EVENTS_PREFIX))
    .filter((name) => name.startsWith('org='))
    .map((name) => name.slice('org='.length))
    .sort();
}

/** The org folders Athena would not read: not in the table's `org` projection. */
function unprojected(folders: readonly string[], projected: readonly string[]): string[] {
  return folders.filter((org) => !projected.includes(org));
}

describe('the org projection covers every org folder ingestion and import write', () => {
  let work: string;
  let lake: string;
  let sink: LocalSink;
  let s: Synthesized;

  beforeAll(async () => {
    s = synth(CONFIG);
    work = mkdtempSync(join(tmpdir(), 'okta-lake-projection-'));
    lake = join(work, 'lake');
    sink = new LocalSink({ root: lake, fsync: false });
    const writer = await DuckDbParquetWriter.open({});
    try {
      // Prepare: the ingested orgs under the labels the deployed function uses, the retired org's
      // history as ingestion wrote it while it was configured, and an import.
      for (const [i, org] of ingestLabelsOf(s).entries()) await ingestInto(sink, writer, org, 100 * i);
      await ingestInto(sink, writer, parseOrg(RETIRED).host, 500);
      await importInto(sink, writer, IMPORTED, 700);
    } finally {
      await writer.close();
    }
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('projects the ingested orgs and the query-only ones; ingestion knows only the ingested', () => {
    // Act
    const { orgs } = projectionOf(s);
    // Assess
    expect(orgs).toEqual(['acme.okta.com', 'beta.oktapreview.com', RETIRED, IMPORTED]);
    expect(ingestLabelsOf(s)).toEqual(['acme.okta.com', 'beta.oktapreview.com']);
  });

  it('every org folder of the lake is in the projection, and every object sits where the projection looks', async () => {
    // Act
    const { orgs, template } = projectionOf(s);
    const folders = orgFolders(lake);
    const keys = await sink.list(`${EVENTS_PREFIX}/`);
    // Assess: the lake holds the four orgs (so the check is not vacuous) and Athena sees all of them.
    expect(folders).toEqual([...CONFIG.orgs.map((o) => o.host), RETIRED, IMPORTED].sort());
    expect(unprojected(folders, orgs)).toEqual([]);
    expect(keys.filter((k) => k.endsWith('.parquet')).length).toBeGreaterThanOrEqual(folders.length);
    for (const key of keys) {
      const { org, dt, hour } = parsePartitionKey(key);
      const location = template.replace('${org}', org!).replace('${dt}', dt!).replace('${hour}', hour!);
      expect(`s3://lake-bucket/${key}`.startsWith(location), key).toBe(true);
    }
  });

  it('reports an import under a label the configuration does not list', async () => {
    // Prepare: a second lake, with an import whose label nobody added to queryOnlyOrgs.
    const other = join(work, 'other');
    const otherSink = new LocalSink({ root: other, fsync: false });
    const writer = await DuckDbParquetWriter.open({});
    try {
      await ingestInto(otherSink, writer, 'acme.okta.com', 900);
      await importInto(otherSink, writer, 'unlisted.okta.com', 950);
    } finally {
      await writer.close();
    }
    // Act
    const missing = unprojected(orgFolders(other), projectionOf(s).orgs);
    // Assess
    expect(missing).toEqual(['unlisted.okta.com']);
  });

  it('reports the history of orgs removed from orgs without being moved to queryOnlyOrgs', () => {
    // Prepare: beta is removed from `orgs`, and the retired org dropped from `queryOnlyOrgs`.
    const forgotten = synth({ orgs: [CONFIG.orgs[0]], queryOnlyOrgs: [IMPORTED] });
    const moved = synth({ orgs: [CONFIG.orgs[0]], queryOnlyOrgs: ['beta.oktapreview.com', RETIRED, IMPORTED] });
    // Act / Assess
    expect(unprojected(orgFolders(lake), projectionOf(forgotten).orgs)).toEqual(['beta.oktapreview.com', RETIRED]);
    expect(unprojected(orgFolders(lake), projectionOf(moved).orgs)).toEqual([]);
  });
});

describe('the org projection refuses values that would project the wrong folders', () => {
  const base = { startDate: '2020-01-01', location: 's3://lake-bucket' };

  it.each([
    ['no org', [], /at least one org label/],
    ['a label holding the enum separator', ['acme.okta.com,beta.okta.com'], /not an org label of the lake/],
    ['an upper-case label', ['Acme.okta.com'], /not an org label of the lake/],
    ['a label twice', ['acme.okta.com', 'imported', 'acme.okta.com'], /"acme\.okta\.com" twice/],
  ] as [string, string[], RegExp][])('refuses %s', (_name, orgs, message) => {
    expect(() => partitionProjectionParameters({ ...base, orgs })).toThrow(ConfigError);
    expect(() => partitionProjectionParameters({ ...base, orgs })).toThrow(message);
  });
});
