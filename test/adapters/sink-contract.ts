/**
 * The behaviour every LakeSink must have, as one suite run against the S3 sink (on s3rver) and the
 * folder sink. Each test works under its own random prefix, so tests sharing one sink never collide.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidSinkKeyError } from '../../lib/adapters/sink-keys';
import { ObjectExistsError } from '../../lib/core/errors';
import type { LakeSink } from '../../lib/core/ports';

function area(): string {
  return `t-${randomBytes(5).toString('hex')}`;
}

const bytes = (text: string) => new TextEncoder().encode(text);

export function describeLakeSinkContract(name: string, sink: () => LakeSink): void {
  describe(`${name}: LakeSink contract`, () => {
    it('returns a 1 MB random body byte for byte', async () => {
      // Prepare
      const s = sink();
      const key = `${area()}/events/org=acme.okta.com/dt=2024-05-01/hour=00/page.parquet`;
      const body = new Uint8Array(randomBytes(1024 * 1024));
      // Act
      await s.put(key, body, 'application/vnd.apache.parquet');
      const read = await s.get(key);
      // Assess
      expect(read).toBeInstanceOf(Uint8Array);
      expect(read?.byteLength).toBe(body.byteLength);
      expect(Buffer.from(read!).equals(Buffer.from(body))).toBe(true);
    });

    it('stores an empty body', async () => {
      const s = sink();
      const key = `${area()}/empty.jsonl`;
      await s.put(key, new Uint8Array(0), 'application/x-ndjson');
      const read = await s.get(key);
      expect(read).toBeDefined();
      expect(read?.byteLength).toBe(0);
    });

    it('refuses a second write to an existing key and keeps the first object byte for byte', async () => {
      // Prepare
      const s = sink();
      const key = `${area()}/events/org=acme.okta.com/dt=2024-05-01/hour=00/page.parquet`;
      await s.put(key, bytes('first version, longer than the second'), 'application/octet-stream');
      // Act
      const second = await s.put(key, bytes('second'), 'application/octet-stream').catch((e: unknown) => e);
      const empty = await s.put(key, new Uint8Array(0), 'application/octet-stream').catch((e: unknown) => e);
      // Assess
      expect(second).toBeInstanceOf(ObjectExistsError);
      expect((second as ObjectExistsError).key).toBe(key);
      expect(empty).toBeInstanceOf(ObjectExistsError);
      expect(new TextDecoder().decode(await s.get(key))).toBe('first version, longer than the second');
      expect(await s.list(key)).toEqual([key]);
    });

    it('lets exactly one of several concurrent writes of one key succeed', async () => {
      // Prepare
      const s = sink();
      const key = `${area()}/race.parquet`;
      // Act
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => s.put(key, bytes(`writer ${i}`), 'application/octet-stream')));
      // Assess
      const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ObjectExistsError);
      expect(new TextDecoder().decode(await s.get(key))).toBe(`writer ${won[0]}`);
      expect(await s.list(key)).toEqual([key]);
    });

    it('returns undefined for a missing key', async () => {
      const s = sink();
      const base = area();
      await s.put(`${base}/present`, bytes('x'), 'text/plain');
      expect(await s.get(`${base}/absent`)).toBeUndefined();
      expect(await s.get(`${area()}/nothing/here.parquet`)).toBeUndefined();
    });

    it('lists keys relative to the sink root by prefix, like S3 prefixes', async () => {
      // Prepare
      const s = sink();
      const base = area();
      const keys = [
        `${base}/events/org=a.okta.com/dt=2024-05-01/hour=00/p1.parquet`,
        `${base}/events/org=a.okta.com/dt=2024-05-01/hour=01/p2.parquet`,
        `${base}/events/org=ab.okta.com/dt=2024-05-01/hour=00/p3.parquet`,
        `${base}/quarantine/org=a.okta.com/dt=2024-05-01/q.jsonl`,
      ];
      for (const key of keys) await s.put(key, bytes(key), 'application/octet-stream');
      // Act
      const all = await s.list(`${base}/`);
      const folder = await s.list(`${base}/events/org=a.okta.com/`);
      const partialName = await s.list(`${base}/events/org=a`);
      const none = await s.list(`${base}/events/org=zzz/`);
      // Assess
      expect(all.sort()).toEqual([...keys].sort());
      expect(folder.sort()).toEqual(keys.slice(0, 2));
      expect(partialName.sort()).toEqual(keys.slice(0, 3));
      expect(none).toEqual([]);
      expect(await s.get(folder[0]!)).toEqual(bytes(keys[0]!));
    });

    it('refuses keys that could leave the sink root', async () => {
      const s = sink();
      for (const key of ['../escape.parquet', 'a/../../escape', '/etc/passwd', 'a//b', 'a/./b', 'a\\..\\b', '', 'a/\u0000b']) {
        await expect(s.put(key, bytes('x'), 'text/plain'), key).rejects.toBeInstanceOf(InvalidSinkKeyError);
        await expect(s.get(key), key).rejects.toBeInstanceOf(InvalidSinkKeyError);
      }
      await expect(s.list('../')).rejects.toBeInstanceOf(InvalidSinkKeyError);
      await expect(s.list('/abs')).rejects.toBeInstanceOf(InvalidSinkKeyError);
    });
  });
}
