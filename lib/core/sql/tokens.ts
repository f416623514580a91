/**
 * A small lexer for the SQL of `athena-queries/`: enough to tell code from string literals and
 * comments, so the compatibility layer can rewrite `current_timestamp`, list the functions a query
 * calls and the columns it reads, and find syntax that only one of Trino and DuckDB accepts.
 * It does not parse SQL; every use of it here only needs tokens and their neighbours.
 */

export type TokenKind = 'space' | 'comment' | 'string' | 'quoted' | 'number' | 'word' | 'op' | 'param';

export interface Token {
  readonly kind: TokenKind;
  /** The exact source text of the token. */
  readonly text: string;
  /** Offset of the first character in the source. */
  readonly start: number;
}

/** Operators of two or three characters, longest first. */
const OPERATORS = ['->>', '->', '::', '<=', '>=', '<>', '!=', '||', '//', '**', ':=', '=>'];

/** Splits SQL into tokens; concatenating every token's text gives the input back. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number): void => {
    tokens.push({ kind, text: sql.slice(i, end), start: i });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /\s/.test(sql[j])) j++;
      push('space', j);
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      push('comment', nl === -1 ? sql.length : nl);
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      push('comment', close === -1 ? sql.length : close + 2);
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) break;
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j += 2;
            continue;
          }
          j++;
          break;
        }
        j++;
      }
      push(c === "'" ? 'string' : 'quoted', j);
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i)) as RegExpExecArray;
      push('number', i + m[0].length);
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i)) as RegExpExecArray;
      push('word', i + m[0].length);
    } else if (c === '?') {
      push('param', i + 1);
    } else {
      const op = OPERATORS.find((o) => sql.startsWith(o, i));
      push('op', i + (op ? op.length : 1));
    }
  }
  return tokens;
}

/** Tokens that carry meaning (no whitespace, no comments). */
export function codeTokens(sql: string): Token[] {
  return tokenize(sql).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
}

/** The text of a string literal token without its quotes (`'it''s'` -> `it's`). */
export function stringValue(token: Token): string {
  return token.text.slice(1, -1).replace(/''/g, "'");
}

/**
 * Words that may stand before `(` without being a function call: clauses, operators and the
 * special forms both engines share (`CAST(x AS t)`, `EXISTS (...)`, `x IN (...)`, `OVER (...)`).
 * `FILTER (WHERE ...)` after an aggregate is recognised by its `WHERE`; `filter(array, x -> ...)`
 * is the function.
 */
export const PAREN_KEYWORDS: ReadonlySet<string> = new Set([
  'select', 'from', 'where', 'and', 'or', 'not', 'in', 'exists', 'on', 'join', 'using', 'as', 'over',
  'when', 'then', 'else', 'case', 'by', 'with', 'values', 'union', 'all', 'distinct', 'having',
  'is', 'between', 'like', 'return', 'cast', 'try_cast', 'any', 'some', 'lateral', 'intersect', 'except',
]);

export interface FunctionCall {
  /** Lower-case function name. */
  readonly name: string;
  readonly start: number;
  /** The argument tokens, as source text (whitespace and comments kept). */
  readonly args: readonly string[];
}

/**
 * Every function call in `sql`: a word followed by `(` that is not a keyword of `PAREN_KEYWORDS`
 * and does not follow a `.` (a field name). The special forms `CAST` and `TRY_CAST` are reported
 * too (as `cast` / `try_cast`), so an allow-list can include or exclude them.
 */
export function functionCalls(sql: string): FunctionCall[] {
  const all = tokenize(sql);
  const code = all.map((t, index) => ({ t, index })).filter(({ t }) => t.kind !== 'space' && t.kind !== 'comment');
  const calls: FunctionCall[] = [];
  for (let k = 0; k < code.length - 1; k++) {
    const { t } = code[k];
    if (t.kind !== 'word' || code[k + 1].t.text !== '(') continue;
    const name = t.text.toLowerCase();
    if (k > 0 && code[k - 1].t.text === '.') continue;
    if (PAREN_KEYWORDS.has(name) && name !== 'cast' && name !== 'try_cast') continue;
    if (name === 'filter' && code[k + 2]?.t.text.toLowerCase() === 'where') continue;
    calls.push({ name, start: t.start, args: splitArguments(all, code[k + 1].index) });
  }
  return calls;
}

/** The top-level arguments of the call whose `(` is `all[open]`, as source text, trimmed. */
function splitArguments(all: readonly Token[], open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = open; i < all.length; i++) {
    const t = all[i];
    if (t.text === '(' || t.text === '[') depth++;
    if (t.text === ')' || t.text === ']') depth--;
    if (depth === 0) break;
    if (depth === 1 && (t.text === ',' || (i === open && t.text === '('))) {
      if (i !== open) args.push(current.trim());
      current = '';
      continue;
    }
    current += t.text;
  }
  if (current.trim() !== '') args.push(current.trim());
  return args;
}

