/**
 * `okta-lake compact` and `okta-lake verify` as a user runs them, on a folder and on S3 (s3rver),
 * and compaction through the S3 sink read back by SinkLakeIndex and the lake audit.
 */
import '../support/aws-env';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FileWatermarkStore } from '../../lib/adapters/file-watermark-store';
import { LocalSink } from '../../lib/adapters/local-sink';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { main, type CommandIo } from '../../lib/cli/main';
import { EXIT } from '../../lib/cli/output';
import { compactDay, lakeFilesOf } from '../../lib/core/compact';
import { SinkLakeIndex } from '../../lib/core/lake/lake-index';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { auditLake } from '../../testkit/lake-audit';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { DAY, ORG, dayEvents, hoursOf, textsOf, writePages } from './support';

function capture(): CommandIo & { out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  (stderr as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()));
  return { env: {}, stdout, stderr, out: () => out };
}

const endpoint = inject('s3Endpoint');
const client = createS3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
const bucket = `compact-${randomBytes(6).toString('hex')}`;
let writer: DuckDbParquetWriter;
let root: string;

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  writer = await DuckDbParquetWriter.open({});
  root = await mkdtemp(join(tmpdir(), 'okta-lake-compact-cli-'));
});

afterAll(async () => {
  client.destroy();
  await writer.close();
  await rm(root, { recursive: true, force: true });
});

describe('okta-lake compact / verify', () => {
  it.each(['compact', 'verify'])('%s --help explains the command and exits 0', async (command) => {
    const io = capture();
    expect(await main([command, '--help'], io)).toBe(EXIT.ok);
    expect(io.out()).toContain(`Usage: okta-lake ${command} --lake`);
  });

  it('compacts the closed days of a folder lake by its watermark, verifies them, and fails verify on a planted event', async () => {
    // Prepare: two days; the watermark closes the first only
    const dir = join(root, 'lake');
    const sink = new LocalSink({ root: dir, fsync: false });
    await writePages(sink, writer, dayEvents(80));
    await writePages(sink, writer, dayEvents(40, '2024-05-02', 'next'));
    const store = new FileWatermarkStore({ dir: join(dir, '_state') });
    const got = await store.acquire(ORG, 'test', 60_000, 0);
    await store.checkpoint(got!.lease, { ...got!.state, watermark: '2024-05-03T06:00:00.000Z' }, 60_000, 0);
    // Act
    const compact = capture();
    const code = await main(['compact', '--lake', dir, '--grace-minutes', '0'], compact);
    const verify = capture();
    const verified = await main(['verify', '--lake', dir, '--day', DAY], verify);
    await writePages(sink, writer, dayEvents(1, DAY, 'planted'), { name: 'after' });
    const tampered = capture();
    const failed = await main(['verify', '--lake', dir, '--day', DAY, '--org', ORG], tampered);
    // Assess
    expect(code, compact.out()).toBe(EXIT.ok);
    expect(compact.out()).toMatch(new RegExp(`${ORG} ${DAY}  generation 1: \\d+ objects .* -> 1 part .*, 80 events verified`));
    expect(compact.out()).toContain('1 day(s) not closed yet');
    expect(verified, verify.out()).toBe(EXIT.ok);
    expect(verify.out()).toContain('VERIFIED: generation 1, 1 part(s) hold 80 events');
    expect(failed).toBe(EXIT.failure);
    expect(tampered.out()).toContain('FAILED');
    expect(tampered.out()).toContain('removed 1, added 0, changed 0');
    expect(tampered.out()).toContain('planted-000000');
    // A lake with no watermark is left alone unless told which days are closed.
    expect(await main(['compact', '--lake', join(root, 'empty'), '--day', 'May 1'], capture())).toBe(EXIT.usage);
  });

  it('compacts through the S3 sink; SinkLakeIndex, the lake audit and verify (s3://) read each event once', async () => {
    // Prepare
    const sink = new S3Sink({ client, bucket, prefix: 'lake' });
    const events = dayEvents(100);
    await writePages(sink, writer, events, { pageSize: 15 });
    // Act
    const result = await compactDay({ sink, org: ORG, dt: DAY, graceMs: 0, clock: { now: () => Date.parse('2024-05-04T00:00:00Z') }, duckdb: { threads: 1 } });
    const index = await SinkLakeIndex.open({ sink, threads: 1 });
    const held = await index.holdings(ORG, hoursOf(DAY)).finally(() => index.close());
    const audit = await auditLake(sink);
    const io = capture();
    const code = await main(['verify', '--lake', `s3://${bucket}/lake`, '--day', DAY, '--s3-endpoint', endpoint], io);
    // Assess
    expect(result.outcome).toBe('compacted');
    expect((await lakeFilesOf(sink, { org: ORG, dt: DAY }))[0].parts).toEqual([`compacted/org=${ORG}/dt=${DAY}/g0001-part-0.parquet`]);
    expect([...held.uuids].sort()).toEqual([...textsOf(events).keys()].sort());
    expect(held.duplicateRows).toBe(0);
    expect(audit.rows).toBe(100);
    expect([...audit.byUuid.values()].every((e) => e.count === 1 && e.keys[0].startsWith('compacted/'))).toBe(true);
    expect(code, io.out()).toBe(EXIT.ok);
    expect(io.out()).toContain('VERIFIED');
  });
});
