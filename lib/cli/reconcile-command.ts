/**
 * `okta-lake reconcile`: the reconciliation sweep from a laptop, into the same lake and state as
 * `okta-lake ingest` (also run by `okta-lake ingest --reconcile` after the ingestion).
 */
import { randomUUID } from 'node:crypto';
import { SinkLakeIndex } from '../core/lake/lake-index';
import { reconcile, type ReconcileResult } from '../core/ingest/reconcile';
import { credentialEnvironmentChoices, type CredentialProvider } from '../core/okta/credentials';
import { OktaLogClient } from '../core/okta/client';
import { parseOrg, type OktaOrg } from '../core/okta/org';
import { DuckDbParquetWriter } from '../core/writer/parquet-writer';
import { optionalString, parse, parseNumber, requireString } from './args';
import { credentialsFromEnv } from './env-credentials';
import { lakeLabelOf, openLakeTarget } from './lake-target';
import { SWEEP_FLAGS, sweepFlags, type SweepFlags } from './sweep-flags';
import { EXIT, ProgressPrinter, formatBytes, formatCount, formatDuration } from './output';

export const RECONCILE_HELP = `Usage: okta-lake reconcile --org <host or URL> --out <dir | s3://bucket/prefix> [options]

Re-reads windows some time after they closed (by default 1 hour and 24 hours behind the
watermark that \`okta-lake ingest\` left), compares them with the uuids the lake holds for those
partitions, and writes only the events Okta recorded late, as new objects. Each offset keeps its
own progress beside the watermark, so every window is swept once per offset however often this
runs. \`okta-lake ingest --reconcile\` runs the same sweep after ingesting.

Options:
  --org <host|URL>        the Okta org, e.g. acme.okta.com (https only; http only for loopback)
  --out <dir|s3://...>    the lake: a folder, or an S3 bucket and prefix
  --offsets <list>        how far behind the watermark to sweep, e.g. 1h,24h (default 1h,24h)
  --span <dur>            length of a sweep window, whole hours dividing a day (default 1h)
  --max-backlog <dur>     an offset further behind than this skips ahead (default 24h)
  --rate-limit-share <x>  share of the org's rate limit this client may use, 0 to 1 (default 0.5)
  --max-page-mib <n>      largest page body read from Okta, in MiB (default 32); a larger one is
                          abandoned at the cap and retried
  --state <dir>           where the watermark is kept (default <out>/_state, or ./.okta-lake/state for S3)
  --s3-endpoint <url>     an S3-compatible endpoint instead of AWS (testing)

Credentials: as for \`okta-lake ingest\` (${credentialEnvironmentChoices()}).

Exit codes: 0 done, 1 failed (a rerun resumes), 2 usage, 3 Okta refused the credential,
4 interrupted (a rerun resumes), 5 another run holds this org's lease.`;

export interface ReconcileOnLakeOptions extends SweepFlags {
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
  readonly rateLimitShare?: number;
  /** Cap on one page body (`OktaLogClientOptions.maxPageBytes`, `--max-page-mib`). @default 32 MiB */
  readonly maxPageBytes?: number;
  readonly stderr: NodeJS.WriteStream;
  readonly signal?: AbortSignal;
}

export interface ReconcileOnLakeResult {
  readonly result: ReconcileResult;
  readonly elapsedMs: number;
}

/**
 * One sweep over a folder or S3 lake, with warnings on stderr (`okta-lake reconcile`; the watermark
 * is read from the state). `ingest --reconcile` sweeps within its invocation (`runIngestToLake`).
 */
