/**
 * `okta-lake import`: an exported System Log file into the same lake layout as `ingest`, through
 * lib/core/import/import.ts (every event once, conflicts and unreadable pieces kept verbatim in
 * quarantine, nothing written twice however often or in whatever shape it is imported).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { importExport, type ImportSummary } from '../core/import/import';
import { SinkLakeIndex } from '../core/lake/lake-index';
import { assertOrgLabel } from '../core/layout';
import type { LateEvidenceLog } from '../core/late-evidence';
import type { LakeSink, PageWriter } from '../core/ports';
import { DuckDbParquetWriter } from '../core/writer/parquet-writer';
import { UsageError, optionalString, parse, requireString } from './args';
import { openLakeTarget } from './lake-target';
import { EXIT, formatBytes, formatCount } from './output';

export const IMPORT_HELP = `Usage: okta-lake import <file> --out <dir | s3://bucket/prefix> --org <host>

Writes exported Okta System Log events into the lake, partitioned by published time. The file may be
a JSON array (as /api/v1/logs returns it, or several saved end to end), one JSON event per line, or
JSON events one after another, pretty-printed or not; a UTF-8 byte order mark and CR LF line ends
are fine. Top-level keys that differ from Okta's only in case (eventtype, debugcontext) are read as
Okta's; raw keeps the text as it was.

Every event lands once: a repeat (same uuid, same text) in the file or already in the lake is
dropped and counted; the same uuid with another text is kept in quarantine, verbatim, as a
conflict; so are pieces that are not JSON, not valid UTF-8 (as base64 of their bytes), not an
object or without a uuid. Importing the same events again writes nothing new.

Options:
  --out <dir|s3://...>   the lake
  --org <host>           the Okta org the export came from, e.g. acme.okta.com (the lake's org label;
                         list it in the stack's configuration so that Athena sees it)
  --s3-endpoint <url>    an S3-compatible endpoint instead of AWS (testing)

Exit codes: 0 imported (quarantined pieces are reported, not an error), 1 failed, 2 usage.`;

/** Imports one file's bytes into `sink` (the lake), with the lake's own index; exported for tests and benches. */
export async function importBytes(
  bytes: Uint8Array,
  org: string,
  writer: PageWriter,
  sink: LakeSink,
  now = new Date(),
  lateEvidence?: Pick<LateEvidenceLog, 'record'>,
): Promise<ImportSummary> {
  const index = await SinkLakeIndex.open({ sink });
  try {
    return await importExport({ bytes, org, writer, sink, index, now, ...(lateEvidence ? { lateEvidence } : {}) });
  } finally {
    await index.close();
  }
}

/** The summary lines `okta-lake import` prints. */
export function formatImportSummary(file: string, location: string, org: string, s: ImportSummary): string {
  const quarantined = Object.entries(s.quarantined).sort();
  const total = quarantined.reduce((n, [, v]) => n + v, 0);
  const lines = [
    `import ${file} -> ${location} (org=${org})`,
    `  read               ${formatCount(s.pieces)} pieces (${s.shapes.join(' and ') || 'empty'}${s.bom ? ', byte order mark skipped' : ''})`,
    `  events written     ${formatCount(s.eventsWritten)}`,
    `  repeated           ${formatCount(s.repeatedInFile)} in the file, ${formatCount(s.repeatedInLake)} already in the lake (dropped)`,
    `  conflicting        ${formatCount(s.conflictsInFile)} in the file, ${formatCount(s.conflictsInLake)} with the lake (same uuid, other text: quarantined)`,
    `  quarantined        ${formatCount(total)} pieces${quarantined.length > 0 ? ` (${quarantined.map(([r, n]) => `${r} ${formatCount(n)}`).join(', ')})` : ''}`,
  ];
  if (s.alreadyQuarantined > 0) lines.push(`  already kept       ${formatCount(s.alreadyQuarantined)} quarantined pieces from an earlier import (not kept again)`);
  const renames = Object.entries(s.keysReadAsOkta).sort();
  if (renames.length > 0) lines.push(`  keys read as Okta's ${renames.map(([k, n]) => `${k} (${formatCount(n)})`).join(', ')}`);
  lines.push(`  objects written    ${formatCount(s.objectsWritten)} (${formatBytes(s.bytesWritten)})`);
  if (s.objectsAlreadyStored > 0) lines.push(`  already stored     ${formatCount(s.objectsAlreadyStored)} objects (this content was imported before)`);
  return `${lines.join('\n')}\n`;
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
  const org = optionalString(values, 'org');
  if (org === undefined) {
    throw new UsageError('import needs --org <host>: the Okta org the export came from (e.g. acme.okta.com), so that its events sit beside that org\'s in the lake and Athena');
  }
  try {
    assertOrgLabel(org);
  } catch (cause) {
    throw new UsageError(`--org ${JSON.stringify(org)} is not allowed: use lower-case letters, digits, dots and dashes`, { cause });
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    throw new UsageError(`cannot read ${file}`, { cause });
  }
  const target = openLakeTarget({ out, s3Endpoint: optionalString(values, 's3-endpoint') });
  const writer = await DuckDbParquetWriter.open({});
  try {
    const s = await importBytes(bytes, org, writer, target.sink, new Date(), target.lateEvidence);
    io.stdout.write(formatImportSummary(basename(file), target.sink.location, org, s));
    return EXIT.ok;
  } finally {
    await writer.close();
    target.close();
  }
}
