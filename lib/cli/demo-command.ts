/**
 * `okta-lake demo` (`npm start`): the whole pipeline on one laptop, on built-in defaults.
 * A simulated org's day (with the seed's four attacks planted) is served by the mock Okta on
 * loopback, ingested through the real client and writer into ./demo-lake, summarised from the lake,
 * and hunted with the same detections that run in Athena.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SswsToken } from '../core/okta/credentials';
import { parseOrg } from '../core/okta/org';
import { DEMO_ORG_HOST, generateOrgDay, type GeneratedOrg, type PlantedAttack } from '../demo/generate';
import { mockEventsFromTexts, startMockOkta } from '../mock-okta';
import { loadQueries } from '../core/queries';
import { openLake, runQuery } from '../core/hunt';
import { sweepLineKey } from '../core/sweep-lines';
import { FileWatermarkStore } from '../adapters/file-watermark-store';
import { UsageError, optionalString, parse, parseNumber } from './args';
import { alertsAsResults, detectLocal } from './detect-command';
import { formatResults } from './hunt-command';
import { runIngestToLake } from './ingest-command';
import { runReconcileOnLake } from './reconcile-command';
import { EXIT, formatBytes, formatCount, formatDuration, table } from './output';
import { HOUR, MINUTE } from '../core/time';

export const DEMO_HELP = `Usage: okta-lake demo [--out <dir>] [--events <n>] [--seed <n>]

Simulates one day of an Okta org (people signing in from their usual places, MFA, apps, admin
work, Okta's own system jobs) with four attacks planted: an Okta support impersonation without a
customer grant, a password reset by Okta support, an MFA push-bombing session, and an account
takeover after a help-desk MFA reset (the attacker signs in and enrols a factor from a rented
server). Serves it with the mock Okta API on 127.0.0.1, ingests it through the real client into the
lake folder under the simulated org's host (events/org=acme-demo.okta.com/), prints what landed,
and runs the scheduled detections on it with DuckDB.

Options:
  --out <dir>     the demo lake, replaced on every run (default ./demo-lake)
  --events <n>    approximate number of benign events (default 25000)
  --seed <n>      seed of the simulation (default 42): the same seed gives the same org

Exit codes: 0 done, 1 failed, 2 usage.`;

/** The planted attack Okta records late in the demo. */
const LATE_ATTACK = 'mfa-push-bombing';

/**
 * Sets the sweep line `offsetMs` of `org` to start at `startMs` (the hour before), as if the sweep had
 * run after every ingestion run of the day: its next run re-reads every closed window of the day.
 */
async function presetSweepLine(out: string, org: string, offsetMs: number, startMs: number): Promise<void> {
  const store = new FileWatermarkStore({ dir: join(out, '_state') });
  const key = sweepLineKey(org, offsetMs);
  const acquired = await store.acquire(key, 'demo', 60_000, Date.now());
  if (!acquired) return;
  const watermark = new Date(Math.floor(startMs / HOUR) * HOUR).toISOString();
  await store.release(await store.checkpoint(acquired.lease, { ...acquired.state, watermark }, 60_000, Date.now()));
}

/** Refuses to delete a folder that does not look like a demo lake. */
function clearDemoLake(dir: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  const known = new Set(['events', 'quarantine', '_state']);
  if (entries.some((e) => !known.has(e))) {
    throw new UsageError(`${dir} exists and holds more than a demo lake (${entries.filter((e) => !known.has(e)).join(', ')}); choose another --out`);
  }
  rmSync(dir, { recursive: true, force: true });
}

function walk(dir: string): { files: number; bytes: number; parquet: number } {
  const totals = { files: 0, bytes: 0, parquet: 0 };
  if (!existsSync(dir)) return totals;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = walk(path);
      totals.files += sub.files;
      totals.bytes += sub.bytes;
      totals.parquet += sub.parquet;
    } else {
      totals.files++;
      totals.bytes += statSync(path).size;
      if (entry.name.endsWith('.parquet')) totals.parquet++;
    }
  }
  return totals;
}

