/**
 * The CDK app: reads and validates the configuration once (context `oktaLake` and/or the file named
 * by context `oktaLakeConfig`), builds the stack, and runs the cdk-nag AwsSolutions checks, which fail
 * `cdk synth` on any unacknowledged finding.
 *
 * The target account and region come from the CLI's environment (profile / AWS_REGION) when there is
 * one; synth works without any (the template is then environment-agnostic).
 */
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../lib/config/load';
import { buildOktaLakeApp } from '../lib/stacks/app';

const app = new App();
const config = loadConfig(app.node);
const stackName = app.node.tryGetContext('oktaLakeStackName');
buildOktaLakeApp(app, config, {
  stackName: typeof stackName === 'string' && stackName ? stackName : undefined,
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
});
app.synth();
