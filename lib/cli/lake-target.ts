/**
 * Opens where a command writes: `--out <dir>` (a local lake, state beside it in `<dir>/_state`) or
 * `--out s3://bucket/prefix` (state in a local folder, `--state`, default `./.okta-lake/state`).
 *
 * The S3 sink and the AWS SDK are loaded only for an `s3://` target: the SDK adds noticeably to
 * the resident memory of a process that imports it, which a run into a local folder never uses.
 */
import { join, resolve } from 'node:path';
import { FileDetectionState } from '../adapters/file-detection-state';
import { FileWatermarkStore } from '../adapters/file-watermark-store';
import type { LateEvidenceLog } from '../core/late-evidence';
import { assertOrgLabel } from '../core/layout';
import type { OktaOrg } from '../core/okta/org';
import { LocalSink } from '../adapters/local-sink';
import { parseS3Url } from '../adapters/s3-url';
import type { LakeSink, WatermarkStore } from '../core/ports';

export interface LakeTarget {
  readonly sink: LakeSink;
  readonly store: WatermarkStore;
  /** Where the sweep and imports record late evidence for `okta-lake detect` (`<state>/detect`). */
  readonly lateEvidence: LateEvidenceLog;
  /** Where the state files are, for messages. */
  readonly stateLocation: string;
  close(): void;
}

export interface LakeTargetOptions {
  readonly out: string;
  /** @default `<out>/_state` for a folder, `./.okta-lake/state` for S3 */
  readonly stateDir?: string;
  /** An S3-compatible endpoint (for testing against a local S3). @default AWS */
  readonly s3Endpoint?: string;
}

/**
 * The label an org's events are filed under in the lake: its host (`parseOrg(...).host`), unless the
 * caller names another (the demo only, see `IngestToLakeOptions.lakeLabel`), which must be an org label.
 */
export function lakeLabelOf(org: OktaOrg, lakeLabel?: string): string {
  return lakeLabel === undefined ? org.host : assertOrgLabel(lakeLabel);
}

export function openLakeTarget(options: LakeTargetOptions): LakeTarget {
  if (options.out.startsWith('s3://')) {
    // Checked now, without the SDK: a malformed URL is a usage error before any work is done.
    parseS3Url(options.out);
    const sink = new LazyS3Sink(options.out, options.s3Endpoint);
    const stateDir = resolve(options.stateDir ?? join('.okta-lake', 'state'));
    return {
      sink,
      store: new FileWatermarkStore({ dir: stateDir }),
      lateEvidence: new FileDetectionState({ dir: join(stateDir, 'detect') }),
      stateLocation: stateDir,
      close: () => sink.close(),
    };
  }
  const root = resolve(options.out);
  const stateDir = resolve(options.stateDir ?? join(root, '_state'));
  return {
    sink: new LocalSink({ root }),
    store: new FileWatermarkStore({ dir: stateDir }),
    lateEvidence: new FileDetectionState({ dir: join(stateDir, 'detect') }),
    stateLocation: stateDir,
    close: () => undefined,
  };
}

interface LoadedS3 {
  readonly sink: LakeSink;
  destroy(): void;
}

/**
 * An `S3Sink` whose module (and the AWS SDK) is imported when the target is opened, without
 * blocking: every operation waits for it. The URL is checked by `parseS3Url` once the module is
 * loaded (`openLakeTarget` has checked it already, without the SDK).
 */
class LazyS3Sink implements LakeSink {
  /** The URL as given, without trailing slashes (the loaded sink normalises the prefix further). */
  readonly location: string;
  private readonly loaded: Promise<LoadedS3>;
  private closed = false;

  constructor(url: string, endpoint: string | undefined) {
    this.location = url.replace(/\/+$/, '');
    this.loaded = import('../adapters/s3-sink').then((m) => {
      const { bucket, prefix } = m.parseS3Url(url);
      const client = m.createS3Client({ endpoint });
      return { sink: new m.S3Sink({ client, bucket, prefix }), destroy: () => client.destroy() };
    });
    // The outcome is awaited by the first operation; until then a failure must not count as unhandled.
    this.loaded.catch(() => undefined);
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    return (await this.loaded).sink.put(key, body, contentType);
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.loaded).sink.list(prefix);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.loaded).sink.get(key);
  }

  /** Destroys the S3 client (once the module has loaded, if it is still loading). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loaded.then(
      (s3) => s3.destroy(),
      () => undefined,
    );
  }
}
