/**
 * `okta-lake import`: exported System Log events (a JSON array, or one event per line) into the same
 * lake layout as `ingest`. Object names derive from the file's content and the lake is write-once,
 * so importing the same file again finds its objects stored and writes nothing new (store-page.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { assertOrgLabel, quarantineObjectKey } from '../core/layout';
import type { LateEvidenceLog } from '../core/late-evidence';
import type { LakeSink, PageWriteInput, PageWriter } from '../core/ports';
import { putNew, storePage } from '../core/ingest/store-page';
import { DuckDbParquetWriter, type QuarantineLine } from '../core/writer/parquet-writer';
import { UsageError, optionalString, parse, requireString } from './args';
import { openLakeTarget } from './lake-target';
import { EXIT, formatBytes, formatCount } from './output';

export const IMPORT_HELP = `Usage: okta-lake import <file.json | file.jsonl> --out <dir | s3://bucket/prefix> [--org <label>]

Writes exported Okta System Log events into the lake, partitioned by published time. The file is
a JSON array of events (as /api/v1/logs returns them) or one JSON event per line. Every event
lands once; events that cannot be placed (no uuid, no valid published time, not JSON) are kept
verbatim under quarantine/ and counted.

Options:
  --out <dir|s3://...>   the lake
  --org <label>          the org label in the lake path (default: ${'imported'}), e.g. acme.okta.com
  --s3-endpoint <url>    an S3-compatible endpoint instead of AWS (testing)

Exit codes: 0 imported (quarantined events are reported, not an error), 1 failed, 2 usage.`;

export const DEFAULT_IMPORT_ORG = 'imported';

export interface ImportSummary {
  readonly eventsWritten: number;
  readonly eventsQuarantined: number;
  readonly duplicatesDropped: number;
  readonly objectsWritten: number;
  readonly bytesWritten: number;
  /** Objects already in the lake from an earlier import of the same content (nothing rewritten). */
  readonly objectsAlreadyStored: number;
  /** True when the file was not valid JSON as a whole and was kept whole in quarantine. */
  readonly fileQuarantined: boolean;
}

/** Imports one file's text; exported for tests and the demo. */
export async function importText(
  text: string,
  org: string,
  writer: PageWriter,
  sink: LakeSink,
  now = new Date(),
  lateEvidence?: Pick<LateEvidenceLog, 'record'>,
): Promise<ImportSummary> {
  assertOrgLabel(org);
  const name = `import-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  const format = text.trimStart().startsWith('[') ? 'array' : 'newline_delimited';
  const totals = { eventsWritten: 0, eventsQuarantined: 0, duplicatesDropped: 0, objectsWritten: 0, bytesWritten: 0, objectsAlreadyStored: 0, fileQuarantined: false };
  const store = async (key: string, body: Uint8Array) => {
    if ((await putNew(sink, key, body, 'content')) === 'exists') {
      totals.objectsAlreadyStored++;
      return;
    }
    totals.objectsWritten++;
    totals.bytesWritten += body.byteLength;
  };
  const add = async (input: PageWriteInput) => {
    // Imported events arrive after the detections may have evaluated their time: recorded before
    // they are stored, so that `okta-lake detect` evaluates that time again (a retried import
    // records again, which costs a re-evaluation, never a missed one). The span comes from the
    // writer's result, so the page is written once to learn it and the store step stores it.
    let recorded = false;
    const recording: PageWriter = {
      writePage: async (page) => {
        const r = await writer.writePage(page);
        if (!recorded && lateEvidence && r.minPublished !== undefined && r.maxPublished !== undefined) {
          recorded = true;
          const fromMs = Date.parse(r.minPublished);
          await lateEvidence.record(org, { fromMs, toMs: Date.parse(r.maxPublished), maxDelayMs: Math.max(0, now.getTime() - fromMs) }, now.getTime());
        }
        return r;
      },
      close: () => writer.close(),
    };
    const stored = await storePage({ writer: recording, sink }, input, 'content');
    const r = stored.result;
    totals.objectsWritten += stored.written.length;
    totals.bytesWritten += stored.bytesWritten;
    totals.objectsAlreadyStored += stored.alreadyStored.length;
    totals.eventsWritten += r.eventsWritten;
    totals.eventsQuarantined += r.eventsQuarantined;
    totals.duplicatesDropped += r.duplicatesDropped;
  };
  const dt = now.toISOString().slice(0, 10);

  try {
    await add({ org, body: text, format, name, ingestedAt: now });
    return totals;
  } catch (error) {
    if (!(error instanceof Error && error.name === 'MalformedPageError')) throw error;
  }

  if (format === 'array') {
    // Not a JSON array at all: keep the file whole, verbatim.
    await store(quarantineObjectKey(org, dt, `${name}-file`).replace(/\.jsonl$/, '.json'), new TextEncoder().encode(text));
    totals.fileQuarantined = true;
    return totals;
  }
  // One event per line: keep the lines that are not JSON verbatim, write the others.
  // Quarantine lines have the writer's format (`QuarantineLine`), with reason `invalid_json`.
  const good: string[] = [];
  const bad: string[] = [];
  text.split('\n').forEach((line, index) => {
    const candidate = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (candidate.trim() === '') return;
    try {
      JSON.parse(candidate);
      good.push(candidate);
    } catch {
      const entry: Omit<QuarantineLine, 'reason'> & { reason: 'invalid_json' } = { reason: 'invalid_json', index, raw: line };
      bad.push(JSON.stringify(entry));
    }
  });
  if (bad.length > 0) {
    await store(quarantineObjectKey(org, dt, `${name}-invalid-json`), new TextEncoder().encode(`${bad.join('\n')}\n`));
    totals.eventsQuarantined += bad.length;
  }
  if (good.length > 0) await add({ org, body: good.join('\n'), format, name, ingestedAt: now });
  return totals;
}

export async function importCommand(argv: readonly string[], io: { stdout: NodeJS.WritableStream }): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string' }, org: { type: 'string' }, 's3-endpoint': { type: 'string' } }, true);
  if (values.help) {
    io.stdout.write(`${IMPORT_HELP}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('import takes exactly one file (see okta-lake import --help)');
  const file = positionals[0];
  const out = requireString(values, 'out');
  const org = optionalString(values, 'org') ?? DEFAULT_IMPORT_ORG;
  try {
    assertOrgLabel(org);
  } catch (cause) {
    throw new UsageError(`--org ${JSON.stringify(org)} is not allowed: use lower-case letters, digits, dots and dashes`, { cause });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new UsageError(`cannot read ${file}`, { cause });
  }
  const target = openLakeTarget({ out, s3Endpoint: optionalString(values, 's3-endpoint') });
  const writer = await DuckDbParquetWriter.open({});
  try {
    const s = await importText(text, org, writer, target.sink, new Date(), target.lateEvidence);
    io.stdout.write(
      [
        `import ${basename(file)} -> ${target.sink.location} (org=${org})`,
        `  events written     ${formatCount(s.eventsWritten)}`,
        `  quarantined        ${s.fileQuarantined ? 'the whole file (not valid JSON)' : `${formatCount(s.eventsQuarantined)} events`}`,
        `  duplicates dropped ${formatCount(s.duplicatesDropped)}`,
        `  objects written    ${formatCount(s.objectsWritten)} (${formatBytes(s.bytesWritten)})`,
        ...(s.objectsAlreadyStored > 0 ? [`  already stored     ${formatCount(s.objectsAlreadyStored)} objects (this content was imported before)`] : []),
      ].join('\n') + '\n',
    );
    return EXIT.ok;
  } finally {
    await writer.close();
    target.close();
  }
}
