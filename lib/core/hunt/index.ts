/**
 * Local hunting with DuckDB over a lake folder: the compatibility layer that runs the Athena
 * (Trino) SQL of `athena-queries/` unchanged, and the runner. See docs/detections.md.
 */
export * from './compat';
export * from './lake';
export * from './replay';
export * from './runner';
export { codeTokens, dottedReferences, functionCalls, tableScans, tokenize, type FunctionCall, type Token } from '../sql/tokens';
export * from './engine';
