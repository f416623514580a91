/**
 * `okta-lake compact` and `okta-lake verify`: compaction of a lake's closed org-days, and the proof
 * that a compacted day holds exactly the events of its originals (docs/compaction.md).
 */
import { FileWatermarkStore } from '../adapters/file-watermark-store';
import { compactLake, orgsOfDay, openCompactionWorkspace, verifyDay, type CompactLakeResult, type DayVerification } from '../core/compact';
import { assertDay } from '../core/compact/records';
import { FREEZE_GRACE_MS } from '../core/compact/state';
import { assertOrgLabel } from '../core/layout';
import { UsageError, optionalString, parse, parseNumber, requireString } from './args';
import { openLakeTarget } from './lake-target';
import { EXIT, formatBytes, formatCount, formatDuration } from './output';

export const COMPACT_HELP = `Usage: okta-lake compact --lake <dir | s3://bucket/prefix> [options]

Rewrites each closed org-day of the lake as at most 2 Parquet files under compacted/ (ZSTD, sorted
by hour, event type and time), verifies them against the originals event by event, and only then
switches readers to them. Originals are never deleted and no object is written twice.

A deployed stack compacts its own lake every hour (the compaction function), and makes Athena's
view of it again after each run. Do not run this on that lake while the function may run (two
compactions of one day at once are not designed for): set compaction.enabled to false first.
Athena reads what this compacts from the originals until its view is made again (docs/compaction.md).

A day is closed when the org's ingestion watermark (in the state folder) is past the day's end plus
the longest reconciliation sweep offset (24 h) plus a margin (1 h). Its first run freezes the day
(later events for it are written under late/) and compacts it once the grace period has passed
(run again then); events that arrive later for a compacted day are read from late/ at once and
absorbed by the next compaction of that day.

Options:
  --lake <dir|s3://...>     the lake
  --org <host>              only this org (default: every org of the lake)
  --day <YYYY-MM-DD>        only this day
  --grace-minutes <n>       minutes between freezing a day and reading it (default ${FREEZE_GRACE_MS / 60_000});
                            0 for a lake nobody is writing to
  --closed-through <day>    days up to this one count as closed whatever the watermark (a lake
                            with no watermark, such as an import, that nobody writes to any more)
  --part-rows <n>           a day with more events is written as 2 parts (default 2000000)
  --state <dir>             where the watermark is kept (default <dir>/_state, or ./.okta-lake/state for S3)
  --s3-endpoint <url>       an S3-compatible endpoint instead of AWS (testing)

Exit codes: 0 done (days waiting for their grace period included), 1 a day was not compacted (a
conflict or a failed verification: see the summary), 2 usage.`;

export const VERIFY_HELP = `Usage: okta-lake verify --lake <dir | s3://bucket/prefix> --day <YYYY-MM-DD> [--org <host>]

Proves that a compacted day holds exactly the events of its originals: reads the day's original
objects (events/, and the late/ objects its current generation absorbed) and the compacted parts
again, and compares them event by event (count, uuids, sha256 of each raw), and checks the parts and
originals against the manifest (sizes, sha256). Reports removed, added and changed events. Writes
nothing.

Options:
  --lake <dir|s3://...>     the lake
  --day <YYYY-MM-DD>        the day
  --org <host>              only this org (default: every org with that day)
  --s3-endpoint <url>       an S3-compatible endpoint instead of AWS (testing)

Exit codes: 0 every compacted day verified (a day not compacted has nothing to prove), 1 a day
failed verification, 2 usage.`;

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

const dayFlag = (values: Record<string, string | boolean | undefined>, name: string): string | undefined => {
  const v = optionalString(values, name);
  if (v === undefined) return undefined;
  try {
    return assertDay(v);
  } catch (cause) {
    throw new UsageError(`--${name} must be a day such as 2024-05-01, got "${v}"`, { cause });
  }
};

