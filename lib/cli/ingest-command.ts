/**
 * `okta-lake ingest`: the same ingestion run as the Lambda, from a laptop, into a folder or S3.
 * Credentials come from the environment or a file, never from the command line (which other users
 * of the machine can read in the process list).
 */
import { randomUUID } from 'node:crypto';
import type { IngestResult } from '../core/ingest/ingest';
import { runScheduledInvocation } from '../core/ingest/invocation';
import { SinkLakeIndex } from '../core/lake/lake-index';
import { credentialEnvironmentHelp, type CredentialProvider } from '../core/okta/credentials';
import { OktaLogClient, type OktaClientStats } from '../core/okta/client';
import { parseOrg, type OktaOrg } from '../core/okta/org';
import { DuckDbParquetWriter } from '../core/writer/parquet-writer';
import { deferredWriter } from '../core/writer/deferred-writer';
import { UsageError, optionalString, parse, parseDuration, parseInstant, parseNumber, requireString } from './args';
import { lakeLabelOf, openLakeTarget } from './lake-target';
import { reconcileExitCode, summariseReconcile, type ReconcileOnLakeResult } from './reconcile-command';
import { SWEEP_FLAGS, sweepFlags, type SweepFlags } from './sweep-flags';
import { credentialsFromEnv } from './env-credentials';
import { EXIT, ProgressPrinter, formatBytes, formatCount, formatDuration } from './output';

export const INGEST_HELP = `Usage: okta-lake ingest --org <host or URL> --out <dir | s3://bucket/prefix> [options]

Reads the Okta System Log in closed windows and writes it as Hive-partitioned Parquet.
Resumable: the state (watermark, window, next link) is checkpointed after every page, so a
rerun continues where the last one stopped, and re-reading never duplicates an event.

Options:
  --org <host|URL>        the Okta org, e.g. acme.okta.com (https only; http only for loopback)
  --out <dir|s3://...>    the lake: a folder, or an S3 bucket and prefix
  --since <ISO|7d>        where a FIRST run starts (default 7d, at most 90d); ignored once a watermark exists
  --until <ISO|duration>  stop at this instant (default: now minus the settle lag)
  --settle-lag <dur>      read only windows that closed this long ago (default 5m)
  --max-window <dur>      longest bounded query (default 1h)
  --rate-limit-share <x>  share of the org's rate limit this client may use, 0 to 1 (default 0.5)
  --max-page-mib <n>      largest page body read from Okta, in MiB (default 32); a larger one is
                          abandoned at the cap and retried
  --state <dir>           where the watermark is kept (default <out>/_state, or ./.okta-lake/state for S3)
  --s3-endpoint <url>     an S3-compatible endpoint instead of AWS (testing)
  --reconcile             after catching up, sweep for late events (see \`okta-lake reconcile --help\`)
  --offsets, --span, --max-backlog   options of that sweep (defaults 1h,24h / 1h / 24h)

Credentials (environment only):
${credentialEnvironmentHelp()}

Exit codes: 0 caught up, 1 failed (a rerun resumes), 2 usage, 3 Okta refused the credential,
4 interrupted (a rerun resumes), 5 another run holds this org's lease.`;

export interface IngestCommandResult {
  readonly result: IngestResult;
  readonly stats: OktaClientStats;
  readonly elapsedMs: number;
}

export interface IngestCommandDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
  /** Aborted on SIGINT/SIGTERM by main. */
  readonly signal?: AbortSignal;
}

