/**
 * Detections: every `athena-queries/*.sql` file as an Athena named query in the workgroup (the
 * console's saved queries, and what the runner fetches and runs: detections/named-queries.ts), and
 * for the scheduled detections the runner that e-mails their new findings (detections/runner.ts):
 *
 * - one EventBridge Scheduler schedule per scheduled detection, invoking the runner function with the
 *   detection's payload, with retries and a dead-letter queue (detections/schedules.ts);
 * - the runner function (lambdas/detect/handler.ts) and its least-privilege role
 *   (detections/runner-policy.ts);
 * - the suppression table (fingerprints of findings already e-mailed, expiring through TTL);
 * - the findings topic, encrypted with its own key, subscribed by e-mail (optionally filtered on the
 *   `severity` message attribute); separate from the operational alarms topic, so analysts and
 *   on-call can subscribe to one or the other;
 * - alarms (failed runs, function errors, no runs at all, dead-lettered deliveries, evaluation lag) on
 *   the operational alarms topic: a detection that cannot run is never silence (detections/alarms.ts);
 * - the detections' rows of the operations dashboard (detections/widgets.ts).
 *
 * The SQL is the files' text, loaded at synth time (`loadQueries()`): one source of truth for the
 * console, the runner, `okta-lake hunt` and the tests. IAM is written statement by statement, as in
 * the ingestion construct: CDK's grant helpers emit wildcard actions.
 *
 * Construct ids and scopes are those of the single-file construct this was split from (`Query-<id>`
 * here, everything else under `Runner`), so logical ids did not change.
 */
import type * as athena from 'aws-cdk-lib/aws-athena';
import { Construct } from 'constructs';
import { loadQueries, type QueryDefinition } from '../core/queries';
import { createNamedQueries } from './detections/named-queries';
import type { DetectionsProps } from './detections/props';
import { DetectionRunner } from './detections/runner';

export { DetectionDeploymentError } from './detections/errors';
export { NAMED_QUERY_MAX_BYTES, namedQueryDescription } from './detections/named-queries';
export type { DetectionsProps } from './detections/props';
export type { DetectionRunner } from './detections/runner';
export { SCHEDULE_INPUT_MAX_BYTES, scheduledDetections } from './detections/schedules';

export class Detections extends Construct {
  /** Every query file, in id order. */
  readonly queries: readonly QueryDefinition[];
  /** One per query file, by query id. */
  readonly namedQueries: ReadonlyMap<string, athena.CfnNamedQuery>;
  /** The runner, unless `enabled` is false. */
  readonly runner?: DetectionRunner;

  constructor(scope: Construct, id: string, props: DetectionsProps) {
    super(scope, id);
    this.queries = [...(props.queries ?? loadQueries())];
    const namedQueries = createNamedQueries(this, this.queries, props.catalog);
    this.namedQueries = namedQueries;

    if (props.enabled ?? true) {
      this.runner = new DetectionRunner(this, 'Runner', { ...props, queries: this.queries, namedQueries });
    }
  }
}
