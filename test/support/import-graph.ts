/**
 * The import graph of the project's TypeScript sources, and the checks the architecture test makes
 * on it. Kept apart from the test so the checker itself can be tested on a planted fixture.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import found in a source file. */
export interface ImportEdge {
  /** The importing file, repo-relative. */
  readonly from: string;
  /** As written: `./x`, `../core/ports`, `@aws-sdk/client-s3`. */
  readonly specifier: string;
  /** The file a relative specifier resolves to; absent for a package. */
  readonly target?: string;
}

/** The files (repo-relative, forward slashes) and every import of each, in file order. */
export type ImportGraph = { readonly files: readonly string[]; readonly edges: readonly ImportEdge[] };

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

const posix = (p: string): string => p.split(sep).join('/');

/** Every module specifier a file names: static imports (value or type), re-exports, `import('literal')`. */
export function specifiersOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0]!)
    ) {
      found.push(node.arguments[0].text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `./x` → x.ts, x/index.ts (or the file itself when it names its extension); undefined if none. */
export function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const stripped = base.replace(/\.(js|mjs)$/, '');
  const candidates = [base, `${base}.ts`, `${stripped}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** Builds the graph of every .ts file under `dirs` (relative to `root`). */
export function buildImportGraph(root: string, dirs: readonly string[]): ImportGraph {
  const absolute = dirs.flatMap((d) => tsFiles(join(root, d))).sort();
  const rel = (p: string): string => posix(relative(root, p));
  const edges: ImportEdge[] = [];
  for (const file of absolute) {
    for (const specifier of specifiersOf(file, readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = resolveRelative(file, specifier);
        if (target === undefined) throw new Error(`${rel(file)}: cannot resolve '${specifier}'`);
        edges.push({ from: rel(file), specifier, target: rel(target) });
      } else {
        edges.push({ from: rel(file), specifier });
      }
    }
  }
  return { files: absolute.map(rel), edges };
}

/**
 * Strongly connected components with more than one file (or a file importing itself), each with one
 * concrete cycle through its files, as `a -> b -> a`. Tarjan's algorithm (recursive: the graph
 * is small), deterministic order.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>();
  for (const f of graph.files) next.set(f, []);
  for (const e of graph.edges) {
    if (e.target === undefined || !next.has(e.target)) continue;
    const list = next.get(e.from)!;
    if (!list.includes(e.target)) list.push(e.target);
  }
  for (const list of next.values()) list.sort();

  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const strongConnect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = next.get(v)!.includes(v);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const f of graph.files) if (!index.has(f)) strongConnect(f);

  return components.map((component) => cycleThrough(component, next));
}

/** A shortest path from the component's first file back to itself, staying inside the component. */
function cycleThrough(component: string[], next: Map<string, string[]>): string[] {
  const members = new Set(component);
  const start = component[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of next.get(v)!) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = cameFrom.get(at)!) path.splice(1, 0, at);
        path.push(start);
        return path;
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** A rule about who may import what: files under `from` may not import what `forbidden` matches. */
export interface LayerRule {
  readonly name: string;
  /** Repo-relative folder prefix, e.g. `lib/core/`. */
  readonly from: string;
  /** Package specifiers (prefix match, e.g. `@aws-sdk/`) and repo-relative folder prefixes. */
  readonly forbiddenPackages: readonly string[];
  readonly forbiddenFolders: readonly string[];
}

export interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly specifier: string;
  readonly target?: string;
}

const matchesPackage = (specifier: string, pkg: string): boolean =>
  pkg.endsWith('/') ? specifier.startsWith(pkg) : specifier === pkg || specifier.startsWith(`${pkg}/`);

export function layerViolations(graph: ImportGraph, rules: readonly LayerRule[]): Violation[] {
  const out: Violation[] = [];
  for (const rule of rules) {
    for (const e of graph.edges) {
      if (!e.from.startsWith(rule.from)) continue;
      const bad =
        e.target === undefined
          ? rule.forbiddenPackages.some((p) => matchesPackage(e.specifier, p))
          : rule.forbiddenFolders.some((f) => e.target!.startsWith(f));
      if (bad) out.push({ rule: rule.name, from: e.from, specifier: e.specifier, target: e.target });
    }
  }
  return out;
}

export const describeViolation = (v: Violation): string =>
  `${v.rule}: ${v.from} imports '${v.specifier}'${v.target === undefined ? '' : ` (${v.target})`}`;
