/**
 * Opens where a command writes: `--out <dir>` (a local lake, state beside it in `<dir>/_state`) or
 * `--out s3://bucket/prefix` (state in a local folder, `--state`, default `./.okta-lake/state`).
 */
import { join, resolve } from 'node:path';
import { FileWatermarkStore } from '../adapters/file-watermark-store';
import { LocalSink } from '../adapters/local-sink';
import { S3Sink, createS3Client, parseS3Url } from '../adapters/s3-sink';
import type { LakeSink, WatermarkStore } from '../core/ports';

export interface LakeTarget {
  readonly sink: LakeSink;
  readonly store: WatermarkStore;
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

export function openLakeTarget(options: LakeTargetOptions): LakeTarget {
  if (options.out.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(options.out);
    const client = createS3Client({ endpoint: options.s3Endpoint });
    const stateDir = resolve(options.stateDir ?? join('.okta-lake', 'state'));
    return {
      sink: new S3Sink({ client, bucket, prefix }),
      store: new FileWatermarkStore({ dir: stateDir }),
      stateLocation: stateDir,
      close: () => client.destroy(),
    };
  }
  const root = resolve(options.out);
  const stateDir = resolve(options.stateDir ?? join(root, '_state'));
  return {
    sink: new LocalSink({ root }),
    store: new FileWatermarkStore({ dir: stateDir }),
    stateLocation: stateDir,
    close: () => undefined,
  };
}
