/**
 * Ingest benchmark: a mock Okta in one process (each page delayed by `latencyMs`), the ingest in
 * another, so the ingest's peak RSS is its own. Reports throughput as a share of what the page
 * latency allows: with page n+1 fetched while page n is written, the best possible rate is one
 * 1,000-event page per `latencyMs`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface IngestBenchResult {
  readonly events: number;
  readonly pages: number;
  readonly latencyMs: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  /** 1000 events per page / latency. */
  readonly allowedEventsPerSecond: number;
  /** eventsPerSecond / allowedEventsPerSecond. */
  readonly shareOfAllowed: number;
  readonly maxRssBytes: number;
  readonly jsonBytes: number;
  readonly lakeBytes: number;
}

const TSX = ['--import', 'tsx'];

export async function benchIngest(options: { events: number; latencyMs: number }): Promise<IngestBenchResult> {
  const token = randomBytes(16).toString('hex');
  const hours = 24;
  const start = Math.floor((Date.now() - (hours + 1) * 3_600_000) / 60_000) * 60_000;
  const until = start + hours * 3_600_000;
  const mock = spawn(process.execPath, [...TSX, 'bench/mock-child.ts', String(options.events), String(options.latencyMs), new Date(start).toISOString(), String(hours), token], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const out = mkdtempSync(join(tmpdir(), 'okta-lake-bench-ingest-'));
  try {
    const first = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: mock.stdout! });
      rl.once('line', resolve);
      mock.once('exit', (code) => reject(new Error(`mock process exited (${code}) before serving`)));
    });
    const served = JSON.parse(first) as { origin: string; events: number; jsonBytes: number };
    const child = spawn(process.execPath, [...TSX, 'bench/ingest-child.ts', served.origin, token, out, new Date(start).toISOString(), new Date(until).toISOString()], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let text = '';
    child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`ingest process exited with ${code}`);
    const r = JSON.parse(text.trim().split('\n').at(-1)!) as { elapsedMs: number; pages: number; events: number; bytes: number; maxRssBytes: number };
    if (r.events !== served.events) throw new Error(`ingested ${r.events} events, served ${served.events}`);
    const eventsPerSecond = r.events / (r.elapsedMs / 1000);
    const allowedEventsPerSecond = 1000 / (options.latencyMs / 1000);
    return {
      events: r.events,
      pages: r.pages,
      latencyMs: options.latencyMs,
      elapsedMs: r.elapsedMs,
      eventsPerSecond,
      allowedEventsPerSecond,
      shareOfAllowed: eventsPerSecond / allowedEventsPerSecond,
      maxRssBytes: r.maxRssBytes,
      jsonBytes: served.jsonBytes,
      lakeBytes: r.bytes,
    };
  } finally {
    mock.stdin!.end();
    await new Promise((r) => (mock.exitCode !== null ? r(null) : mock.once('exit', r)));
    rmSync(out, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const events = Number(process.argv[2] ?? 20_000);
  console.log(await benchIngest({ events, latencyMs: 300 }));
}
