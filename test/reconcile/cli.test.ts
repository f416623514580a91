/**
 * The sweep from the command line: `okta-lake reconcile` and `okta-lake ingest --reconcile`, against
 * the mock Okta holding some events back (late events) in real time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CommandIo } from '../../lib/cli/main';
import { EXIT } from '../../lib/cli/output';
import { LocalSink } from '../../lib/adapters/local-sink';
import { auditLake } from '../../testkit/lake-audit';
import { startMockOkta, type MockOkta } from '../../lib/mock-okta';
import { HOUR, MINUTE, scenario } from '../faults/support';

function capture(env: NodeJS.ProcessEnv = {}): CommandIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  (stderr as unknown as PassThrough).on('data', (d: Buffer) => (err += d.toString()));
  return { env, stdout, stderr, out: () => out, err: () => err };
}

const TOKEN = 'reconcile-cli-token';

describe('okta-lake reconcile', () => {
  let work: string;
  let mock: MockOkta;
  const late = new Set<string>();
  let total = 0;
  let lateVisibleAt = 0;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'okta-lake-reconcile-cli-'));
    // Three hours of events ending in the hour before last; the 1-minute offset's first sweep
    // window is that hour, and its late events show up only 3 s after the test starts.
    const now = Date.now();
    const lastHour = Math.floor((now - 5 * MINUTE - MINUTE) / HOUR) * HOUR - HOUR;
    const sc = scenario({ count: 1_080, startMs: lastHour - 2 * HOUR, stepMs: 10_000, lateEvery: 20 });
    lateVisibleAt = now + 3_000;
    const events = sc.events.map((e) => {
      if (!sc.late.has(e.uuid)) return { uuid: e.uuid, publishedMs: e.publishedMs, text: e.text };
      if (e.publishedMs >= lastHour) late.add(e.uuid);
      return { uuid: e.uuid, publishedMs: e.publishedMs, text: e.text, ...(e.publishedMs >= lastHour ? { visibleAtMs: lateVisibleAt } : {}) };
    });
    total = events.length;
    mock = await startMockOkta({ events, apiToken: TOKEN });
  });

  afterAll(async () => {
    await mock?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('finds the late events of the last hour once, and says so; ingest --reconcile then finds none', async () => {
    // Prepare: an ingestion before the late events are visible.
    const lake = join(work, 'lake');
    const env = { OKTA_API_TOKEN: TOKEN };
    const ingest = capture(env);
    expect(await main(['ingest', '--org', mock.origin, '--out', lake, '--since', '5h'], ingest), ingest.err()).toBe(EXIT.ok);
    const before = await auditLake(new LocalSink({ root: lake }));
    expect(before.byUuid.size).toBe(total - late.size);
    await new Promise((r) => setTimeout(r, Math.max(0, lateVisibleAt - Date.now() + 50)));

    // Act
    const sweep = capture(env);
    const code = await main(['reconcile', '--org', mock.origin, '--out', lake, '--offsets', '1m'], sweep);
    const both = capture(env);
    const bothCode = await main(['ingest', '--org', mock.origin, '--out', lake, '--reconcile', '--offsets', '1m,2h'], both);

    // Assess
    expect(code, sweep.err()).toBe(EXIT.ok);
    expect(sweep.out()).toMatch(new RegExp(`late events found\\s+${late.size} \\(written as new objects\\)`));
    expect(sweep.out()).toMatch(/offset 1m\s+1 windows/);
    expect(bothCode, both.err()).toBe(EXIT.ok);
    expect(both.out()).toContain('caught up');
    expect(both.out()).toMatch(/late events found\s+0 /);
    const after = await auditLake(new LocalSink({ root: lake }));
    expect(after.byUuid.size).toBe(total);
    expect(after.rows).toBe(total);
  });

  it('explains itself, and refuses sweep options without --reconcile', async () => {
    const help = capture();
    expect(await main(['reconcile', '--help'], help)).toBe(EXIT.ok);
    expect(help.out()).toContain('Usage: okta-lake reconcile');
    const wrong = capture({ OKTA_API_TOKEN: TOKEN });
    expect(await main(['ingest', '--org', mock.origin, '--out', join(work, 'x'), '--offsets', '1h'], wrong)).toBe(EXIT.usage);
    expect(wrong.err()).toContain('add --reconcile');
    const bad = capture({ OKTA_API_TOKEN: TOKEN });
    expect(await main(['reconcile', '--org', mock.origin, '--out', join(work, 'x'), '--offsets', '1h,,2h'], bad)).toBe(EXIT.usage);
  });
});
