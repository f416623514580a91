/**
 * A finding's fingerprint: sha256 over the detection id and the values of its finding-key columns,
 * so the same finding (same key values) of the same detection always gets the same fingerprint, and
 * two detections never share one. The values are JSON-encoded as a list, so NULL, "" and values that
 * contain separators stay distinct.
 */
import { createHash } from 'node:crypto';
import { FindingKeyColumnError } from './errors';
import type { ResultRow } from './ports';

export function fingerprint(detectionId: string, findingKey: readonly string[], row: ResultRow): string {
  const values = findingKey.map((column) => row[column] ?? null);
  return createHash('sha256').update(JSON.stringify([detectionId, ...values])).digest('hex');
}

/** Throws `FindingKeyColumnError` when the result columns lack any finding-key column. */
export function assertFindingKeyColumns(detectionId: string, findingKey: readonly string[], columns: readonly string[]): void {
  const present = new Set(columns);
  const missing = findingKey.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new FindingKeyColumnError(
      `detection "${detectionId}": the query results have no column ${missing.map((c) => `"${c}"`).join(', ')} ` +
        `named in its finding_key; result columns: ${columns.length > 0 ? columns.join(', ') : '(none)'}. ` +
        'Make the named query select the finding_key columns, or change finding_key in the query file header.',
      missing,
      columns,
    );
  }
}