export async function runReconcileOnLake(o: ReconcileOnLakeOptions): Promise<ReconcileOnLakeResult> {
  const started = Date.now();
  const label = lakeLabelOf(o.org, o.lakeLabel);
  const progress = new ProgressPrinter(o.stderr);
  const reporter = progress.reporter();
  const target = openLakeTarget({ out: o.out, stateDir: o.stateDir, s3Endpoint: o.s3Endpoint });
  const client = new OktaLogClient({ org: o.org, credentials: o.credentials, reporter, rateLimitShare: o.rateLimitShare, maxPageBytes: o.maxPageBytes });
  const writer = await DuckDbParquetWriter.open({});
  try {
    const index = await SinkLakeIndex.open({ sink: target.sink });
    try {
      const result = await reconcile({
        org: label,
        source: client,
        writer,
        sink: target.sink,
        lateEvidence: target.lateEvidence,
        index,
        store: target.store,
        owner: `cli-${randomUUID()}`,
        reporter,
        ...(o.offsetsMs !== undefined ? { offsetsMs: o.offsetsMs } : {}),
        ...(o.spanMs !== undefined ? { spanMs: o.spanMs } : {}),
        ...(o.maxBacklogMs !== undefined ? { maxBacklogMs: o.maxBacklogMs } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      return { result, elapsedMs: Date.now() - started };
    } finally {
      await index.close();
    }
  } finally {
    progress.done();
    await writer.close();
    target.close();
  }
}

/** `3600000` -> `1h`, `5400000` -> `90m`. */
export function offsetLabel(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.round(ms / 60_000)}m`;
}

export function summariseReconcile(org: string, out: string, r: ReconcileResult, elapsedMs: number): string {
  const outcome: Record<ReconcileResult['outcome'], string> = {
    done: 'every due window swept',
    'time-budget': 'stopped on its time budget; run again to continue',
    stopped: 'interrupted; run again to continue',
    'lease-held': 'another run holds the lease for this org; nothing swept',
    'no-watermark': 'nothing ingested yet; nothing to sweep',
  };
  const lines = r.lines.map(
    (l) =>
      `  offset ${offsetLabel(l.offsetMs).padEnd(11)}${l.leaseHeld ? 'skipped (another run holds it)' : `${formatCount(l.windows)} windows, ${formatCount(l.lateEvents)} late events`}` +
      (l.sweptUntil ? `, swept until ${l.sweptUntil}` : ''),
  );
  return [
    `reconcile ${org} -> ${out}: ${outcome[r.outcome]}`,
    `  late events found  ${formatCount(r.lateEvents)} (written as new objects)${r.lateQuarantined > 0 ? `, ${formatCount(r.lateQuarantined)} quarantined` : ''}`,
    `  windows swept      ${formatCount(r.windows)} (${formatCount(r.pages)} pages, ${formatCount(r.eventsSeen)} events compared)`,
    ...(r.windowsSkipped > 0 ? [`  windows skipped    ${formatCount(r.windowsSkipped)} (an offset had fallen more than the backlog behind)`] : []),
    ...(r.duplicatesFound > 0 ? [`  DUPLICATES         ${formatCount(r.duplicatesFound)} rows of events the lake already holds, in the swept windows`] : []),
    `  objects written    ${formatCount(r.objectsWritten)} (${formatBytes(r.bytesWritten)})`,
    ...lines,
    `  elapsed            ${formatDuration(elapsedMs)}`,
  ].join('\n');
}

export function reconcileExitCode(r: ReconcileResult): number {
  switch (r.outcome) {
    case 'done':
    case 'no-watermark':
      return EXIT.ok;
    case 'lease-held':
      return EXIT.busy;
    default:
      return EXIT.partial;
  }
}

export interface ReconcileCommandDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
  readonly signal?: AbortSignal;
}

export async function reconcileCommand(argv: readonly string[], deps: ReconcileCommandDeps): Promise<number> {
  const { values } = parse(argv, {
    org: { type: 'string' },
    out: { type: 'string' },
    ...SWEEP_FLAGS,
    'rate-limit-share': { type: 'string' },
    'max-page-mib': { type: 'string' },
    state: { type: 'string' },
    's3-endpoint': { type: 'string' },
  });
  if (values.help) {
    deps.stdout.write(`${RECONCILE_HELP}\n`);
    return EXIT.ok;
  }
  const org = parseOrg(requireString(values, 'org'), { allowInsecureLoopback: true });
  const out = requireString(values, 'out');
  const share = optionalString(values, 'rate-limit-share');
  const maxPageMib = optionalString(values, 'max-page-mib');
  const sweep = sweepFlags(values);
  const credentials = credentialsFromEnv(deps.env, org);
  const { result, elapsedMs } = await runReconcileOnLake({
    org,
    credentials,
    out,
    stateDir: optionalString(values, 'state'),
    s3Endpoint: optionalString(values, 's3-endpoint'),
    ...sweep,
    rateLimitShare: share ? parseNumber(share, '--rate-limit-share', 0.01, 1) : undefined,
    maxPageBytes: maxPageMib ? parseNumber(maxPageMib, '--max-page-mib', 1, 1024, true) * 1024 * 1024 : undefined,
    stderr: deps.stderr,
    signal: deps.signal,
  });
  deps.stdout.write(`${summariseReconcile(org.host, out, result, elapsedMs)}\n`);
  return reconcileExitCode(result);
}
