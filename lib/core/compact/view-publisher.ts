/**
 * The port through which the Athena view over the lake is published: the `CREATE OR REPLACE VIEW`
 * statement `lakeViewSql` makes, handed to whatever runs it (Athena DDL in AWS:
 * lib/adapters/athena-view-publisher.ts). Compaction code never imports the AWS SDK.
 */
export interface ViewPublisher {
  /**
   * Runs `sql` (a `CREATE OR REPLACE VIEW` statement) and resolves once the view is in place, or
   * once the publisher decided, and reported, that it cannot be created now (a table of the view's
   * name in the way). Rejects with a named error when the statement failed.
   */
  publish(sql: string): Promise<ViewPublishOutcome>;
}

export type ViewPublishOutcome =
  /** The view was created or replaced. */
  | { readonly outcome: 'published' }
  /** Not created: something that is not a view holds its name (see the publisher). */
  | { readonly outcome: 'skipped'; readonly reason: string };
