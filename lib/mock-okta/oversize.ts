/**
 * The body of an `oversize` fault: the page's events, white space, `]` (still valid JSON), streamed
 * in 64 KiB writes that wait for the socket to drain, never held in memory whole.
 */
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Headers } from './http';

/** Size of an oversize page unless `oversizeBodyBytes` or the fault says otherwise: 64 MiB. */
export const DEFAULT_OVERSIZE_BODY_BYTES = 64 * 1024 * 1024;
/** The size of each write of an oversize body. */
const OVERSIZE_CHUNK_BYTES = 64 * 1024;
/** White space that pads an oversize page (JSON allows any amount between its elements). */
const PADDING = Buffer.alloc(OVERSIZE_CHUNK_BYTES, 0x20);
const CLOSE_BRACKET = Buffer.from(']');

export interface OversizeSender {
  /**
   * An `oversize` page: `head` (the page without its closing bracket), white space up to `total`
   * bytes, `]`; 64 KiB per write, waiting for the socket to drain (so nothing piles up in memory)
   * and `chunkDelayMs` between writes; it stops when the client closes the connection.
   */
  send(res: ServerResponse, head: Buffer, total: number, declareLength: boolean, headers: Headers): Promise<void>;
}

export function oversizeSender(o: {
  /** The headers every response starts with. */
  readonly baseHeaders: () => Record<string, string>;
  /** Pause between writes. */
  readonly chunkDelayMs: number;
  /** Bytes written, and bodies sent to their end. */
  readonly counters: { oversizeBytesSent: number; oversizeBodiesCompleted: number };
}): OversizeSender {
  const { baseHeaders, chunkDelayMs, counters } = o;
  const send = async (res: ServerResponse, head: Buffer, total: number, declareLength: boolean, headers: Headers): Promise<void> => {
    const size = Math.max(total, head.length + 1);
    let open = true;
    const closed = once(res, 'close').then(() => {
      open = false;
    });
    res.writeHead(200, { ...baseHeaders(), ...(declareLength ? { 'Content-Length': String(size) } : {}), ...headers });
    const write = async (chunk: Buffer): Promise<boolean> => {
      if (!open || res.destroyed) return false;
      counters.oversizeBytesSent += chunk.length;
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
      if (open && chunkDelayMs > 0) await sleep(chunkDelayMs);
      return open && !res.destroyed;
    };
    for (let at = 0; at < head.length; at += OVERSIZE_CHUNK_BYTES) {
      if (!(await write(head.subarray(at, at + OVERSIZE_CHUNK_BYTES)))) return;
    }
    for (let left = size - head.length - 1; left > 0; left -= OVERSIZE_CHUNK_BYTES) {
      if (!(await write(left >= OVERSIZE_CHUNK_BYTES ? PADDING : PADDING.subarray(0, left)))) return;
    }
    if (!(await write(CLOSE_BRACKET))) return;
    counters.oversizeBodiesCompleted++;
    res.end();
  };
  return { send };
}
