/**
 * The contract between the stack and the DynamoDB adapters: the key schema of each state table.
 * The constructs create the tables with these names, the adapters read and write items by them;
 * both import them from here, so neither depends on the other.
 *
 * This module is bundled into the functions: it must import nothing.
 */

/** Partition key (type S) of the watermark table: one item per org (`DynamoDbWatermarkStore`). */
export const WATERMARK_TABLE_KEY = 'org';

/**
 * Partition key (type S) of the detection state table: evaluation cursors and late-evidence logs
 * (`DynamoDbEvaluationStore`).
 */
export const EVALUATION_TABLE_KEY = 'key';

/** Partition key (type S) of the suppression table: one item per alerted finding (`DynamoDbSuppressionStore`). */
export const SUPPRESSION_TABLE_KEY = 'fingerprint';
/** TTL attribute (type N, epoch seconds) of the suppression table: TTL is enabled on it. */
export const SUPPRESSION_TTL_ATTRIBUTE = 'expiresAt';