export async function ingestCommand(argv: readonly string[], deps: IngestCommandDeps): Promise<number> {
  const { values } = parse(argv, {
    org: { type: 'string' },
    out: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    'settle-lag': { type: 'string' },
    'max-window': { type: 'string' },
    'rate-limit-share': { type: 'string' },
    'max-page-mib': { type: 'string' },
    state: { type: 'string' },
    's3-endpoint': { type: 'string' },
    reconcile: { type: 'boolean' },
    ...SWEEP_FLAGS,
  });
  if (values.help) {
    deps.stdout.write(`${INGEST_HELP}\n`);
    return EXIT.ok;
  }
  const now = Date.now();
  const org = parseOrg(requireString(values, 'org'), { allowInsecureLoopback: true });
  const out = requireString(values, 'out');
  const since = optionalString(values, 'since');
  const until = optionalString(values, 'until');
  const settle = optionalString(values, 'settle-lag');
  const maxWindow = optionalString(values, 'max-window');
  const share = optionalString(values, 'rate-limit-share');
  const maxPageMib = optionalString(values, 'max-page-mib');
  const credentials = credentialsFromEnv(deps.env, org);
  const sweep = values.reconcile === true ? sweepFlags(values) : undefined;
  if (!sweep && ['offsets', 'span', 'max-backlog'].some((f) => values[f] !== undefined)) {
    throw new UsageError('--offsets, --span and --max-backlog apply to the sweep: add --reconcile');
  }

  const { result, reconcile } = await runIngestToLake({
    org,
    credentials,
    out,
    stateDir: optionalString(values, 'state'),
    s3Endpoint: optionalString(values, 's3-endpoint'),
    since: since ? parseInstant(since, '--since', now) : undefined,
    until: until ? parseInstant(until, '--until', now) : undefined,
    settleLagMs: settle ? parseDuration(settle, '--settle-lag') : undefined,
    maxWindowMs: maxWindow ? parseDuration(maxWindow, '--max-window') : undefined,
    rateLimitShare: share ? parseNumber(share, '--rate-limit-share', 0.01, 1) : undefined,
    maxPageBytes: maxPageMib ? parseNumber(maxPageMib, '--max-page-mib', 1, 1024, true) * 1024 * 1024 : undefined,
    sweep,
    onIngested: (r) => deps.stdout.write(`${summarise(org.host, out, r.result, r.stats, r.elapsedMs)}\n`),
    stderr: deps.stderr,
    signal: deps.signal,
  });
  if (reconcile) {
    deps.stdout.write(`${summariseReconcile(org.host, out, reconcile.result, reconcile.elapsedMs)}\n`);
    return reconcileExitCode(reconcile.result);
  }
  switch (result.outcome) {
    case 'caught-up':
      return EXIT.ok;
    case 'lease-held':
      return EXIT.busy;
    default:
      return EXIT.partial;
  }
}

export interface IngestToLakeOptions {
  readonly org: OktaOrg;
  /**
   * The org's label in the lake (`events/org=<label>/`, its watermark and lease), when it is not
   * `org.host`. Only the demo sets it: its org is the mock Okta on loopback, filed under the simulated
   * org's real-looking host. It changes no request: the client reads `org.origin` only and sends the
   * credential nowhere else. An org label (`assertOrgLabel`).
   * @default org.host
   */
  readonly lakeLabel?: string;
  readonly credentials: CredentialProvider;
  readonly out: string;
  readonly stateDir?: string;
  readonly s3Endpoint?: string;
  readonly since?: string;
  readonly until?: string;
  readonly settleLagMs?: number;
  readonly maxWindowMs?: number;
  readonly rateLimitShare?: number;
  /** Cap on one page body (`OktaLogClientOptions.maxPageBytes`, `--max-page-mib`). @default 32 MiB */
  readonly maxPageBytes?: number;
  /** Sweep for late events after the run when it caught up (`--reconcile`). @default no sweep */
  readonly sweep?: SweepFlags;
  /** Called when the ingestion run ended, before the sweep (the CLI prints its summary). */
  readonly onIngested?: (ingested: IngestCommandResult) => void;
  readonly stderr: NodeJS.WriteStream;
  readonly signal?: AbortSignal;
}

export interface IngestToLakeResult extends IngestCommandResult {
  /** The sweep's result, when it ran. */
  readonly reconcile?: ReconcileOnLakeResult;
}

/**
 * One scheduled invocation (`runScheduledInvocation`) into a folder or S3 with progress on stderr:
 * the ingestion run, then the sweep when `sweep` is given and the run caught up. Used by `ingest`
 * (with `--reconcile`), the demo and the ingestion bench. Throws what the invocation failed with.
 */
