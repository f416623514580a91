/** Evaluation cursors in memory, with the DynamoDB store's version rule: for the local replay, the soak and tests. */
import type { EvaluationCursorStore, StoredCursor } from './ports';

export class MemoryCursorStore implements EvaluationCursorStore {
  private readonly cursors = new Map<string, StoredCursor>();

  async read(org: string, detectionId: string): Promise<StoredCursor | undefined> {
    return this.cursors.get(`${org}#${detectionId}`);
  }

  async write(org: string, detectionId: string, cursor: StoredCursor['cursor'], expectedVersion: number, _nowMs?: number): Promise<number | undefined> {
    const key = `${org}#${detectionId}`;
    if ((this.cursors.get(key)?.version ?? 0) !== expectedVersion) return undefined;
    this.cursors.set(key, { cursor, version: expectedVersion + 1 });
    return expectedVersion + 1;
  }
}

