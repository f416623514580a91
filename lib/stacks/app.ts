/**
 * Builds the okta-lake app from a validated configuration: the one stack and the cdk-nag checks.
 * `bin/app.ts` calls it with the CLI's App; tests call it with their own.
 */
import { type App, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { OktaLakeConfig } from '../config/config';
import { OktaLakeStack } from './okta-lake-stack';

export const DEFAULT_STACK_NAME = 'OktaLake';

export interface BuildOptions {
  /** @default 'OktaLake' */
  readonly stackName?: string;
  /** @default - environment-agnostic */
  readonly env?: Environment;
  /**
   * Register the cdk-nag AwsSolutions pack on the app (synth then fails on unacknowledged findings).
   * @default true
   */
  readonly nag?: boolean;
}

export function buildOktaLakeApp(app: App, config: OktaLakeConfig, options: BuildOptions = {}): OktaLakeStack {
  const stack = new OktaLakeStack(app, options.stackName ?? DEFAULT_STACK_NAME, {
    config,
    env: options.env,
    description: 'okta-lake: the Okta System Log as Parquet in S3, queryable with Athena',
  });
  Tags.of(stack).add('project', 'okta-lake');
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
