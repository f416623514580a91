/**
 * Reads an Okta response body as a stream, up to a byte cap, instead of `response.text()`, which
 * holds a body of any size (what an oversized body costs the client: bench/oversize-body.md).
 *
 * Decoding is exactly `response.text()`'s: the Fetch standard's "UTF-8 decode" (a leading BOM is
 * dropped, an invalid sequence becomes U+FFFD), done here by one streaming `TextDecoder('utf-8')`
 * (`fatal: false`, `ignoreBOM: false`: the same algorithm), which keeps a multi-byte character
 * split across two chunks whole. So a page's text, and the `raw` of its events, do not change.
 */

/** What {@link readCappedBody} read. */
export interface CappedBody {
  /** The decoded text: the whole body, or (when `complete` is false) at most the first `maxBytes` bytes of it. */
  readonly text: string;
  /**
   * Body bytes received (after any content decoding): all of them, or, when `complete` is false,
   * those received until the cap was passed (at most one chunk of the stream more than `maxBytes`).
   */
  readonly bytes: number;
  /** False when the body is longer than `maxBytes`: reading stopped there and the request was aborted. */
  readonly complete: boolean;
  /** `Content-Length`, when the response declared one larger than the cap (nothing was read then). */
  readonly declaredBytes?: number;
}

/** `Content-Length` as a number, when it is one and the body is not content-encoded (then it counts the encoded bytes). */
function declaredLength(headers: Headers): number | undefined {
  const encoding = headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') return undefined;
  const v = headers.get('content-length');
  return v !== null && /^\s*\d+\s*$/.test(v) ? Number(v) : undefined;
}

/**
 * Reads `res`'s body, at most `maxBytes` of it. As soon as the body passes the cap (or declares a
 * `Content-Length` above it) it stops reading, cancels the body stream and calls `abort` (which
 * should abort the request's signal, so the connection is closed and nothing more is received),
 * and returns with `complete: false`. Errors of the stream (a reset, a timeout) are thrown as they come.
 */
export async function readCappedBody(res: Response, maxBytes: number, abort: () => void): Promise<CappedBody> {
  const stop = (reader?: ReadableStreamDefaultReader<Uint8Array>): void => {
    // Cancelling the stream and aborting the request both close the connection; neither may throw here.
    reader?.cancel().catch(() => undefined);
    abort();
  };
  const declared = declaredLength(res.headers);
  if (declared !== undefined && declared > maxBytes) {
    stop(res.body?.getReader());
    return { text: '', bytes: 0, complete: false, declaredBytes: declared };
  }
  if (res.body === null) return { text: '', bytes: 0, complete: true };
  const reader = res.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (bytes + value.byteLength > maxBytes) {
      const room = maxBytes - bytes;
      text += decoder.decode(value.subarray(0, room));
      stop(reader);
      return { text, bytes: bytes + value.byteLength, complete: false };
    }
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
  text += decoder.decode();
  return { text, bytes, complete: true };
}

/** A byte count for messages: `33554432 bytes (32 MiB)`. */
export function describeBytes(n: number): string {
  const mib = n / (1024 * 1024);
  if (mib >= 1) return `${n} bytes (${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB)`;
  const kib = n / 1024;
  return kib >= 1 ? `${n} bytes (${Number.isInteger(kib) ? kib : kib.toFixed(1)} KiB)` : `${n} bytes`;
}
