/**
 * The detection state of a local lake, in its state folder (`<lake>/_state/detect/` by default):
 * evaluation cursors, late-evidence logs and the fingerprints already alerted, as small JSON files
 * (`LockedFiles`: locked read-modify-write, atomic replace), with the same rules as the DynamoDB
 * adapters. `okta-lake detect` keeps them there, so a second run reports nothing new.
 *
 *   cursors/<org>/<detectionId>.json   { version, cursor }
 *   late/<org>.json                    { version, log }
 *   alerted/<detectionId>.json         { <fingerprint>: { runId, expiresAt, suppressUntil, atSeconds } }
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EvaluationStoreError } from '../core/detect/errors';
import type { EvaluationCursor, EvaluationCursorStore, StoredCursor, SuppressionClaim, SuppressionStore } from '../core/detect/ports';
import { claimable, claimTimes, heldBy, type HeldClaim } from '../core/detect/suppression';
import { ConfigError } from '../core/errors';
import { appendLateRange, EMPTY_LATE_LOG, type LateEvidence, type LateEvidenceLog, type LateLog } from '../core/late-evidence';
import { assertOrgLabel } from '../core/layout';
import { LockedFiles } from './locked-files';

const DETECTION_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function assertDetectionId(id: string): string {
  if (!DETECTION_ID.test(id)) throw new ConfigError(`detection id "${id}" is not lower-case words joined by dashes`);
  return id;
}

export class FileDetectionState implements EvaluationCursorStore, LateEvidenceLog, SuppressionStore {
  readonly dir: string;
  private readonly files: LockedFiles;

  constructor(options: { readonly dir: string; readonly fsync?: boolean }) {
    if (typeof options.dir !== 'string' || options.dir.trim() === '') throw new ConfigError('FileDetectionState dir must be a non-empty folder path');
    this.dir = resolve(options.dir);
    this.files = new LockedFiles({ dir: this.dir, ...(options.fsync !== undefined ? { fsync: options.fsync } : {}) });
  }

  private async readJson<T>(path: string): Promise<T | undefined> {
    let text: string | undefined;
    try {
      text = await this.files.readText(path);
    } catch (err) {
      throw new EvaluationStoreError(`could not read ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new EvaluationStoreError(`${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  private cursorFile(org: string, detectionId: string): string {
    return join(this.dir, 'cursors', assertOrgLabel(org), `${assertDetectionId(detectionId)}.json`);
  }

  async read(org: string, detectionId: string): Promise<StoredCursor | undefined> {
    return this.readJson<StoredCursor>(this.cursorFile(org, detectionId));
  }

  async write(org: string, detectionId: string, cursor: EvaluationCursor, expectedVersion: number): Promise<number | undefined> {
    const path = this.cursorFile(org, detectionId);
    return this.files.withLock(path, async () => {
      const stored = await this.readJson<StoredCursor>(path);
      if ((stored?.version ?? 0) !== expectedVersion) return undefined;
      const version = expectedVersion + 1;
      await this.files.writeJson(path, { version, cursor } satisfies StoredCursor);
      return version;
    });
  }

  private lateFile(org: string): string {
    return join(this.dir, 'late', `${assertOrgLabel(org)}.json`);
  }

  async lateLog(org: string): Promise<LateLog> {
    return (await this.readJson<{ log: LateLog }>(this.lateFile(org)))?.log ?? EMPTY_LATE_LOG;
  }

  async record(org: string, evidence: LateEvidence, nowMs: number): Promise<void> {
    const path = this.lateFile(org);
    await this.files.withLock(path, async () => {
      const log = (await this.readJson<{ log: LateLog }>(path))?.log ?? EMPTY_LATE_LOG;
      await this.files.writeJson(path, { log: appendLateRange(log, evidence, nowMs) });
    });
  }

  private alertedFile(detectionId: string): string {
    return join(this.dir, 'alerted', `${assertDetectionId(detectionId)}.json`);
  }

  async claim(fingerprints: readonly string[], claim: SuppressionClaim): Promise<string[]> {
    const path = this.alertedFile(claim.detectionId);
    return this.files.withLock(path, async () => {
      const held = (await this.readJson<Record<string, HeldClaim>>(path)) ?? {};
      const { nowSeconds } = claimTimes(claim);
      const record = heldBy(claim);
      const won: string[] = [];
      for (const fp of fingerprints) {
        if (!claimable(held[fp], claim)) continue;
        held[fp] = record;
        won.push(fp);
      }
      // Records past their keeping time are dropped, as DynamoDB TTL would.
      for (const [fp, h] of Object.entries(held)) if (h.expiresAt <= nowSeconds) delete held[fp];
      if (won.length > 0) await this.files.writeJson(path, held);
      return won;
    });
  }

  async release(fingerprints: readonly string[], runId: string): Promise<void> {
    // Claims of every detection share no file; a release names no detection, so it looks in each.
    let files: string[];
    try {
      files = (await readdir(join(this.dir, 'alerted'))).filter((f) => f.endsWith('.json'));
    } catch {
      return;
    }
    const wanted = new Set(fingerprints);
    for (const f of files) {
      const path = join(this.dir, 'alerted', f);
      await this.files.withLock(path, async () => {
        const held = (await this.readJson<Record<string, HeldClaim>>(path)) ?? {};
        let changed = false;
        for (const fp of Object.keys(held)) {
          if (wanted.has(fp) && held[fp].runId === runId) {
            delete held[fp];
            changed = true;
          }
        }
        if (changed) await this.files.writeJson(path, held);
      });
    }
  }
}
