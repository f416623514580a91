/**
 * What every okta-lake Lambda function has, whatever it runs (as `SECURE_BUCKET_DEFAULTS` is for the
 * buckets): the Node.js runtime, the configured architecture, JSON logs into its own log group with
 * retention, an ES module bundle of the handler and the AWS SDK, the Powertools environment, and the
 * acknowledgement of cdk-nag's AwsSolutions-L1 (latest runtime). `createFunction` applies them;
 * callers add what is theirs (memory, timeout, role, retries, environment) and may override by
 * spreading. Used by the ingestion, detection runner, compaction and compaction view functions.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LambdaArchitectureName } from '../config/config';

/** The repository root (where package-lock.json is), found from this file. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DUCKDB_BUNDLER_SCRIPT = join(PROJECT_ROOT, 'lib', 'constructs', 'bundle-duckdb.mjs');

/** The runtime every bundle is built and tested for. */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** The Lambda architecture of a configured architecture name. */
export const LAMBDA_ARCHITECTURE: Record<LambdaArchitectureName, lambda.Architecture> = { arm64: lambda.Architecture.ARM_64, x86_64: lambda.Architecture.X86_64 };

/** The Lambda CPU name of a configured architecture, as bundle-duckdb.mjs takes it. */
export const CPU_OF: Record<LambdaArchitectureName, 'arm64' | 'x64'> = { arm64: 'arm64', x86_64: 'x64' };

/**
 * The bundling of every function: an ES module bundle of the handler and everything it imports,
 * the AWS SDK included, at the versions the tests ran; minified, without source map.
 */
export const ESM_BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node22',
  // The SDK's ES modules, so that esbuild leaves out what the handler does not use (the CommonJS
  // builds first cost more CPU at cold start: bench/cold-start.ts).
  mainFields: ['module', 'main'],
  minify: true,
  // Error classes take their `name` from the class (lib/core/errors.ts).
  keepNames: true,
  // No source map and no NODE_OPTIONS=--enable-source-maps: an inline map adds to the cold start's
  // CPU time, and Node reading it at load more so (bench/cold-start.ts).
  sourceMap: false,
  // Everything, the AWS SDK included, is bundled.
  externalModules: [],
  banner: "import{createRequire as __oktaLakeRequire}from'node:module';const require=__oktaLakeRequire(import.meta.url);",
};

/**
 * What a bundle with DuckDB in it (`duckDbFunctionBundling`: the ingestion and the compaction
 * functions) does not contain. Everything else, the AWS SDK included, is bundled: loading the SDK
 * clients as packages of CommonJS files, the way the runtime's own copy would be loaded, costs much
 * more CPU time than the bundled ES modules (bench/cold-start.ts).
 */
export const DUCKDB_BUNDLE_EXTERNALS = [
  // DuckDB: its JavaScript API is bundled into one ES module and its native library for the
  // Lambda's CPU copied next to the bundle, by bundle-duckdb.mjs.
  '@duckdb/*',
  // The default credential chain's providers after the environment one. A Lambda function always has
  // its role's credentials in its environment, so the chain never gets to these (SSO, config files,
  // credential_process, web identity, container and instance metadata, and the STS/SSO clients they
  // use); they are only imported dynamically, when reached. Leaving them out of the bundle spares the
  // cold start compiling code that never runs (bench/cold-start.ts).
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@smithy/credential-provider-imds',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
] as const;

/**
 * The bundling of a function with DuckDB in it (the ingestion and the compaction functions):
 * `ESM_BUNDLING`, with DuckDB's JavaScript API bundled and its native library for `cpu` copied next
 * to the bundle by bundle-duckdb.mjs.
 */
export function duckDbFunctionBundling(cpu: 'arm64' | 'x64'): nodejs.BundlingOptions {
  return {
    ...ESM_BUNDLING,
    externalModules: [...DUCKDB_BUNDLE_EXTERNALS],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) => [`node "${DUCKDB_BUNDLER_SCRIPT}" --project "${inputDir}" --out "${outputDir}" --cpu ${cpu}`],
    },
  };
}

/** A function's own log group: kept when the stack is deleted, for `retentionDays` (a value CloudWatch Logs accepts). */
export function functionLogGroup(scope: Construct, id: string, retentionDays: number): logs.LogGroup {
  return new logs.LogGroup(scope, id, { retention: retentionDays as logs.RetentionDays, removalPolicy: RemovalPolicy.RETAIN });
}

/** The statement that lets a function's role write its own log group, and no other. */
export function writeOwnLogsStatement(logGroup: logs.ILogGroup): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] });
}

/** The Powertools Logger and Metrics settings of a handler, from its metrics contract. */
export function powertoolsEnvironment(metrics: { readonly service: string; readonly namespace: string }): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: metrics.service,
    POWERTOOLS_METRICS_NAMESPACE: metrics.namespace,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}

export interface FunctionDefaultsOptions {
  /** The handler's source file (it exports `handler`). */
  readonly entry: string;
  readonly architecture: LambdaArchitectureName;
  /**
   * The bundle holds DuckDB (`duckDbFunctionBundling`).
   * @default false: `ESM_BUNDLING`
   */
  readonly duckDb?: boolean;
}

/** The props every okta-lake function has; spread them first and add or override the rest. */
export function functionDefaults(options: FunctionDefaultsOptions) {
  return {
    entry: options.entry,
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
    runtime: LAMBDA_RUNTIME,
    architecture: LAMBDA_ARCHITECTURE[options.architecture],
    loggingFormat: lambda.LoggingFormat.JSON,
    bundling: options.duckDb ? duckDbFunctionBundling(CPU_OF[options.architecture]) : ESM_BUNDLING,
  } satisfies nodejs.NodejsFunctionProps;
}

export interface OktaLakeFunctionProps extends FunctionDefaultsOptions, Omit<nodejs.NodejsFunctionProps, keyof FunctionDefaultsOptions | 'logGroup'> {
  /** Its own log group (`functionLogGroup`). */
  readonly logGroup: logs.ILogGroup;
  /** The bundle in words, for the AwsSolutions-L1 acknowledgement: `the ingestion bundle`. */
  readonly bundleName: string;
}

/**
 * A function with `functionDefaults`, the caller's props over them, and cdk-nag's AwsSolutions-L1
 * acknowledged: the runtime is pinned to the one the bundle was tested on.
 */
export function createFunction(scope: Construct, id: string, props: OktaLakeFunctionProps): nodejs.NodejsFunction {
  const { entry, architecture, duckDb, bundleName, ...rest } = props;
  const fn = new nodejs.NodejsFunction(scope, id, { ...functionDefaults({ entry, architecture, duckDb }), ...rest });
  const subject = duckDb ? `${bundleName} and its DuckDB native binding are` : `${bundleName} is`;
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason: `Node.js 22 is the runtime ${subject} built and tested for; moving to a newer runtime is a tested change, not an automatic one.`,
  });
  return fn;
}