/** Events per hour and the most frequent event types, read back from the lake with the hunting queries. */
async function printLakeSummary(dir: string, now: Date, say: (text: string) => void): Promise<void> {
  const queries = new Map(loadQueries().map((q) => [q.id, q]));
  const lake = await openLake(dir);
  try {
    const perHour = await runQuery(lake, queries.get('events-per-hour')!, { now });
    const max = Math.max(1, ...perHour.map((r) => Number(r.events)));
    say('\nevents per hour (UTC), read back from the lake (athena-queries/events-per-hour.sql):');
    say(table([['dt', 'hour', 'events', ''], ...perHour.map((r) => [String(r.dt), String(r.hour), Number(r.events), '#'.repeat(Math.round((40 * Number(r.events)) / max))])]));
    const types = await runQuery(lake, queries.get('event-type-overview')!, { now });
    say(`\nevent types (${types.length}; the 12 most frequent and the 8 rarest, athena-queries/event-type-overview.sql):`);
    const shown = types.length > 20 ? [...types.slice(0, 12), ...types.slice(-8)] : types;
    say(table([['event type', 'events'], ...shown.map((r) => [String(r.event_type), Number(r.events)])]));
  } finally {
    lake.close();
  }
}

export async function demoCommand(
  argv: readonly string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream; signal?: AbortSignal },
): Promise<number> {
  const { values } = parse(argv, { out: { type: 'string' }, events: { type: 'string' }, seed: { type: 'string' } });
  if (values.help) {
    io.stdout.write(`${DEMO_HELP}\n`);
    return EXIT.ok;
  }
  const out = resolve(optionalString(values, 'out') ?? 'demo-lake');
  const eventsText = optionalString(values, 'events');
  const seedText = optionalString(values, 'seed');
  const events = eventsText ? parseNumber(eventsText, '--events', 100, 2_000_000, true) : 25_000;
  const seed = seedText ? parseNumber(seedText, '--seed', 0, 2 ** 31 - 1, true) : 42;
  const say = (text: string) => io.stdout.write(`${text}\n`);

  // The simulated day ends 10 minutes ago, so every window of it is closed (settle lag 5 minutes).
  const end = Math.floor((Date.now() - 10 * MINUTE) / MINUTE) * MINUTE;
  const start = end - 24 * HOUR;
  const t0 = Date.now();
  const org: GeneratedOrg = generateOrgDay({ seed, start: new Date(start), hours: 24, events });
  const texts = org.events.map((e) => JSON.stringify(e));
  const jsonBytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  // The lake knows the simulated org by its host, as it knows a real one; the label a real org of
  // that host gets (parseOrg), not the mock's `127.0.0.1-<port>`.
  const label = parseOrg(DEMO_ORG_HOST).host;
  say(`okta-lake demo: simulated ${formatCount(org.events.length)} events of one day of the org ${label} (${formatBytes(jsonBytes)} of JSON), ${new Date(start).toISOString().slice(0, 16)}Z to ${new Date(end).toISOString().slice(0, 16)}Z, in ${formatDuration(Date.now() - t0)}`);
  say('planted attacks (what the detections should find):');
  for (const p of org.planted) say(`  - ${p.kind}: ${p.description}`);

  // One attack reaches Okta's log late (as Okta warns some events do): the mock serves it only after
  // the ingestion has read its time, and the reconciliation sweep recovers it.
  const late = org.planted.find((p) => p.kind === LATE_ATTACK);
  const lateUuids = new Set(late?.uuids ?? []);
  const onTime = texts.filter((_, i) => !lateUuids.has(org.events[i].uuid));
  const lateTexts = texts.filter((_, i) => lateUuids.has(org.events[i].uuid));

  const token = randomBytes(24).toString('base64url');
  const mock = await startMockOkta({ events: mockEventsFromTexts(onTime), apiToken: token });
  try {
    clearDemoLake(out);
    // The client talks to the mock's loopback origin, and sends the token nowhere else; only the
    // lake label is the simulated org's host.
    const oktaOrg = parseOrg(mock.origin, { allowInsecureLoopback: true });
    const credentials = new SswsToken(token);
    say(`\nmock Okta serving ${label} at ${mock.origin}; ingesting into ${join(relative(process.cwd(), out) || '.', 'events', `org=${label}`)} through the real client and writer`);
    if (late) say(`(Okta records the ${late.kind} attack late: the mock withholds its ${lateTexts.length} events until the ingestion has passed them)`);
    const { result, elapsedMs } = await runIngestToLake({
      org: oktaOrg,
      lakeLabel: label,
      credentials,
      out,
      since: new Date(start).toISOString(),
      until: new Date(end).toISOString(),
      stderr: io.stderr,
      signal: io.signal,
    });
    if (result.outcome !== 'caught-up') {
      io.stderr.write(`demo ingest stopped early (${result.outcome})\n`);
      return EXIT.partial;
    }
    const lake = walk(join(out, 'events'));
    say(
      `ingested ${formatCount(result.eventsWritten)} events in ${formatCount(result.pages)} pages over ${formatCount(result.windows)} windows in ${formatDuration(elapsedMs)}; ` +
        `${formatCount(result.eventsQuarantined)} quarantined; mock Okta answered ${formatCount(mock.stats.logRequests)} requests (${formatCount(mock.stats.rateLimited)} with 429)`,
    );
    say(`lake: ${formatCount(lake.parquet)} Parquet files, ${formatBytes(lake.bytes)} (${(lake.bytes / Math.max(1, result.eventsWritten)).toFixed(0)} bytes per event, ${((100 * lake.bytes) / jsonBytes).toFixed(1)}% of the JSON)`);
    if (result.eventsWritten !== onTime.length) {
      io.stderr.write(`demo: expected ${onTime.length} events in the lake, wrote ${result.eventsWritten}\n`);
      return EXIT.failure;
    }
    const now = new Date(end + 10 * MINUTE);
    await printLakeSummary(out, now, say);

    // The scheduled detections as the deployed runner runs them: from their cursors (the start of
    // the day: the demo's backfill) to the lake's watermark, every step of their schedule.
    say('\ndetections: every scheduled query of athena-queries/, evaluated through DuckDB at every step of its schedule from the start of the day to the watermark (okta-lake detect: the same SQL and cursors the Lambda uses)');
    const t1 = Date.now();
    const detections = await detectLocal(out, { since: new Date(start) });
    const first = alertsAsResults(detections);
    io.stdout.write(formatResults(first, 'table'));
    const evaluations = detections.reduce((n, d) => n + d.result.evaluations, 0);
    say(`${formatCount(evaluations)} evaluations in ${formatDuration(Date.now() - t1)}.`);

    let second: ReturnType<typeof alertsAsResults> = [];
    if (late) {
      // Okta now returns the late events; the sweep re-reads the day's closed windows (as its 1-hour
      // line does after every run) and adds what the lake lacks, recording it as late evidence.
      mock.add(mockEventsFromTexts(lateTexts));
      await presetSweepLine(out, label, HOUR, start);
      const swept = await runReconcileOnLake({ org: oktaOrg, lakeLabel: label, credentials, out, offsetsMs: [HOUR], stderr: io.stderr, ...(io.signal ? { signal: io.signal } : {}) });
      say(`\nreconciliation sweep: re-read ${formatCount(swept.result.windows)} closed windows, recovered ${formatCount(swept.result.lateEvents)} events Okta recorded late`);
      const t2 = Date.now();
      const again = await detectLocal(out, {});
      second = alertsAsResults(again);
      say(`detections again (${formatCount(again.reduce((n, d) => n + d.result.evaluations, 0))} evaluations in ${formatDuration(Date.now() - t2)}): what the late events changed, each finding once`);
      io.stdout.write(formatResults(second, 'table'));
    }

    // Which planted attack each finding belongs to: a finding names the attack's actor, victim or session.
    const findings = [...first, ...second].flatMap((r) => r.findings.map((row) => ({ id: r.id, row })));
    const fired = new Set(findings.map((f) => f.id));
    const belongs = (row: Record<string, unknown>, p: PlantedAttack) =>
      Object.values(row).some((v) => typeof v === 'string' && [p.actor, p.target, p.sessionId].some((x) => x !== undefined && v.includes(x)));
    const unmatched = findings.filter((f) => !org.planted.some((p) => belongs(f.row, p)));
    const missed = org.planted.filter((p) => !findings.some((f) => belongs(f.row, p)));
    say(`\n${fired.size} detections fired with ${findings.length} findings in ${formatDuration(Date.now() - t1)}.`);
    for (const p of org.planted) {
      const mine = findings.filter((f) => belongs(f.row, p));
      const by = [...new Set(mine.map((f) => f.id))];
      const how = [...new Set(mine.map((f) => String(f.row.alerted)))];
      say(`  planted ${p.kind}: ${by.length > 0 ? `found by ${by.join(', ')} (${how.join('; ')})` : 'NOT FOUND'}`);
    }
    say(unmatched.length === 0 ? '  nothing else fired: no finding from the benign traffic.' : `  ${unmatched.length} findings match no planted attack: ${[...new Set(unmatched.map((f) => f.id))].join(', ')}`);
    say(`again, as the Lambda would: npx okta-lake detect --lake ${relative(process.cwd(), out) || '.'}   (prints nothing new; hunt with npx okta-lake hunt --lake ${relative(process.cwd(), out) || '.'} --detection <id>)`);
    return missed.length === 0 && unmatched.length === 0 ? EXIT.ok : EXIT.failure;
  } finally {
    await mock.stop();
  }
}
