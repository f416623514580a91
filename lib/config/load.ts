/**
 * Reads the okta-lake configuration from the CDK context, once, in `bin/app.ts`:
 *
 * - context `oktaLake`: the configuration object itself (in `cdk.json`, or `-c oktaLake='{...}'`);
 * - context `oktaLakeConfig`: the path of a JSON file holding it (`-c oktaLakeConfig=okta-lake.json`),
 *   relative to the working directory.
 *
 * When both are given, each top-level field of the file replaces the same field of `oktaLake`, so
 * `cdk.json` can hold shared settings and the file the account-specific ones.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors';
import { parseConfig, type OktaLakeConfig } from './config';

export const CONFIG_CONTEXT_KEY = 'oktaLake';
export const CONFIG_FILE_CONTEXT_KEY = 'oktaLakeConfig';

/** What the loader needs from a construct node: `app.node` fits. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

export interface LoadConfigOptions {
  /** Directory a relative `oktaLakeConfig` path is resolved against. @default process.cwd() */
  readonly cwd?: string;
  /** Reads a file as UTF-8. @default fs.readFileSync */
  readonly readFile?: (path: string) => string;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    // The parser's message quotes the text; keep it out of the message (it is kept as cause).
    throw new ConfigError(`okta-lake config: ${what} is not valid JSON`, { cause });
  }
}

function contextObject(ctx: ContextSource): Record<string, unknown> | undefined {
  const raw = ctx.tryGetContext(CONFIG_CONTEXT_KEY);
  if (raw === undefined || raw === null) return undefined;
  // `cdk -c key=value` passes strings; cdk.json passes objects.
  const value = typeof raw === 'string' ? parseJson(raw, `context "${CONFIG_CONTEXT_KEY}"`) : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`okta-lake config: context "${CONFIG_CONTEXT_KEY}" must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function fileObject(ctx: ContextSource, options: LoadConfigOptions): { value: Record<string, unknown>; path: string } | undefined {
  const raw = ctx.tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') {
    throw new ConfigError(`okta-lake config: context "${CONFIG_FILE_CONTEXT_KEY}" must be the path of a JSON file`);
  }
  const path = resolve(options.cwd ?? process.cwd(), raw);
  let text: string;
  try {
    text = (options.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path);
  } catch (cause) {
    throw new ConfigError(`okta-lake config: cannot read the file "${path}" named by context "${CONFIG_FILE_CONTEXT_KEY}"`, { cause });
  }
  const value = parseJson(text, `the file "${path}"`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`okta-lake config: the file "${path}" must hold a JSON object`);
  }
  return { value: value as Record<string, unknown>, path };
}

/**
 * Loads and validates the configuration from the CDK context.
 * @throws ConfigError when there is none, or when a field is not allowed
 */
export function loadConfig(ctx: ContextSource, options: LoadConfigOptions = {}): OktaLakeConfig {
  const fromContext = contextObject(ctx);
  const fromFile = fileObject(ctx, options);
  if (!fromContext && !fromFile) {
    throw new ConfigError(
      `okta-lake config: none found. Set context "${CONFIG_CONTEXT_KEY}" in cdk.json, or pass -c ${CONFIG_FILE_CONTEXT_KEY}=<file.json> (see docs/deploy.md)`,
    );
  }
  const merged = { ...fromContext, ...fromFile?.value };
  const source = fromFile ? (fromContext ? `context "${CONFIG_CONTEXT_KEY}" + ${fromFile.path}` : fromFile.path) : `context "${CONFIG_CONTEXT_KEY}"`;
  return parseConfig(merged, source);
}
