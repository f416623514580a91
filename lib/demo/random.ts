/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32) and the random
 * identifiers Okta puts into its events. Everything in the simulated org is drawn from here, never
 * from `Math.random`, so the same seed always gives the same events.
 */

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Okta request ids (`transaction.id`, `debugData.requestId`) use a base64-like alphabet with `@` and `-`. */
const REQUEST_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@-';
const HEX = '0123456789abcdef';
const SESSION_ALPHABET = BASE62 + '-_';

/**
 * 100-ns intervals between the Gregorian epoch (1582-10-15) and the Unix epoch (the version-1 UUID
 * time base, 0x01b21dd213814000), split in 32-bit halves so the arithmetic stays exact in doubles.
 */
const UUID_EPOCH_HIGH = 0x01b21dd2;
const UUID_EPOCH_LOW = 0x13814000;
const TWO_32 = 4294967296;
const HEX_CODES = Buffer.from('0123456789abcdef', 'latin1');
/** Writes `x` as `digits` lower-case hex digits at `offset`. */
function writeHex(buffer: Buffer, offset: number, x: number, digits: number): void {
  for (let i = digits - 1; i >= 0; i--) {
    buffer[offset + i] = HEX_CODES[x & 15] as number;
    x = Math.floor(x / 16);
  }
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 spreads one 32-bit seed over the 128-bit sfc32 state.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max). */
  range(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks an item with probability proportional to `weight(item)`. */
  weighted<T>(items: readonly T[], weight: (item: T) => number): T {
    let total = 0;
    for (const item of items) total += weight(item);
    let r = this.next() * total;
    for (const item of items) {
      r -= weight(item);
      if (r < 0) return item;
    }
    return items[items.length - 1] as T;
  }

  /** A new generator whose sequence depends on this one's seed and `label`, not on how far this one has run. */
  fork(label: number): Rng {
    return new Rng((this.a ^ Math.imul(label + 1, 0x9e3779b1)) >>> 0);
  }

  private readonly buffer = Buffer.alloc(64);

  /** Random characters of `alphabet` (ASCII), as one flat string: no chain of concatenations to keep alive. */
  private chars(alphabet: string, length: number): string {
    const buffer = length <= this.buffer.length ? this.buffer : Buffer.alloc(length);
    for (let i = 0; i < length; i++) buffer[i] = alphabet.charCodeAt(this.uint32() % alphabet.length);
    return buffer.toString('latin1', 0, length);
  }

  base62(length: number): string {
    return this.chars(BASE62, length);
  }

  hex(length: number): string {
    return this.chars(HEX, length);
  }

  /** An Okta object id: a 3-character type prefix (`00u` user, `0oa` app, `00p` policy ...) and 17 more: 20 in all. */
  oktaId(prefix: string): string {
    return prefix + this.base62(20 - prefix.length);
  }

  /** An Okta request id as seen in `transaction.id` and `debugData.requestId`, e.g. `XkcAsWb8WjwDP76xh@1v8wAABp0`. */
  requestId(): string {
    const buffer = this.buffer;
    for (let i = 0; i < 27; i++) buffer[i] = i >= 19 && i < 22 ? 65 : REQUEST_ID_ALPHABET.charCodeAt(this.uint32() & 63);
    return buffer.toString('latin1', 0, 27);
  }

  /** An Okta session id (`authenticationContext.externalSessionId`), e.g. `102nZHzd6OHSfGG51vsoc22gw`. */
  sessionId(): string {
    const buffer = this.buffer;
    buffer[0] = 49;
    buffer[1] = 48;
    buffer[2] = 50;
    for (let i = 3; i < 25; i++) buffer[i] = SESSION_ALPHABET.charCodeAt(this.uint32() & 63);
    return buffer.toString('latin1', 0, 25);
  }

  /**
   * A version-1 (time-based) UUID for an event published at `ms`, the kind Okta uses for `uuid`
   * (e.g. `faf7398a-4f77-11ea-97fb-5925e98228bd`). `node` identifies the Okta server (12 hex digits).
   */
  uuidV1(ms: number, node: string): string {
    const msHigh = Math.floor(ms / TWO_32);
    const low = (ms - msHigh * TWO_32) * 10000 + this.int(0, 9999) + UUID_EPOCH_LOW;
    const carry = Math.floor(low / TWO_32);
    const high = msHigh * 10000 + UUID_EPOCH_HIGH + carry;
    const timeLow = low - carry * TWO_32;
    const timeMid = high & 0xffff;
    const timeHi = ((high >>> 16) & 0x0fff) | 0x1000;
    const clockSeq = (this.uint32() & 0x3fff) | 0x8000;
    const b = this.buffer;
    writeHex(b, 0, timeLow, 8);
    b[8] = 45;
    writeHex(b, 9, timeMid, 4);
    b[13] = 45;
    writeHex(b, 14, timeHi, 4);
    b[18] = 45;
    writeHex(b, 19, clockSeq, 4);
    b[23] = 45;
    b.write(node, 24, 12, 'latin1');
    return b.toString('latin1', 0, 36);
  }
}
