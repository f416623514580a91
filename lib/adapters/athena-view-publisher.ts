/**
 * `ViewPublisher` on Amazon Athena: the lake view's `CREATE OR REPLACE VIEW` statement run as DDL in
 * the workgroup (StartQueryExecution with the database as query execution context), then
 * GetQueryExecution until it ends. Athena encodes the view itself (the Glue table of type
 * `VIRTUAL_VIEW` and its Presto view text): nothing here writes Glue directly.
 *
 * Before running it, GetTableMetadata on the view's name: a table of that name that is not a view
 * (the events table of an earlier version of the stack, named `okta_system_log`, which
 * CloudFormation deletes only at the end of the update that renames it) would make the DDL fail, so
 * the publisher reports it and skips; the next scheduled run creates the view (docs/deploy.md,
 * "Upgrading to compaction").
 */
import { AthenaClient, GetQueryExecutionCommand, GetTableMetadataCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { ConfigError, OktaLakeError } from '../core/errors';
import type { ViewPublisher, ViewPublishOutcome } from '../core/compact/view-publisher';
import { silentReporter, type Reporter } from '../core/ports';

/** The view's DDL could not be run, or Athena ran it and it failed or was cancelled. */
export class ViewPublishError extends OktaLakeError {
  constructor(
    message: string,
    /** Athena's final state when it answered one (`FAILED`, `CANCELLED`). */
    readonly state?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface AthenaViewPublisherOptions {
  readonly client: AthenaClient;
  readonly workGroup: string;
  readonly database: string;
  /** The view's name (the `CREATE OR REPLACE VIEW` statement must create this one). */
  readonly viewName: string;
  /** @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /** How long to wait for the DDL to end, in ms. @default 120_000 */
  readonly timeoutMs?: number;
  /** Wait between polls: starts at `firstMs`, doubles up to `maxMs`. @default 250 ms to 2 s */
  readonly poll?: { readonly firstMs: number; readonly maxMs: number };
  readonly reporter?: Reporter;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export class AthenaViewPublisher implements ViewPublisher {
  private readonly o: AthenaViewPublisherOptions;

  constructor(options: AthenaViewPublisherOptions) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(options.workGroup)) throw new ConfigError(`"${options.workGroup}" is not an Athena workgroup name`);
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(options.database)) throw new ConfigError(`"${options.database}" is not a Glue database name`);
    if (!/^[A-Za-z0-9_]{1,255}$/.test(options.viewName)) throw new ConfigError(`"${options.viewName}" is not a view name`);
    this.o = options;
  }

  async publish(sql: string): Promise<ViewPublishOutcome> {
    const { client, workGroup, database, viewName } = this.o;
    const reporter = this.o.reporter ?? silentReporter;
    const blocker = await this.tableInTheWay();
    if (blocker !== undefined) {
      const reason = `${database}.${viewName} is a table of type ${blocker}, not a view (the events table of an earlier version, which the stack update deletes last); the next scheduled compaction run creates the view`;
      reporter.warn('the lake view was not created', { database, view: viewName, tableType: blocker, reason });
      return { outcome: 'skipped', reason };
    }
    let id: string | undefined;
    try {
      const out = await client.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: workGroup, QueryExecutionContext: { Database: database } }));
      id = out.QueryExecutionId;
    } catch (cause) {
      throw new ViewPublishError(`Athena StartQueryExecution of the ${viewName} view DDL in workgroup ${workGroup} failed: ${describe(cause)}`, undefined, { cause });
    }
    if (!id) throw new ViewPublishError(`Athena StartQueryExecution of the ${viewName} view DDL returned no execution id`);
    const now = this.o.now ?? Date.now;
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const deadline = now() + (this.o.timeoutMs ?? 120_000);
    let wait = this.o.poll?.firstMs ?? 250;
    for (;;) {
      let status;
      try {
        status = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution?.Status;
      } catch (cause) {
        throw new ViewPublishError(`Athena GetQueryExecution ${id} (the ${viewName} view DDL) failed: ${describe(cause)}`, undefined, { cause });
      }
      const state = status?.State;
      if (state === 'SUCCEEDED') {
        reporter.info('published the lake view', { database, view: viewName, queryExecutionId: id, sqlBytes: Buffer.byteLength(sql, 'utf8') });
        return { outcome: 'published' };
      }
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = status?.AthenaError?.ErrorMessage ?? status?.StateChangeReason ?? 'no reason given';
        throw new ViewPublishError(`Athena ${state === 'FAILED' ? 'failed' : 'cancelled'} the ${viewName} view DDL (execution ${id}): ${reason}`, state, {
          cause: status?.AthenaError ?? status,
        });
      }
      if (state !== 'QUEUED' && state !== 'RUNNING') throw new ViewPublishError(`Athena GetQueryExecution ${id} returned an unknown state "${String(state)}"`);
      if (now() + wait > deadline) throw new ViewPublishError(`the ${viewName} view DDL (execution ${id}) did not end within ${this.o.timeoutMs ?? 120_000} ms (last state ${state})`, state);
      await sleep(wait);
      wait = Math.min(wait * 2, this.o.poll?.maxMs ?? 2_000);
    }
  }

  /** The type of a table that holds the view's name and is not a view; undefined when the name is free or a view. */
  private async tableInTheWay(): Promise<string | undefined> {
    const { client, workGroup, database, viewName } = this.o;
    try {
      const out = await client.send(new GetTableMetadataCommand({ CatalogName: this.o.catalog ?? 'AwsDataCatalog', DatabaseName: database, TableName: viewName, WorkGroup: workGroup }));
      const type = out.TableMetadata?.TableType;
      return type === undefined || type === 'VIRTUAL_VIEW' ? undefined : type;
    } catch (error) {
      // Athena answers MetadataException "...not found" for a name nothing holds.
      if (error instanceof Error && (error.name === 'MetadataException' || error.name === 'EntityNotFoundException') && /not found|does not exist/i.test(error.message)) return undefined;
      throw new ViewPublishError(`Athena GetTableMetadata ${database}.${viewName} failed: ${describe(error)}`, undefined, { cause: error });
    }
  }
}
