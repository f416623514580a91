/**
 * `QueryRunner` on Amazon Athena: GetNamedQuery, StartQueryExecution (in a workgroup, with the
 * database as query execution context), GetQueryExecution, GetQueryResults (NextToken paging) and
 * StopQueryExecution. Every SDK error is wrapped in a `QueryRunnerError` naming the call and the id.
 *
 * Athena puts the column names as the first row of the first results page of a SELECT; that row is
 * returned as `columns` (from the result set metadata) and not as a data row.
 */
import {
  AthenaClient,
  GetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type GetQueryResultsOutput,
} from '@aws-sdk/client-athena';
import { ConfigError } from '../core/errors';
import { QueryRunnerError } from '../core/detect/errors';
import { QUERY_STATES, type NamedQuery, type QueryRunner, type QueryState, type QueryStatus, type ResultPage, type ResultRow } from '../core/detect/ports';

export interface AthenaQueryRunnerOptions {
  readonly client: AthenaClient;
  /** Rows per GetQueryResults call (Athena allows 1 to 1000). @default 1000 */
  readonly pageSize?: number;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export class AthenaQueryRunner implements QueryRunner {
  private readonly client: AthenaClient;
  private readonly pageSize: number;

  constructor(options: AthenaQueryRunnerOptions) {
    const pageSize = options.pageSize ?? 1000;
    if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 1000)) {
      throw new ConfigError(`AthenaQueryRunner pageSize must be a whole number from 1 to 1000, got ${pageSize}`);
    }
    this.client = options.client;
    this.pageSize = pageSize;
  }

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new QueryRunnerError(`Athena ${what} failed: ${describeError(error)}`, { cause: error });
    }
  }

  async getNamedQuery(namedQueryId: string): Promise<NamedQuery> {
    const out = await this.call(`GetNamedQuery ${namedQueryId}`, () => this.client.send(new GetNamedQueryCommand({ NamedQueryId: namedQueryId })));
    const q = out.NamedQuery;
    if (q === undefined || typeof q.QueryString !== 'string' || q.QueryString.trim().length === 0) {
      throw new QueryRunnerError(`Athena GetNamedQuery ${namedQueryId} returned no query text`);
    }
    return {
      name: q.Name ?? namedQueryId,
      queryString: q.QueryString,
      ...(q.Database !== undefined ? { database: q.Database } : {}),
      ...(q.WorkGroup !== undefined ? { workGroup: q.WorkGroup } : {}),
    };
  }

  async start(queryString: string, context: { readonly workGroup: string; readonly database: string }): Promise<string> {
    // The SDK fills ClientRequestToken, so its own retries of this call start the query once.
    const out = await this.call(`StartQueryExecution in workgroup ${context.workGroup}`, () =>
      this.client.send(
        new StartQueryExecutionCommand({
          QueryString: queryString,
          WorkGroup: context.workGroup,
          QueryExecutionContext: { Database: context.database },
        }),
      ),
    );
    if (!out.QueryExecutionId) throw new QueryRunnerError(`Athena StartQueryExecution in workgroup ${context.workGroup} returned no execution id`);
    return out.QueryExecutionId;
  }

  async poll(executionId: string): Promise<QueryStatus> {
    const out = await this.call(`GetQueryExecution ${executionId}`, () =>
      this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: executionId })),
    );
    const status = out.QueryExecution?.Status;
    const state = status?.State;
    if (state === undefined || !(QUERY_STATES as readonly string[]).includes(state)) {
      throw new QueryRunnerError(`Athena GetQueryExecution ${executionId} returned an unknown state "${String(state)}"`);
    }
    const reason = status?.AthenaError?.ErrorMessage ?? status?.StateChangeReason;
    const scanned = out.QueryExecution?.Statistics?.DataScannedInBytes;
    return {
      state: state as QueryState,
      ...(reason !== undefined ? { reason } : {}),
      ...(scanned !== undefined ? { dataScannedBytes: scanned } : {}),
    };
  }

  async stop(executionId: string): Promise<void> {
    await this.call(`StopQueryExecution ${executionId}`, () => this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: executionId })));
  }

  async *results(executionId: string): AsyncIterable<ResultPage> {
    let nextToken: string | undefined;
    let columns: string[] | undefined;
    let first = true;
    do {
      const token = nextToken;
      const out: GetQueryResultsOutput = await this.call(`GetQueryResults ${executionId}`, () =>
        this.client.send(
          new GetQueryResultsCommand({ QueryExecutionId: executionId, MaxResults: this.pageSize, ...(token !== undefined ? { NextToken: token } : {}) }),
        ),
      );
      const info = out.ResultSet?.ResultSetMetadata?.ColumnInfo;
      if (columns === undefined) {
        if (info === undefined) throw new QueryRunnerError(`Athena GetQueryResults ${executionId} returned no column metadata`);
        columns = info.map((c, i) => c.Name ?? c.Label ?? `_col${i}`);
      }
      let rawRows = out.ResultSet?.Rows ?? [];
      if (first && rawRows.length > 0) {
        const labels = info?.map((c) => c.Label ?? c.Name) ?? columns;
        const head = rawRows[0].Data ?? [];
        const isHeader = head.length === labels.length && head.every((d, i) => d.VarCharValue === labels[i] || d.VarCharValue === columns?.[i]);
        if (isHeader) rawRows = rawRows.slice(1);
      }
      const names = columns;
      const rows: ResultRow[] = rawRows.map((r) => {
        const data = r.Data ?? [];
        const row: Record<string, string | null> = {};
        names.forEach((name, i) => {
          row[name] = data[i]?.VarCharValue ?? null;
        });
        return row;
      });
      yield { columns: names, rows };
      first = false;
      nextToken = out.NextToken;
    } while (nextToken !== undefined && nextToken !== '');
  }
}
