/**
 * The mock's wire format shared by its endpoints: Okta's error JSON, the headers every response
 * carries, a whole-body response, a bounded request body and the request's one `DPoP` header.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/ports';

export type Headers = Record<string, string | string[]>;

/** A request Okta answers with HTTP 400 and an `E0000001`-style error (or `invalid_request`). */
export class BadRequest extends Error {
  constructor(
    readonly errorCode: string,
    readonly summary: string,
    readonly causes: readonly string[] = [],
  ) {
    super(summary);
  }
}

/** Okta's error body: `errorCode`, `errorSummary`, `errorLink`, a fresh `errorId`, `errorCauses`. */
export function oktaError(errorCode: string, errorSummary: string, causes: readonly string[] = []): string {
  return JSON.stringify({
    errorCode,
    errorSummary,
    errorLink: errorCode,
    errorId: `oae${randomBytes(11).toString('base64url')}`,
    errorCauses: causes.map((c) => ({ errorSummary: c })),
  });
}

/** Writes responses with the headers every Okta response has, dated by the mock's clock. */
export interface Responder {
  /** `Date`, `X-Okta-Request-Id`, `Content-Type`, `Cache-Control`. */
  baseHeaders(): Record<string, string>;
  /** A whole body with its `Content-Length`; `headers` come after (and override) the base ones. */
  send(res: ServerResponse, status: number, body: string | Buffer, headers?: Headers): void;
}

export function responder(clock: Pick<Clock, 'now'>): Responder {
  const baseHeaders = (): Record<string, string> => ({
    // Okta's clock, as X-Rate-Limit-Reset is: clients compute the 429 wait from the two.
    Date: new Date(clock.now()).toUTCString(),
    // Every Okta response names its request for Okta support (okta-sdk-nodejs reads it on each retry).
    'X-Okta-Request-Id': `mock-${randomBytes(12).toString('base64url')}`,
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, no-store',
  });
  const send = (res: ServerResponse, status: number, body: string | Buffer, headers: Headers = {}): void => {
    // One UTF-8 encoding pass; writing a Buffer is also cheaper for the socket than a large string.
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { ...baseHeaders(), 'Content-Length': String(bytes.length), ...headers });
    res.end(bytes);
  };
  return { baseHeaders, send };
}

/** The request body as UTF-8, refused with {@link BadRequest} (and the request destroyed) past `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new BadRequest('invalid_request', 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** One `DPoP` header (a JWS has no comma; Node joins repeated headers with ", "), `''` for several, or undefined. */
export function dpopHeaderOf(req: IncomingMessage): string | undefined {
  const v = req.headers.dpop;
  return typeof v === 'string' && !v.includes(',') ? v : Array.isArray(v) ? '' : v === undefined ? undefined : '';
}
