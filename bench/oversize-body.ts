/**
 * Peak memory of the Okta client when Okta (here the mock, in its own process) answers a page with
 * a body far larger than any page (issue 10, "Bounded input"). Not part of `npm run bench`: run it
 * alone, on a quiet machine, and quote its figures (last run: bench/oversize-body.md).
 *
 *   node --import tsx bench/oversize-body.ts [--mib 300] [--report bench/oversize-body.md]
 *
 * The mock serves 1,000 events; its first answer is that page padded with white space to `--mib`
 * MiB (the `oversize` fault: a valid JSON array of the same events), streamed without a length,
 * then normal pages. This process runs one `OktaLogClient.fetchPage` with the client's default
 * options and reports its peak RSS (`process.resourceUsage().maxRSS`) before and after, the bytes
 * the mock wrote before the connection closed, and how the page ended.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { OktaLogClient } from '../lib/core/okta/client';
import { SswsToken } from '../lib/core/okta/credentials';
import { parseOrg } from '../lib/core/okta/org';
import { generateEvents } from '../lib/demo/generate';
import { mockEventsFromTexts, startMockOkta } from '../lib/mock-okta';

const MIB = 1024 * 1024;
const TOKEN = 'bench-oversize-token-not-a-secret';
const START = Date.parse('2024-05-01T00:00:00.000Z');

const { values } = parseArgs({ options: { serve: { type: 'string' }, mib: { type: 'string' }, report: { type: 'string' } } });

if (values.serve !== undefined) {
  // The mock's process: its memory is not the client's.
  const texts = generateEvents(1000, { start: new Date(START), hours: 1, seed: 5 }).map((e) => JSON.stringify(e));
  const mock = await startMockOkta({
    events: mockEventsFromTexts(texts),
    apiToken: TOKEN,
    rateLimitPerMinute: 100_000,
    clock: { now: () => START + 2 * 3_600_000 },
    oversizeBodyBytes: Number(values.serve) * MIB,
    faults: { nextOversize: 1 },
  });
  process.stdout.write(`${JSON.stringify({ origin: mock.origin })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    const s = mock.stats;
    process.stderr.write(`${JSON.stringify({ oversizeBytesSent: s.oversizeBytesSent, completed: s.oversizeBodiesCompleted, logRequests: s.logRequests })}\n`);
    void mock.stop().then(() => process.exit(0));
  });
} else {
  const mib = Number(values.mib ?? 300);
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/oversize-body.ts', '--serve', String(mib)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout });
  const { origin } = JSON.parse(await new Promise<string>((resolve) => lines.once('line', resolve))) as { origin: string };
  let childStats = '';
  child.stderr.on('data', (d: Buffer) => (childStats += d.toString()));

  const client = new OktaLogClient({ org: parseOrg(origin, { allowInsecureLoopback: true }), credentials: new SswsToken(TOKEN), backoffBaseMs: 10, backoffCapMs: 10 });
  const url = client.boundedQueryUrl(new Date(START).toISOString(), new Date(START + 3_600_000).toISOString());
  global.gc?.();
  const rssBeforeMiB = process.resourceUsage().maxRSS / 1024;
  const started = performance.now();
  let outcome: string;
  try {
    const page = await client.fetchPage(url);
    outcome = `page of ${(page.body.length / MIB).toFixed(1)} Mi chars after ${client.stats.requests} request(s)`;
  } catch (e) {
    outcome = `failed: ${(e as Error).name}: ${(e as Error).message.slice(0, 200)}`;
  }
  const elapsedMs = Math.round(performance.now() - started);
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
  const mock = JSON.parse(childStats.trim().split('\n').at(-1) ?? '{}') as { oversizeBytesSent?: number; completed?: number; logRequests?: number };
  const result = {
    bodyMiB: mib,
    peakRssBeforeMiB: Math.round(rssBeforeMiB),
    peakRssAfterMiB: Math.round(peakMiB),
    growthMiB: Math.round(peakMiB - rssBeforeMiB),
    mockSentMiB: Number(((mock.oversizeBytesSent ?? 0) / MIB).toFixed(1)),
    oversizeBodiesCompleted: mock.completed,
    logRequests: mock.logRequests,
    retries: client.stats.retries,
    elapsedMs,
    outcome,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (values.report) writeFileSync(values.report, `${JSON.stringify(result)}\n`, { flag: 'a' });
}
