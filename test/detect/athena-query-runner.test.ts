import '../support/aws-env';
import {
  AthenaClient,
  GetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryRunner } from '../../lib/adapters/athena-query-runner';
import { QueryRunnerError } from '../../lib/core/detect/errors';
import type { ResultPage } from '../../lib/core/detect/ports';
import { ConfigError } from '../../lib/core/errors';
import { athenaResults, execution } from './support';

const athena = mockClient(AthenaClient);

beforeEach(() => {
  athena.reset();
});

async function collect(pages: AsyncIterable<ResultPage>): Promise<ResultPage[]> {
  const out: ResultPage[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

describe('AthenaQueryRunner', () => {
  it('reads result pages with NextToken, drops the header row of the first page, keeps NULL apart from ""', async () => {
    // Prepare
    const results = athenaResults(['user', 'ip'], [['a', '1'], ['b', null], ['', '3'], ['d', '4']], 2);
    athena.on(GetQueryResultsCommand).callsFake(results.respond);
    const runner = new AthenaQueryRunner({ client: new AthenaClient({}), pageSize: 2 });
    // Act
    const pages = await collect(runner.results('exec-1'));
    // Assess
    expect(results.tokensSeen).toEqual([undefined, 'page-1', 'page-2']);
    expect(athena.commandCalls(GetQueryResultsCommand)[0].args[0].input).toEqual({ QueryExecutionId: 'exec-1', MaxResults: 2 });
    expect(pages.map((p) => p.rows)).toEqual([
      [{ user: 'a', ip: '1' }],
      [{ user: 'b', ip: null }, { user: '', ip: '3' }],
      [{ user: 'd', ip: '4' }],
    ]);
    expect(pages.every((p) => p.columns.join() === 'user,ip')).toBe(true);
  });

  it('gives one page with the columns and no rows for an empty result', async () => {
    // Prepare
    athena.on(GetQueryResultsCommand).callsFake(athenaResults(['user'], [], 1000).respond);
    const runner = new AthenaQueryRunner({ client: new AthenaClient({}) });
    // Act
    const pages = await collect(runner.results('exec-2'));
    // Assess
    expect(pages).toEqual([{ columns: ['user'], rows: [] }]);
  });

  it('maps the execution state, the reason and the bytes scanned', async () => {
    // Prepare
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('SUCCEEDED', { scanned: 42 }))
      .resolvesOnce(execution('FAILED', { reason: 'state reason', errorMessage: 'SYNTAX_ERROR: bad' }))
      .resolvesOnce(execution('CANCELLED', { reason: 'Query cancelled by user' }))
      .resolves({ QueryExecution: { Status: { State: 'PAUSED' as never } } });
    const runner = new AthenaQueryRunner({ client: new AthenaClient({}) });
    // Act
    const states = [await runner.poll('e'), await runner.poll('e'), await runner.poll('e')];
    const unknown = await runner.poll('e').catch((e: unknown) => e);
    // Assess
    expect(states).toEqual([
      { state: 'SUCCEEDED', dataScannedBytes: 42 },
      { state: 'FAILED', reason: 'SYNTAX_ERROR: bad' },
      { state: 'CANCELLED', reason: 'Query cancelled by user' },
    ]);
    expect(unknown).toBeInstanceOf(QueryRunnerError);
  });

  it('returns the named query text, and wraps SDK errors in QueryRunnerError naming the call', async () => {
    // Prepare
    athena.on(GetNamedQueryCommand, { NamedQueryId: 'nq-1' }).resolves({
      NamedQuery: { Name: 'q', Database: 'db', QueryString: 'SELECT 1', WorkGroup: 'wg' },
    });
    athena
      .on(GetNamedQueryCommand, { NamedQueryId: 'nq-gone' })
      .rejects(Object.assign(new Error('NamedQueryId nq-gone was not found'), { name: 'InvalidRequestException' }));
    athena.on(StartQueryExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const runner = new AthenaQueryRunner({ client: new AthenaClient({ maxAttempts: 1 }) });
    // Act
    const named = await runner.getNamedQuery('nq-1');
    const gone = await runner.getNamedQuery('nq-gone').catch((e: unknown) => e);
    const start = await runner.start('SELECT 1', { workGroup: 'wg', database: 'db' }).catch((e: unknown) => e);
    // Assess
    expect(named).toEqual({ name: 'q', database: 'db', queryString: 'SELECT 1', workGroup: 'wg' });
    expect(gone).toBeInstanceOf(QueryRunnerError);
    expect((gone as Error).message).toBe('Athena GetNamedQuery nq-gone failed: InvalidRequestException: NamedQueryId nq-gone was not found');
    expect(((gone as Error).cause as Error).name).toBe('InvalidRequestException');
    expect(start).toBeInstanceOf(QueryRunnerError);
    expect((start as Error).message).toContain('StartQueryExecution in workgroup wg');
  });

  it('refuses a page size Athena does not allow', () => {
    // Act / Assess
    expect(() => new AthenaQueryRunner({ client: new AthenaClient({}), pageSize: 1001 })).toThrow(ConfigError);
  });
});
