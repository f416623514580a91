import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config';
import { PROJECT_ROOT } from '../../lib/constructs/lambda-defaults';
import { buildOktaLakeApp } from '../../lib/stacks/app';
import { cdkJsonContext, type CfnTemplate } from './support';

/** Runs bin/app.ts the way the CDK CLI does: context in CDK_CONTEXT_JSON, output folder in CDK_OUTDIR. */
function runApp(context: Record<string, unknown>, outdir: string, env: Record<string, string> = {}) {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir };
  delete childEnv.CDK_DEFAULT_ACCOUNT;
  delete childEnv.CDK_DEFAULT_REGION;
  delete childEnv.AWS_PROFILE;
  return spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], { cwd: PROJECT_ROOT, env: childEnv, encoding: 'utf8', timeout: 120_000 });
}

describe('bin/app.ts', () => {
  const dirs: string[] = [];
  const outdir = () => {
    const d = mkdtempSync(join(tmpdir(), 'okta-lake-cdkout-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('synthesizes the example configuration of cdk.json, cdk-nag included, without AWS credentials', () => {
    // Prepare: cdk.json's context as the CLI would pass it; bundling skipped (the asset test covers it).
    const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { app: string; context: Record<string, unknown> };
    const out = outdir();
    // Act
    const run = runApp({ ...cdkJson.context, 'aws:cdk:bundling-stacks': [] }, out, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', CDK_VALIDATION: 'false' });
    // Assess
    expect(run.stderr).not.toMatch(/Validation failed/);
    expect(run.status).toBe(0);
    expect(cdkJson.app).toBe('npx tsx bin/app.ts');
    const template = JSON.parse(readFileSync(join(out, 'OktaLake.template.json'), 'utf8')) as CfnTemplate;
    // The ingestion and compaction schedules' input is plain JSON; the detections' holds a reference to their named query.
    const schedules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    const inputs = schedules.map((s) => (s.Properties as { Target: { Input: unknown } }).Target.Input);
    expect(inputs.filter((i) => typeof i === 'string').map((i) => JSON.parse(i as string) as unknown)).toEqual([{ org: 'example.okta.com' }, {}]);
    const report = JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as { pluginReports: { summary?: { status: string } }[] };
    for (const r of report.pluginReports) expect(r.summary?.status).not.toBe('failure');
  });

  it('fails with a message naming the field when the configuration is not allowed', () => {
    const run = runApp({ ...cdkJsonContext(), oktaLake: { orgs: [{ host: 'https://acme.okta.com', auth: 'ssws' }] } }, outdir(), { CDK_VALIDATION: 'false' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/ConfigError: okta-lake config in context "oktaLake": "orgs\[0\]\.host" must be a host name only/);
    expect(existsSync(join(dirs[dirs.length - 1], 'OktaLake.template.json'))).toBe(false);
  });
});

describe('buildOktaLakeApp', () => {
  it('makes synth fail on any unacknowledged cdk-nag finding', () => {
    // Prepare: the real stack plus one bucket that breaks an AwsSolutions rule.
    process.env.CDK_VALIDATION = 'false';
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    const stack = buildOktaLakeApp(app, parseConfig({ orgs: [{ host: 'acme.okta.com', auth: 'ssws' }] }));
    new s3.Bucket(stack as Stack, 'Careless');
    // Act / Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it('synthesizes cleanly when every finding is acknowledged', () => {
    process.env.CDK_VALIDATION = 'false';
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    buildOktaLakeApp(app, parseConfig({ orgs: [{ host: 'acme.okta.com', auth: 'ssws' }] }), { stackName: 'Lake2' });
    const assembly = app.synth();
    expect(assembly.getStackByName('Lake2').template).toHaveProperty('Resources');
  });
});
