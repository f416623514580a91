/**
 * `npm run bench`: every performance figure the project quotes, from one run on this machine,
 * written to bench/results.md (and printed). Each figure is compared with a baseline measured in the
 * same run (JSON.parse of the same pages, the page latency the mock Okta was given), since the
 * machines this runs on are noisy.
 *
 *   npm run bench                 # everything (about 3 minutes on 2 cores)
 *   npm run bench -- --quick      # smaller volumes, for a smoke check (figures not for quoting)
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { importBytes } from '../lib/cli/import-command';
import { LocalSink } from '../lib/adapters/local-sink';
import { DuckDbParquetWriter } from '../lib/core/writer/parquet-writer';
import { generateEvents, generateOrgDay } from '../lib/demo/generate';
import { benchColdStart } from './cold-start';
import { benchCompaction, compactionGoals } from './compaction';
import { COST_GOAL, detectionCost } from './detection-cost';
import { EVALUATIONS_COMMAND, detectionEvaluations, evaluationsMarkdown } from './detection-evaluations';
import { benchIngest } from './ingest';
import { benchWriter } from './writer';
import { PART_NAMES, benchWriterParts } from './writer-parts';

const quick = process.argv.includes('--quick');
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    // not a git checkout
  }
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}-${process.arch}, commit ${commit}`;
}

async function main(): Promise<void> {
  const started = new Date();
  const load0 = loadavg()[0];
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

  // 1. Writer against JSON.parse, on the same realistic 1,000-event pages.
  log('writer: DuckDB Parquet writer against JSON.parse of the same pages');
  const events = generateEvents(quick ? 3_000 : 8_000, { seed: 21, start: new Date('2024-06-03T08:00:00Z'), hours: 8 });
  const pages: string[] = [];
  for (let i = 0; i < events.length; i += 1000) pages.push(JSON.stringify(events.slice(i, i + 1000)));
  const writer = await benchWriter(pages, { rounds: quick ? 2 : 5 });
  log('writer parts: the steps any DuckDB writer of this schema takes, each alone, on the same pages');
  const parts = await benchWriterParts(pages, { rounds: quick ? 2 : 5 });

  // 2. Ingest throughput and peak RSS against the mock Okta answering each page in 300 ms.
  const ingestEvents = quick ? 20_000 : 200_000;
  log(`ingest: ${ingestEvents.toLocaleString('en-US')} events, mock Okta at 300 ms per page, in separate processes`);
  const ingest = await benchIngest({ events: ingestEvents, latencyMs: 300 });

  // 3. Cold start of the bundled ingestion function.
  log('cold start: synthesizing the stack and loading the bundled ingestion function in fresh processes');
  const cold = await benchColdStart(quick ? 3 : 7);

  // 4. Detection cost on one simulated day.
  log('detections: Parquet bytes each scheduled detection reads on one simulated day');
  const dayDir = mkdtempSync(join(tmpdir(), 'okta-lake-bench-day-'));
  let cost;
  let dayEvents = 0;
  let dayJsonBytes = 0;
  try {
    const day = generateOrgDay({ seed: 42, start: new Date('2024-06-04T00:00:00Z'), hours: 24 });
    const texts = day.events.map((e) => JSON.stringify(e));
    dayEvents = texts.length;
    dayJsonBytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    const w = await DuckDbParquetWriter.open({});
    try {
      await importBytes(new TextEncoder().encode(texts.join('\n')), 'acme.okta.com', w, new LocalSink({ root: dayDir }));
    } finally {
      await w.close();
    }
    cost = await detectionCost(dayDir, { day: '2024-06-04', rawJsonBytes: dayJsonBytes });
  } finally {
    rmSync(dayDir, { recursive: true, force: true });
  }

  // 5. Compaction: a lake at the production cadence, before and after (its own file too).
  log('compaction: a lake written every 5 minutes, hunted before and after compaction');
  const compaction = await benchCompaction({ days: quick ? 1 : 2, eventsPerDay: quick ? 20_000 : 100_000, log });
  writeFileSync('bench/compaction.md', compaction.markdown);
  const compactionOk = compactionGoals(compaction);
  const load1 = loadavg()[0];

  const writerOk = writer.ratio <= 1.5;
  const ingestOk = ingest.shareOfAllowed >= 0.9;
  const rssOk = ingest.maxRssBytes <= 300 * 2 ** 20;
  const coldOk = cold.totalMs <= 400;
  const worst = [...cost.detections].sort((a, b) => b.bytesPerRun - a.bytesPerRun)[0];

  const lines = [
    '# okta-lake benchmark results',
    '',
    `Produced by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${started.toISOString().slice(0, 16)}Z.`,
    `Machine: ${machine()}; load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end.`,
    quick ? '\n**Quick run: small volumes, not for quoting.**' : '',
    '',
    '## Summary',
    '',
    '| figure | measured | goal | |',
    '| --- | --- | --- | --- |',
    `| writer, per 1,000-event page, × \`JSON.parse\` of the page | ${writer.ratio.toFixed(2)}× (CPU ${writer.cpuRatio.toFixed(2)}×) | ≤ 1.5× | ${verdict(writerOk)} |`,
    `| ingest throughput, share of what 300 ms per page allows | ${pct(ingest.shareOfAllowed)} | ≥ 90% | ${verdict(ingestOk)} |`,
    `| peak RSS of a ${ingest.events.toLocaleString('en-US')}-event ingest | ${mib(ingest.maxRssBytes)} | ≤ 300 MiB | ${verdict(rssOk)} |`,
    `| Parquet bytes per event (typed + raw) vs JSON | ${writer.parquetBytesPerEvent.total.toFixed(0)} vs ${writer.jsonBytesPerEvent.toFixed(0)} (${pct(writer.parquetBytesPerEvent.total / writer.jsonBytesPerEvent)}) | | |`,
    `| cold start of the bundled ingestion function | ${ms(cold.totalMs)} | ≤ 400 ms | ${verdict(coldOk)} |`,
    `| compacted files per org-day (from ${compaction.filesPerDayBefore.toFixed(0)} at the 5-minute cadence) | ${compaction.filesPerDayAfter.toFixed(0)} | ≤ 2 | ${verdict(compactionOk.files)} |`,
    `| compacted bytes per event, share of the originals' | ${pct(compaction.bytesPerEventAfter / compaction.bytesPerEventBefore)} | ≤ 60% | ${verdict(compactionOk.bytes)} |`,
    `| ${compaction.days}-day hunt after compaction, × faster locally ([compaction.md](compaction.md)) | ${compactionOk.speedup.toFixed(1)}× | ≥ 10× | ${verdict(compactionOk.hunt)} |`,
    `| most expensive scheduled detection, one run, share of the day's JSON | ${pct(worst.bytesPerRun / dayJsonBytes)} (${worst.id}) | ≤ ${pct(COST_GOAL)} | ${verdict(worst.bytesPerRun / dayJsonBytes <= COST_GOAL)} |`,
    '',
    '## Writer',
    '',
    `${writer.pages} pages of ${(writer.events / writer.pages).toFixed(0)} simulated events (${writer.jsonBytesPerEvent.toFixed(0)} JSON bytes per event), warm, parse and write interleaved.`,
    '',
    '| | median ms per 1,000 events | p25 | CPU ms |',
    '| --- | --- | --- | --- |',
    `| \`JSON.parse\` (baseline) | ${writer.jsonParse.medianMs.toFixed(1)} | ${writer.jsonParse.p25Ms.toFixed(1)} | ${writer.jsonParse.medianCpuMs.toFixed(1)} |`,
    `| \`DuckDbParquetWriter.writePage\` | ${writer.writePage.medianMs.toFixed(1)} | ${writer.writePage.p25Ms.toFixed(1)} | ${writer.writePage.medianCpuMs.toFixed(1)} |`,
    '',
    `Bytes stored per event: typed columns ${writer.parquetBytesPerEvent.typed.toFixed(0)}, \`raw\` ${writer.parquetBytesPerEvent.raw.toFixed(0)}, whole files ${writer.parquetBytesPerEvent.total.toFixed(0)}, against ${writer.jsonBytesPerEvent.toFixed(0)} bytes of JSON.`,
    'The comparison with other Parquet writers is its own script: `npx tsx bench/compare-writers.ts`.',
    '',
    '### Where the writer\'s time goes',
    '',
    'Each step alone in a DuckDB set up like the writer\'s, on the same pages, interleaved with `JSON.parse` (bench/writer-parts.ts).',
    'Each is a lower bound that any writer built on DuckDB pays for this schema; the writer also classifies, deduplicates and partitions.',
    '',
    '| step | median ms per 1,000 events | CPU ms | × `JSON.parse` (CPU) |',
    '| --- | --- | --- | --- |',
    ...PART_NAMES.map((name) => {
      const p = parts[name];
      const label = { 'JSON.parse': '`JSON.parse` (baseline)', read: 'read: `read_json_objects`, element texts', type: 'type: `json_transform` into the nested columns', 'encode typed': 'encode: typed rows to ZSTD Parquet, without `raw`', 'encode typed + raw': 'encode: typed rows and `raw`' }[name];
      return `| ${label} | ${p.medianMs.toFixed(1)} | ${p.medianCpuMs.toFixed(1)} | ${(p.medianCpuMs / parts['JSON.parse'].medianCpuMs).toFixed(2)}× |`;
    }),
    `| sum of read, type, encode typed + raw | ${(parts.read.medianMs + parts.type.medianMs + parts['encode typed + raw'].medianMs).toFixed(1)} | ${(parts.read.medianCpuMs + parts.type.medianCpuMs + parts['encode typed + raw'].medianCpuMs).toFixed(1)} | ${((parts.read.medianCpuMs + parts.type.medianCpuMs + parts['encode typed + raw'].medianCpuMs) / parts['JSON.parse'].medianCpuMs).toFixed(2)}× |`,
    '',
    '## Ingest',
    '',
    `${ingest.events.toLocaleString('en-US')} events (${mib(ingest.jsonBytes)} of JSON) in ${ingest.pages} pages from the mock Okta in its own process, answering each page 300 ms after its request; the ingest (real client, DuckDB writer, local lake) in another process.`,
    '',
    '| | value |',
    '| --- | --- |',
    `| wall time | ${(ingest.elapsedMs / 1000).toFixed(1)} s |`,
    `| events per second | ${ingest.eventsPerSecond.toFixed(0)} |`,
    `| what the latency allows (1,000 events per 300 ms) | ${ingest.allowedEventsPerSecond.toFixed(0)} |`,
    `| share | ${pct(ingest.shareOfAllowed)} |`,
    `| peak RSS of the ingest process | ${mib(ingest.maxRssBytes)} |`,
    `| lake bytes written | ${mib(ingest.lakeBytes)} (${pct(ingest.lakeBytes / ingest.jsonBytes)} of the JSON) |`,
    '',
    '## Cold start',
    '',
    `The ingestion function as \`cdk synth\` bundles it (${mib(cold.assetBytes)} unzipped, DuckDB binding for ${process.arch}), loaded in a fresh Node process from its folder; median of ${cold.runs}.`,
    '',
    '| | median |',
    '| --- | --- |',
    `| handler module load | ${ms(cold.moduleLoadMs)} |`,
    `| first DuckDB connection | ${ms(cold.firstConnectionMs)} |`,
    `| total | ${ms(cold.totalMs)} |`,
    '',
    '## Detection cost',
    '',
    `One simulated day (${dayEvents.toLocaleString('en-US')} events, ${mib(dayJsonBytes)} of JSON) written by the project's writer; for each scheduled detection, the compressed column chunks it references in the partitions its lookback selects (what Athena bills), for its most expensive run of the day.`,
    '',
    '| detection | schedule | lookback | bytes per run | share of the day\'s JSON |',
    '| --- | --- | --- | --- | --- |',
    ...cost.detections.map((d) => `| ${d.id} | ${d.schedule} | ${d.lookback} | ${d.bytesPerRun.toLocaleString('en-US')} | ${pct(d.bytesPerRun / dayJsonBytes)} |`),
    '',
  ];
  const text = lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
  writeFileSync('bench/results.md', `${text}\n`);
  // What evaluating every event, however late, costs in queries (deterministic; its own file).
  writeFileSync('bench/evaluations.md', evaluationsMarkdown(detectionEvaluations(), EVALUATIONS_COMMAND));
  process.stdout.write(`${text}\n`);
}

await main();
