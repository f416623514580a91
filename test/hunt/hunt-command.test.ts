import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/cli/args';
import { HUNT_HELP, huntAll, huntCommand } from '../../lib/cli/hunt-command';
import { main } from '../../lib/cli/main';
import { loadQueries } from '../../lib/core/queries';
import { SCENARIOS } from '../detections/scenarios';
import { MINUTE, PLACES, TestLake, oktaEvent, person } from '../detections/support';

const NOW = Date.parse('2024-05-01T12:30:00.000Z');
const ORG = 'acme.okta.com';
const SCHEDULED = loadQueries().filter((q) => q.schedule !== undefined);

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

interface Ran {
  readonly code: number;
  readonly stdout: string;
}

describe('okta-lake hunt', () => {
  let lake: TestLake;
  const run = async (...argv: string[]): Promise<Ran> => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await huntCommand(argv, { env: {}, stdout, stderr });
    return { code, stdout: stdout.text };
  };
  const hunt = (...argv: string[]): Promise<Ran> => run('--lake', lake.dir, '--now', new Date(NOW).toISOString(), ...argv);

  beforeAll(async () => {
    // Prepare: a push-bombing attack, and a spray whose first username is a spreadsheet formula.
    lake = await TestLake.create();
    const pushBombing = SCENARIOS.find((s) => s.id === 'mfa-push-bombing');
    if (!pushBombing) throw new Error('no mfa-push-bombing scenario');
    // Written 4 hours after the attack (an ingestion outage), which only the faithful replay minds.
    await lake.write(ORG, { events: pushBombing.fires(NOW).events, ingestedAt: NOW + 4 * 60 * MINUTE });
    const from = PLACES.bucharest('203.0.113.7');
    const spray = [
      '=HYPERLINK("http://198.51.100.1/x","click, here")',
      ...Array.from({ length: 11 }, (_, i) => `user${i}@acme.example`),
    ].map((login, i) =>
      oktaEvent({
        eventType: 'user.session.start',
        at: NOW - 40 * MINUTE + i * MINUTE,
        from,
        actor: { id: 'unknown', type: 'User', alternateId: login, displayName: 'unknown', detailEntry: null },
        outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' },
      }),
    );
    await lake.add(ORG, spray);
    await lake.add(ORG, [oktaEvent({ eventType: 'user.session.start', at: NOW - 20 * MINUTE, actor: person('jane.doe'), session: '102jane' })]);
  }, 120_000);

  afterAll(async () => {
    await lake?.close();
  });

  it('prints its help with --help and exits 0', async () => {
    const { code, stdout } = await run('--help');
    expect(code).toBe(0);
    expect(stdout).toBe(`${HUNT_HELP}\n`);
  });

  it('--all --format json runs every scheduled detection and returns their findings (exit 0)', async () => {
    // Act
    const { code, stdout } = await hunt('--all', '--format', 'json');
    // Assess
    expect(code).toBe(0);
    const results = JSON.parse(stdout) as { id: string; severity: string; count: number; findings: Record<string, unknown>[] }[];
    expect(results.map((r) => r.id).sort()).toEqual(SCHEDULED.map((q) => q.id).sort());
    const fired = Object.fromEntries(results.filter((r) => r.count > 0).map((r) => [r.id, r]));
    expect(Object.keys(fired).sort()).toEqual(['mfa-push-bombing', 'password-spray']);
    expect(fired['mfa-push-bombing'].severity).toBe('critical');
    expect(fired['mfa-push-bombing'].count).toBe(4);
    expect(fired['password-spray'].findings[0]).toMatchObject({ org: ORG, src_ip: '203.0.113.7', failed_users: 12, first_failure: new Date(NOW - 40 * MINUTE).toISOString() });
  });

  it('--all in the table format shows each finding query with severity, title and count, then the quiet ones', async () => {
    const { code, stdout } = await hunt('--all');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\[CRITICAL\] MFA push bombing \(Okta Verify fatigue\) \(mfa-push-bombing\): 4 findings\n {2}org +session_id +actor_id/);
    expect(stdout).toContain('[HIGH] Password spray from one address (password-spray): 1 finding\n');
    expect(stdout).toMatch(/\nNo findings: .*admin-role-granted/);
    expect(stdout).toContain(`2 of ${SCHEDULED.length} queries found something, 5 findings in all\n`);
    // Cells of the tables are cut to a terminal-friendly width.
    const cells = stdout.split('\n').filter((l) => l.startsWith('  ')).flatMap((l) => l.trim().split(/ {2,}/));
    expect(cells.length).toBeGreaterThan(20);
    for (const cell of cells) expect(cell.length).toBeLessThanOrEqual(110);
  });

  it('--detection <id> --format csv writes RFC 4180 CSV and defuses spreadsheet formulas', async () => {
    const { code, stdout } = await hunt('--detection', 'password-spray', '--format', 'csv');
    expect(code).toBe(0);
    const lines = stdout.split('\r\n');
    expect(lines[0]).toBe('query_id,severity,org,src_ip,failed_users,succeeded_users,failures,first_failure,last_failure,as_org,country,users,summary');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines[1]).toContain(',"\'=HYPERLINK(""http://198.51.100.1/x"",""click, here""), user0@acme.example, user10@acme.example,');
    expect(lines[1].startsWith('password-spray,high,acme.okta.com,203.0.113.7,12,0,12,')).toBe(true);
  });

  it('runs a hunt with its parameter, and reports no findings with exit 0', async () => {
    const timeline = await hunt('--detection', 'user-timeline', '--param', 'user=jane.doe@acme.example', '--format', 'json');
    expect(JSON.parse(timeline.stdout)[0].count).toBe(1);
    const quiet = await hunt('--detection', 'admin-role-granted');
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe('No findings: admin-role-granted\n\n0 of 1 query found something, 0 findings in all\n');
  });

  it('replays the deployment with --since: each finding once, alerted by the first run after its events arrived, saying how late', async () => {
    // Act: runs every 15 minutes from 3 hours before to 5 hours after; the events were written 4 hours after.
    const { stdout } = await hunt('--detection', 'mfa-push-bombing', '--since', new Date(NOW - 3 * 60 * MINUTE).toISOString(), '--now', new Date(NOW + 5 * 60 * MINUTE).toISOString(), '--format', 'json');
    // Assess
    const [result] = JSON.parse(stdout) as { count: number; columns: string[]; findings: { run_at: string; evaluated_at: string; alerted: string; session_id: string }[] }[];
    expect(result.count).toBe(4);
    expect(result.columns.slice(-3)).toEqual(['run_at', 'evaluated_at', 'alerted']);
    expect(new Set(result.findings.map((f) => f.run_at))).toEqual(new Set([new Date(NOW + 4 * 60 * MINUTE).toISOString()]));
    for (const f of result.findings) {
      expect(Date.parse(f.evaluated_at)).toBeLessThanOrEqual(NOW);
      expect(f.alerted).toMatch(/^4 h \d\d min after the fact$/);
    }
    // Before the rows arrived, no run could alert them.
    const early = await hunt('--detection', 'mfa-push-bombing', '--since', new Date(NOW - 3 * 60 * MINUTE).toISOString(), '--now', new Date(NOW + 3 * 60 * MINUTE).toISOString(), '--format', 'json');
    expect((JSON.parse(early.stdout) as { count: number }[])[0].count).toBe(0);
  });

  it('replays the schedule as if on time with --since --on-time, reporting each finding once with the run that found it', async () => {
    // Act: runs every 15 minutes from 3 hours before to 2 hours after; the attack is seen by 4 runs.
    const { stdout } = await hunt('--detection', 'mfa-push-bombing', '--on-time', '--since', new Date(NOW - 3 * 60 * MINUTE).toISOString(), '--now', new Date(NOW + 2 * 60 * MINUTE).toISOString(), '--format', 'json');
    // Assess
    const [result] = JSON.parse(stdout) as { count: number; columns: string[]; findings: { run_at: string; session_id: string }[] }[];
    expect(result.count).toBe(4);
    expect(result.columns.at(-1)).toBe('run_at');
    expect(new Set(result.findings.map((f) => f.run_at))).toEqual(new Set([new Date(NOW - 15 * MINUTE).toISOString()]));
  });

  it('huntAll (for the demo) returns the results and prints them', async () => {
    const out = new Capture();
    const results = await huntAll(lake.dir, { now: new Date(NOW), print: out });
    expect(results.filter((r) => r.findings.length > 0).map((r) => r.id).sort()).toEqual(['mfa-push-bombing', 'password-spray']);
    expect(out.text).toContain('[CRITICAL] MFA push bombing');
  });

  it('lists the queries with --list', async () => {
    const { stdout } = await run('--list');
    expect(stdout.split('\n')[0]).toMatch(/^id +kind +severity +schedule +lookback +parameters +title$/);
    expect(stdout).toMatch(/\nuser-timeline +hunt +info +none +30d +user +One user's timeline\n/);
  });

  it.each([
    [['--detection', 'no-such-query'], /unknown query "no-such-query"; known: admin-role-granted/],
    [['--all', '--detection', 'password-spray'], /exactly one of --all, --detection/],
    [[], /exactly one of --all, --detection/],
    [['--all', '--format', 'xml'], /--format must be one of table, json, csv/],
    [['--detection', 'user-timeline'], /user-timeline needs --param user=<value>/],
    [['--detection', 'password-spray', '--param', 'user=x'], /password-spray has no parameter "user"/],
    [['--detection', 'user-timeline', '--param', 'user'], /--param must look like name=value/],
    [['--all', '--step', '5'], /--step is for replaying with --since/],
    [['--all', '--on-time'], /--on-time is for replaying with --since/],
    [['--detection', 'user-timeline', '--param', 'user=x', '--since', '2024-04-30T00:00:00Z'], /not scheduled/],
    [['--all', '--since', '2024-05-02T00:00:00Z'], /--since must be before --now/],
    [['--all', '--verbose'], /verbose/],
  ])('refuses %j with a usage error', async (argv, message) => {
    await expect(hunt(...argv)).rejects.toThrow(UsageError);
    await expect(hunt(...argv)).rejects.toThrow(message);
  });

  it('exits 0 through okta-lake main whether or not anything fired, and 2 on a usage error', async () => {
    const io = () => ({ env: {}, stdout: new Capture(), stderr: new Capture() as unknown as NodeJS.WriteStream });
    const now = ['--now', new Date(NOW).toISOString()];
    expect(await main(['hunt', '--lake', lake.dir, '--all', ...now], io())).toBe(0);
    expect(await main(['hunt', '--lake', lake.dir, '--detection', 'admin-role-granted', ...now], io())).toBe(0);
    const usage = io();
    expect(await main(['hunt', '--lake', lake.dir, '--detection', 'no-such-query'], usage)).toBe(2);
    expect((usage.stderr as unknown as Capture).text).toContain('unknown query "no-such-query"');
  });

  it('needs --lake', async () => {
    await expect(run('--all')).rejects.toThrow(/--lake is required/);
  });
});