const orgFlag = (values: Record<string, string | boolean | undefined>): string | undefined => {
  const v = optionalString(values, 'org');
  if (v === undefined) return undefined;
  try {
    return assertOrgLabel(v.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
  } catch (cause) {
    throw new UsageError(`--org must be an org host such as acme.okta.com, got "${v}"`, { cause });
  }
};

export function summariseCompaction(lake: string, r: CompactLakeResult, elapsedMs: number): { text: string; failed: number } {
  const lines = [`compact ${lake}:`];
  let failed = 0;
  for (const d of r.days) {
    const at = `  ${d.org} ${d.dt}`;
    if ('conflict' in d) {
      failed++;
      lines.push(`${at}  CONFLICT, not compacted: ${d.conflict.count} uuid(s) stored with different raw texts (${d.conflict.uuids.slice(0, 3).join(', ')}); hunt lake-duplicate-events shows them`);
    } else if ('failed' in d) {
      failed++;
      lines.push(`${at}  FAILED, not switched (${d.failed.name}): ${d.failed.message}`);
    } else if (d.result.outcome === 'waiting') {
      lines.push(`${at}  frozen at ${d.result.frozenAt}; compacted by a run after ${d.result.readyAt} (the grace period)`);
    } else if (d.result.outcome === 'compacted') {
      const x = d.result;
      const partBytes = x.parts.reduce((n, p) => n + p.bytes, 0);
      lines.push(
        `${at}  generation ${x.generation}${x.resumed ? ' (resumed)' : ''}: ${formatCount(x.sourceObjects)} objects (${formatBytes(x.sourceBytes)}) -> ` +
          `${x.parts.length} part${x.parts.length === 1 ? '' : 's'} (${formatBytes(partBytes)}), ${formatCount(x.rows)} events verified` +
          (x.duplicateRowsCollapsed > 0 ? `, ${formatCount(x.duplicateRowsCollapsed)} repeated rows written once` : '') +
          (x.absorbedLate > 0 ? `, ${formatCount(x.absorbedLate)} late objects absorbed` : ''),
      );
    }
  }
  const sum = (m: Readonly<Record<string, number>>) => Object.values(m).reduce((a, b) => a + b, 0);
  if (r.days.length === 0) lines.push('  nothing to compact');
  if (sum(r.upToDate) > 0) lines.push(`  ${formatCount(sum(r.upToDate))} closed day(s) already compacted, nothing new`);
  if (sum(r.open) > 0) lines.push(`  ${formatCount(sum(r.open))} day(s) not closed yet (watermark not past day end + 24 h + 1 h)`);
  for (const org of r.noWatermark) lines.push(`  ${org}: no watermark in the state folder (an import?): pass --closed-through to say which days are closed`);
  lines.push(`  elapsed ${formatDuration(elapsedMs)}`);
  return { text: lines.join('\n'), failed };
}

export async function compactCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parse(argv, {
    lake: { type: 'string' },
    org: { type: 'string' },
    day: { type: 'string' },
    'grace-minutes': { type: 'string' },
    'closed-through': { type: 'string' },
    'part-rows': { type: 'string' },
    state: { type: 'string' },
    's3-endpoint': { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${COMPACT_HELP}\n`);
    return EXIT.ok;
  }
  const lake = requireString(values, 'lake');
  const org = orgFlag(values);
  const day = dayFlag(values, 'day');
  const closedThrough = dayFlag(values, 'closed-through');
  const grace = optionalString(values, 'grace-minutes');
  const partRows = optionalString(values, 'part-rows');
  const target = openLakeTarget({ out: lake, stateDir: optionalString(values, 'state'), s3Endpoint: optionalString(values, 's3-endpoint') });
  const started = Date.now();
  try {
    const result = await compactLake({
      sink: target.sink,
      watermarks: new FileWatermarkStore({ dir: target.stateLocation }),
      ...(org ? { orgs: [org] } : {}),
      ...(day ? { day } : {}),
      ...(closedThrough ? { closedThrough } : {}),
      ...(grace !== undefined ? { graceMs: parseNumber(grace, '--grace-minutes', 0, 24 * 60) * 60_000 } : {}),
      ...(partRows !== undefined ? { partRows: parseNumber(partRows, '--part-rows', 1, 1e9, true) } : {}),
    });
    const { text, failed } = summariseCompaction(target.sink.location, result, Date.now() - started);
    io.stdout.write(`${text}\n`);
    return failed > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    target.close();
  }
}

export function summariseVerification(v: DayVerification): string {
  if (v.status === 'not-compacted') return `  ${v.org} ${v.dt}  not compacted: readers read its ${formatCount(v.originals)} original objects; nothing to verify`;
  const c = v.comparison;
  const head =
    `  ${v.org} ${v.dt}  ${v.status === 'verified' ? 'VERIFIED' : 'FAILED'}: generation ${v.generation}, ${v.parts} part(s) hold ${formatCount(c.compactedEvents)} events ` +
    `(${formatCount(c.compactedRows)} rows); the ${formatCount(v.originals)} originals hold ${formatCount(c.originalEvents)} (${formatCount(c.originalRows)} rows)`;
  const counts = `    removed ${formatCount(c.removed.count)}, added ${formatCount(c.added.count)}, changed ${formatCount(c.changed.count)}, duplicated ${formatCount(c.duplicated.count)}; checksum ${c.compactedChecksum.slice(0, 16)}${c.compactedChecksum === c.originalChecksum ? ' = originals' : ` != originals ${c.originalChecksum.slice(0, 16)}`}`;
  const late = v.unabsorbedLate > 0 ? [`    ${formatCount(v.unabsorbedLate)} late object(s) not absorbed yet (read besides the parts; the next compaction absorbs them)`] : [];
  return [head, counts, ...late, ...v.problems.map((p) => `    - ${p}`)].join('\n');
}

export async function verifyCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parse(argv, { lake: { type: 'string' }, day: { type: 'string' }, org: { type: 'string' }, 's3-endpoint': { type: 'string' } });
  if (values.help) {
    io.stdout.write(`${VERIFY_HELP}\n`);
    return EXIT.ok;
  }
  const lake = requireString(values, 'lake');
  const day = dayFlag(values, 'day');
  if (!day) throw new UsageError('--day is required');
  const org = orgFlag(values);
  const target = openLakeTarget({ out: lake, s3Endpoint: optionalString(values, 's3-endpoint') });
  const ws = await openCompactionWorkspace();
  try {
    const orgs = org ? [org] : await orgsOfDay(target.sink, day);
    const results: DayVerification[] = [];
    for (const o of orgs) results.push(await verifyDay({ reader: target.sink, org: o, dt: day, workspace: ws }));
    const failed = results.filter((r) => r.status === 'failed').length;
    const verified = results.filter((r) => r.status === 'verified').length;
    const lines = [`verify ${target.sink.location} ${day}:`, ...results.map(summariseVerification)];
    if (results.length === 0) lines.push('  no org has events on that day');
    lines.push(`  ${verified} verified, ${failed} failed, ${results.length - verified - failed} not compacted`);
    io.stdout.write(`${lines.join('\n')}\n`);
    return failed > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    await ws.close();
    target.close();
  }
}