/**
 * Replaces every code occurrence of the word `word` (case-insensitive, not inside a string,
 * quoted identifier or comment, not a field after `.`) with `replacement`.
 */
export function replaceWord(sql: string, word: string, replacement: string): string {
  const lower = word.toLowerCase();
  const tokens = tokenize(sql);
  let out = '';
  let previousCode: Token | undefined;
  for (const t of tokens) {
    if (t.kind === 'word' && t.text.toLowerCase() === lower && previousCode?.text !== '.') out += replacement;
    else out += t.text;
    if (t.kind !== 'space' && t.kind !== 'comment') previousCode = t;
  }
  return out;
}

/**
 * Dotted references in `sql` that start with one of `roots` (case-insensitive): `actor.alternateId`
 * gives `['actor', 'alternateId']`, a bare `target` gives `['target']`, `l.actor.id` (an alias)
 * gives `['actor', 'id']`. Fields of other things are not roots, so `x.type` inside a lambda over
 * `target` is not reported as a column.
 */
export function dottedReferences(sql: string, roots: ReadonlySet<string>): string[][] {
  const code = codeTokens(sql);
  const refs: string[][] = [];
  for (let k = 0; k < code.length; k++) {
    const t = code[k];
    if (t.kind !== 'word' && t.kind !== 'quoted') continue;
    const name = unquote(t);
    if (!roots.has(name.toLowerCase())) continue;
    // `AS severity` names an output column; `INTERVAL '1' HOUR` is a unit.
    const previous = code[k - 1];
    if (previous?.kind === 'word' && previous.text.toLowerCase() === 'as') continue;
    if (previous?.kind === 'string' && code[k - 2]?.text.toLowerCase() === 'interval') continue;
    // After a dot, a root is a column only when qualified by an alias (`l.actor`), not when it is a
    // field of a root (`client.device` is consumed with its root below).
    if (k > 0 && code[k - 1].text === '.') {
      const qualifier = code[k - 2];
      if (!qualifier || qualifier.kind !== 'word' || roots.has(qualifier.text.toLowerCase())) continue;
    }
    const path = [name];
    let j = k + 1;
    while (j + 1 < code.length && code[j].text === '.' && (code[j + 1].kind === 'word' || code[j + 1].kind === 'quoted')) {
      path.push(unquote(code[j + 1]));
      j += 2;
    }
    // A word followed by `(` is a function of the same name, not the column.
    if (path.length === 1 && code[k + 1]?.text === '(') continue;
    refs.push(path);
    k = j - 1;
  }
  return refs;
}

function unquote(t: Token): string {
  return t.kind === 'quoted' ? t.text.slice(1, -1).replace(/""/g, '"') : t.text;
}

/**
 * How many times the query reads `table` once its `WITH` queries are expanded where they are used,
 * as Trino (Athena) executes them: a named query referenced three times is read three times.
 * References are table names after `FROM` or `JOIN` (the style of athena-queries/).
 */
export function tableScans(sql: string, table: string): number {
  const code = codeTokens(sql);
  const lower = (t: Token | undefined): string => (t?.kind === 'word' || t?.kind === 'quoted' ? unquote(t).toLowerCase() : (t?.text ?? ''));
  const bodies = new Map<string, Token[]>();
  let i = 0;
  if (lower(code[0]) === 'with') {
    i = 1;
    for (;;) {
      const name = lower(code[i]);
      let j = i + 1;
      if (lower(code[j]) !== 'as') break;
      j++;
      if (lower(code[j]) === 'not') j++;
      if (lower(code[j]) === 'materialized') j++;
      if (code[j]?.text !== '(') break;
      let depth = 0;
      let end = j;
      for (; end < code.length; end++) {
        if (code[end].text === '(') depth++;
        if (code[end].text === ')' && --depth === 0) break;
      }
      bodies.set(name, code.slice(j + 1, end));
      i = end + 1;
      if (code[i]?.text !== ',') break;
      i++;
    }
  }
  const memo = new Map<string, number>();
  const target = table.toLowerCase();
  const count = (tokens: readonly Token[], seen: ReadonlySet<string>): number => {
    let n = 0;
    tokens.forEach((t, k) => {
      const before = lower(tokens[k - 1]);
      if (before !== 'from' && before !== 'join') return;
      const name = lower(t);
      if (name === target) n++;
      else if (bodies.has(name) && !seen.has(name)) n += scansOf(name, seen);
    });
    return n;
  };
  const scansOf = (name: string, seen: ReadonlySet<string>): number => {
    const cached = memo.get(name);
    if (cached !== undefined) return cached;
    const n = count(bodies.get(name) ?? [], new Set([...seen, name]));
    memo.set(name, n);
    return n;
  };
  return count(code.slice(i), new Set());
}
