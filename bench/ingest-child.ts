/**
 * Benchmark helper process: one `okta-lake ingest`-equivalent run (real client, DuckDB writer, local
 * lake), reporting its wall time and its own peak RSS as JSON on stdout.
 * Usage: tsx bench/ingest-child.ts <origin> <token> <outDir> <sinceIso> <untilIso>
 */
import { runIngestToLake } from '../lib/cli/ingest-command';
import { SswsToken } from '../lib/core/okta/credentials';
import { parseOrg } from '../lib/core/okta/org';

const [origin, token, out, since, until] = process.argv.slice(2);
const started = performance.now();
const { result, stats } = await runIngestToLake({
  org: parseOrg(origin, { allowInsecureLoopback: true }),
  credentials: new SswsToken(token),
  out,
  since,
  until,
  // One window for the whole range, so every page after the first is fetched while the previous is written.
  maxWindowMs: 7 * 24 * 3_600_000,
  stderr: process.stderr,
});
const elapsedMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ elapsedMs, pages: result.pages, events: result.eventsWritten, bytes: result.bytesWritten, requests: stats.requests, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
