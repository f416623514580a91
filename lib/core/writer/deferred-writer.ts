/**
 * A `PageWriter` that is still opening. Opening the DuckDB writer (instance, connection, prepared
 * statements) takes time (bench/results.md, "Cold start"); a run can read its credential, take its
 * lease and fetch its first page meanwhile, and only its first write waits for the open.
 */
import type { PageWriter } from '../ports';

/**
 * Wraps a writer being opened. Each call waits for `opening`; a failed open fails the first call
 * that needs the writer (with the open's error), never as an unhandled rejection, and `close()`
 * of a writer that never opened has nothing to close and resolves.
 */
export function deferredWriter(opening: Promise<PageWriter>): PageWriter {
  // Observed here so that an open failing before any call is not an unhandled rejection.
  opening.catch(() => undefined);
  return {
    writePage: async (input) => (await opening).writePage(input),
    close: async () => {
      let writer: PageWriter;
      try {
        writer = await opening;
      } catch {
        return;
      }
      await writer.close();
    },
  };
}
