/**
 * Helpers for the detection runner tests: the suppression table on dynalite, and Athena responses
 * built from plain rows (header row first on the first page, NextToken paging) for
 * aws-sdk-client-mock. The clock and time budgets are the test kit's (testkit/clock.ts).
 */
import '../support/aws-env';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { GetQueryExecutionOutput, GetQueryResultsInput, GetQueryResultsOutput, QueryExecutionState } from '@aws-sdk/client-athena';
import { SUPPRESSION_TABLE_KEY } from '../../lib/adapters/dynamodb-suppression-store';
import { createKeyedTable } from '../support/dynamodb';

/** Creates the suppression table (partition key `fingerprint`, string) and waits until it is ACTIVE. */
export function createSuppressionTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return createKeyedTable(client, tableName, SUPPRESSION_TABLE_KEY);
}

export function execution(state: QueryExecutionState, extra: { reason?: string; errorMessage?: string; scanned?: number } = {}): GetQueryExecutionOutput {
  return {
    QueryExecution: {
      Status: {
        State: state,
        ...(extra.reason !== undefined ? { StateChangeReason: extra.reason } : {}),
        ...(extra.errorMessage !== undefined ? { AthenaError: { ErrorMessage: extra.errorMessage, ErrorCategory: 2 } } : {}),
      },
      ...(extra.scanned !== undefined ? { Statistics: { DataScannedInBytes: extra.scanned } } : {}),
    },
  };
}

/**
 * A GetQueryResults fake over `rows` (null for SQL NULL), `pageSize` rows per page, the header row
 * counting as the first row of the first page as Athena does; NextToken is `page-<n>`.
 */
export function athenaResults(
  columns: readonly string[],
  rows: readonly (readonly (string | null)[])[],
  pageSize: number,
): { respond: (input: GetQueryResultsInput) => GetQueryResultsOutput; tokensSeen: (string | undefined)[] } {
  const all = [columns, ...rows];
  const tokensSeen: (string | undefined)[] = [];
  const respond = (input: GetQueryResultsInput): GetQueryResultsOutput => {
    tokensSeen.push(input.NextToken);
    const page = input.NextToken === undefined ? 0 : Number(input.NextToken.replace('page-', ''));
    const slice = all.slice(page * pageSize, (page + 1) * pageSize);
    const more = (page + 1) * pageSize < all.length;
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: columns.map((c) => ({ Name: c, Label: c, Type: 'varchar' })) },
        Rows: slice.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
      },
      ...(more ? { NextToken: `page-${page + 1}` } : {}),
    };
  };
  return { respond, tokensSeen };
}
