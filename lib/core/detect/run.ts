/**
 * One invocation of a scheduled detection in AWS: fetch the named query by id, refuse it unless its
 * text is the deployed text (the schedule payload carries its SHA-256), and evaluate it for every org
 * from each org's cursor (./evaluate.ts) in Athena (`QueryRunnerEngine`).
 *
 * The console's saved query is what runs, so an analyst can read exactly what the schedule runs; an
 * edit in the console is not run but fails the run (`DetectionQueryTamperedError`), which the failed
 * runs alarm reports: nobody can silence a detection by editing it. Change a detection by changing its
 * file and deploying.
 */
import { silentReporter, type Clock, type Reporter, type TimeBudget } from '../ports';
import { DEFAULT_MARGIN_MS, QueryRunnerEngine, type PollBackoff } from './engine';
import { DetectionQueryTamperedError } from './errors';
import { evaluateSchedule, type DetectionResult, type EvaluateDeps } from './evaluate';
import { querySha256, type DetectionInput } from './input';
import type { QueryRunner } from './ports';

export interface DetectionDeps extends Omit<EvaluateDeps, 'engine' | 'timeBudget' | 'workGroup'> {
  readonly runner: QueryRunner;
  readonly timeBudget: TimeBudget;
  /** The Athena workgroup the query runs in (its result location, encryption and scan limit apply). */
  readonly workGroup: string;
  /** The Glue database unqualified table names resolve in. */
  readonly database: string;
  /** @default 500 ms doubling up to 5 s */
  readonly pollBackoff?: PollBackoff;
  readonly clock?: Clock;
  readonly reporter?: Reporter;
}

export async function runDetection(input: DetectionInput, deps: DetectionDeps): Promise<DetectionResult> {
  const { runner, workGroup, database } = deps;
  const reporter = deps.reporter ?? silentReporter;
  const { detectionId } = input;

  const named = await runner.getNamedQuery(input.namedQueryId);
  const actual = querySha256(named.queryString);
  if (actual !== input.sqlSha256) {
    throw new DetectionQueryTamperedError(
      `detection "${detectionId}": the text of named query ${input.namedQueryId} ("${named.name}") is not the deployed text ` +
        `(SHA-256 ${actual.slice(0, 12)}..., deployed ${input.sqlSha256.slice(0, 12)}...): it was edited or replaced outside the deployment. ` +
        'The run refuses it; restore the text by deploying the stack again, and change a detection by changing its file in athena-queries/.',
      detectionId,
      input.sqlSha256,
      actual,
    );
  }
  if (named.workGroup !== undefined && named.workGroup !== workGroup) {
    reporter.warn('the named query is saved in another workgroup; running it in the configured one', { detectionId, namedQueryId: input.namedQueryId, savedWorkGroup: named.workGroup, workGroup });
  }
  if (named.database !== undefined && named.database !== database) {
    reporter.warn('the named query is saved for another database; running it in the configured one', { detectionId, namedQueryId: input.namedQueryId, savedDatabase: named.database, database });
  }

  const engine = new QueryRunnerEngine({
    runner,
    workGroup,
    database,
    timeBudget: deps.timeBudget,
    ...(deps.clock ? { clock: deps.clock } : {}),
    reporter,
    ...(deps.pollBackoff ? { pollBackoff: deps.pollBackoff } : {}),
  });
  return evaluateSchedule(
    { input, sql: named.queryString, queryName: named.name, timing: { scheduleMs: input.scheduleMs, lookbackMs: input.lookbackMs } },
    {
      ...deps,
      engine,
      workGroup,
      reporter,
      // The engine keeps the margin for results and publishing; no evaluation starts inside it.
      timeBudget: { remainingMs: () => deps.timeBudget.remainingMs(), marginMs: deps.timeBudget.marginMs ?? DEFAULT_MARGIN_MS },
    },
  );
}

export type { DetectionResult } from './evaluate';
export type { PollBackoff } from './engine';