export async function runIngestToLake(o: IngestToLakeOptions): Promise<IngestToLakeResult> {
  const started = Date.now();
  const label = lakeLabelOf(o.org, o.lakeLabel);
  const progress = new ProgressPrinter(o.stderr);
  const reporter = progress.reporter();
  const target = openLakeTarget({ out: o.out, stateDir: o.stateDir, s3Endpoint: o.s3Endpoint });
  const client = new OktaLogClient({ org: o.org, credentials: o.credentials, reporter, rateLimitShare: o.rateLimitShare, maxPageBytes: o.maxPageBytes });
  // DuckDB opens while the run takes its lease and fetches its first page.
  const writer = deferredWriter(DuckDbParquetWriter.open({}));
  let index: SinkLakeIndex | undefined;
  let ingested: IngestCommandResult | undefined;
  let sweepStarted = 0;
  try {
    const run = await runScheduledInvocation({
      ingest: {
        org: label,
        source: client,
        writer,
        sink: target.sink,
        store: target.store,
        owner: `cli-${randomUUID()}`,
        reporter,
        since: o.since,
        until: o.until,
        settleLagMs: o.settleLagMs,
        maxWindowMs: o.maxWindowMs,
        signal: o.signal,
        onProgress: (p) => progress.update(p),
      },
      afterIngest: (result) => {
        progress.done();
        ingested = { result, stats: client.stats, elapsedMs: Date.now() - started };
        o.onIngested?.(ingested);
        sweepStarted = Date.now();
      },
      ...(o.sweep
        ? {
            sweep: async () => {
              index = await SinkLakeIndex.open({ sink: target.sink });
              return { index, lateEvidence: target.lateEvidence, ...o.sweep };
            },
          }
        : {}),
    });
    if (run.error !== undefined) throw run.error;
    return { ...ingested!, ...(run.reconcile ? { reconcile: { result: run.reconcile, elapsedMs: Date.now() - sweepStarted } } : {}) };
  } finally {
    if (ingested === undefined) progress.done(); // else done before the summary
    await index?.close();
    await writer.close();
    target.close();
  }
}

function summarise(org: string, out: string, r: IngestResult, stats: OktaClientStats, elapsedMs: number): string {
  const retries = Object.entries(stats.retries)
    .filter(([, n]) => n > 0)
    .map(([cause, n]) => `${cause} ${n}`)
    .join(', ');
  const outcome: Record<IngestResult['outcome'], string> = {
    'caught-up': 'caught up',
    'time-budget': 'stopped on its time budget; run again to continue',
    stopped: 'interrupted; run again to continue from the last page',
    'lease-held': 'another run holds the lease for this org; nothing fetched',
  };
  return [
    `ingest ${org} -> ${out}: ${outcome[r.outcome]}`,
    `  events written     ${formatCount(r.eventsWritten)} in ${formatCount(r.pages)} pages, ${formatCount(r.windows)} windows`,
    `  objects written    ${formatCount(r.objectsWritten)} (${formatBytes(r.bytesWritten)})`,
    `  quarantined        ${formatCount(r.eventsQuarantined)} events, ${formatCount(r.pagesQuarantined)} whole pages`,
    `  duplicates dropped ${formatCount(r.duplicatesDropped)}`,
    ...(r.windowSplits > 0 || r.cursorRestarts > 0
      ? [
          `  Okta edges         ${formatCount(r.windowSplits)} window splits (query timed out), ${formatCount(r.cursorRestarts)} cursor restarts, ${formatCount(r.eventsAlreadyInLake)} events already in the lake`,
        ]
      : []),
    `  watermark          ${r.watermark ?? '(none yet)'}${r.lagMs !== undefined ? ` (${formatDuration(r.lagMs)} behind now)` : ''}`,
    `  requests           ${formatCount(stats.requests)}${retries ? `, retries: ${retries}` : ''}, rate-limit waits ${formatDuration(stats.rateLimitWaitMs)}`,
    `  elapsed            ${formatDuration(elapsedMs)}`,
  ].join('\n');
}
