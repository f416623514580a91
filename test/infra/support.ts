/**
 * Helpers for the infrastructure tests: synthesize the stack as `cdk synth` would (same feature
 * flags, from cdk.json), and read the resulting CloudFormation template.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type OktaLakeConfig } from '../../lib/config/config';
import { PROJECT_ROOT } from '../../lib/constructs/lambda-defaults';
import { buildOktaLakeApp } from '../../lib/stacks/app';
import type { OktaLakeStack } from '../../lib/stacks/okta-lake-stack';

/** The feature flags and other context of cdk.json, without the example okta-lake configuration. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const { oktaLake: _example, ...flags } = cdkJson.context;
  return flags;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: OktaLakeStack;
  readonly config: OktaLakeConfig;
  readonly template: Template;
  /** The raw template JSON. */
  readonly json: CfnTemplate;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string | string[];
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

export interface SynthOptions {
  /** Run the Lambda bundling (esbuild + DuckDB copy). @default false: property tests do not need the asset */
  readonly bundle?: boolean;
  /** Where the cloud assembly goes. @default a temporary folder chosen by CDK */
  readonly outdir?: string;
}

/**
 * Synthesizes the stack for a raw configuration. CDK's built-in CloudFormation validation (several
 * seconds of WebAssembly) is switched off here; the `bin/app.ts` test runs it once.
 */
export function synth(input: unknown, options: SynthOptions = {}): Synthesized {
  process.env.CDK_VALIDATION = 'false';
  const config = parseConfig(input);
  const context: Record<string, unknown> = { ...cdkJsonContext() };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context, ...(options.outdir ? { outdir: options.outdir } : {}) });
  const stack = buildOktaLakeApp(app, config, { nag: false });
  const template = Template.fromStack(stack);
  return { app, stack, config, template, json: template.toJSON() as CfnTemplate };
}

export function resourcesOfType(t: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

export function onlyResourceOfType(t: CfnTemplate, type: string): [string, CfnResource] {
  const found = resourcesOfType(t, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0];
}

/**
 * Flattens `Ref`, `Fn::GetAtt` and `Fn::Join` into a string: `Ref` to a known logical id becomes the
 * value given in `refs`, anything else `<LogicalId>` / `<LogicalId.Attr>`, pseudo parameters `<AWS::X>`.
 */
export function flatten(value: unknown, refs: Record<string, string> = {}): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') return refs[o.Ref] ?? `<${o.Ref}>`;
    if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => flatten(p, refs)).join(sep);
    }
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface FoundStatement {
  /** Logical id of the resource holding the policy, and the property path to it. */
  readonly where: string;
  readonly statement: PolicyStatementJson;
}

/** Every policy statement anywhere in the template (roles, policies, bucket/topic/queue/key policies). */
export function allPolicyStatements(t: CfnTemplate): FoundStatement[] {
  const found: FoundStatement[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => walk(n, `${where}[${i}]`));
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.Statement)) {
      o.Statement.forEach((s, i) => found.push({ where: `${where}.Statement[${i}]`, statement: s as PolicyStatementJson }));
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'Statement') walk(v, `${where}.${k}`);
  };
  for (const [id, r] of Object.entries(t.Resources)) walk(r.Properties, id);
  return found;
}

export const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The logical id of a construct (its default child for an L2) in the synthesized stack. */
export function logicalIdOf(s: Synthesized, construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  return s.stack.getLogicalId(child as Parameters<typeof s.stack.getLogicalId>[0]);
}

/**
 * The folder synth bundled a function's code into (a bundled synth, `outdir` given): found through
 * the asset hash its `Code.S3Key` names, in the stack's asset manifest.
 */
export function functionAssetDir(s: Synthesized, outdir: string, fn: IConstruct): string {
  const id = logicalIdOf(s, fn);
  const code = (s.json.Resources[id]?.Properties as { Code?: { S3Key?: unknown } } | undefined)?.Code;
  if (typeof code?.S3Key !== 'string' || !code.S3Key.endsWith('.zip')) throw new Error(`${id} has no zip asset as its code`);
  const manifest = JSON.parse(readFileSync(join(outdir, `${s.stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };
  const asset = manifest.files[code.S3Key.slice(0, -'.zip'.length)];
  if (!asset || asset.source.packaging !== 'zip') throw new Error(`the asset manifest has no zip asset ${code.S3Key} for ${id}`);
  return join(outdir, asset.source.path);
}

/** Whether an IAM action pattern (`s3:Delete*`, `s3:*`, `*`, `s3:?utObject`) covers an action; IAM matches case-insensitively. */
export function iamActionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(action);
}

/**
 * Allow statements anywhere in the template that grant one of `actions` (directly or through a
 * wildcard) on a resource that can be the bucket `bucketId` or an object in it: its own ARN (any
 * suffix), `*`, or an S3 ARN pattern with a wildcard in the bucket name.
 */
export function grantsOnBucket(t: CfnTemplate, bucketId: string, actions: readonly string[]): string[] {
  const coversBucket = (resource: string): boolean =>
    resource === '*' || resource.includes(`<${bucketId}.Arn>`) || resource.includes(`<${bucketId}>`) || /:s3:::[^/]*[*?]/.test(resource);
  return allPolicyStatements(t)
    .filter(({ statement }) => statement.Effect === 'Allow')
    .flatMap(({ where, statement }) => {
      const resources = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).filter((r) => r !== undefined).map((r) => flatten(r));
      if (!resources.some(coversBucket)) return [];
      return asList(statement.Action).flatMap((pattern) => actions.filter((a) => iamActionMatches(pattern, a)).map((a) => `${where}: ${pattern} grants ${a}`));
    });
}

/**
 * Dependency cycles between resources (through Ref, Fn::GetAtt and DependsOn), as `A -> B -> A`.
 * CloudFormation refuses a template with one; `cdk synth` does not look.
 */
export function dependencyCycles(t: CfnTemplate): string[] {
  const refsIn = (node: unknown, acc: Set<string>): void => {
    if (Array.isArray(node)) return node.forEach((n) => refsIn(n, acc));
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.Ref === 'string') acc.add(o.Ref);
    if (Array.isArray(o['Fn::GetAtt'])) acc.add((o['Fn::GetAtt'] as string[])[0]);
    Object.values(o).forEach((v) => refsIn(v, acc));
  };
  const deps = new Map<string, string[]>();
  for (const [id, r] of Object.entries(t.Resources)) {
    const acc = new Set<string>([r.DependsOn ?? []].flat());
    refsIn(r.Properties, acc);
    deps.set(id, [...acc].filter((d) => d in t.Resources));
  }
  const done = new Set<string>();
  const onPath = new Set<string>();
  const cycles: string[] = [];
  const visit = (id: string, path: string[]): void => {
    if (done.has(id)) return;
    if (onPath.has(id)) {
      cycles.push([...path.slice(path.indexOf(id)), id].join(' -> '));
      return;
    }
    onPath.add(id);
    for (const d of deps.get(id) ?? []) visit(d, [...path, id]);
    onPath.delete(id);
    done.add(id);
  };
  for (const id of deps.keys()) visit(id, []);
  return cycles;
}
