import { describe, expect, it } from 'vitest';
import type { PageWriteInput } from '../../lib/core/ports';
import { deferredWriter } from '../../lib/core/writer/deferred-writer';
import { FakeWriter } from '../../testkit/fakes';

const input: PageWriteInput = {
  org: 'acme.okta.com',
  body: JSON.stringify([{ uuid: 'a', published: '2024-01-31T23:40:00.000Z' }]),
  format: 'array',
  name: 'p0',
  ingestedAt: new Date('2024-02-01T00:00:00.000Z'),
};

class OpenFailed extends Error {}

describe('deferredWriter', () => {
  it('waits for the open, then passes every call to the opened writer', async () => {
    // Prepare
    const inner = new FakeWriter();
    let open!: (w: FakeWriter) => void;
    const writer = deferredWriter(new Promise((resolve) => (open = resolve)));
    // Act
    const writing = writer.writePage(input);
    const before = inner.pagesWritten;
    open(inner);
    const result = await writing;
    // Assess
    expect(before).toBe(0);
    expect(result.eventsWritten).toBe(1);
    expect(inner.pagesWritten).toBe(1);
  });

  it('fails the first call with the error of a failed open, and close() then resolves', async () => {
    // Prepare
    const failure = new OpenFailed('no DuckDB binding');
    const writer = deferredWriter(Promise.reject(failure));
    // Act
    const written = await writer.writePage(input).catch((e: unknown) => e);
    // Assess
    expect(written).toBe(failure);
    await expect(writer.close()).resolves.toBeUndefined();
  });

  it('does not leave a failed open unhandled when no call ever needs the writer', async () => {
    // Prepare: vitest fails the run on an unhandled rejection
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Act
      deferredWriter(Promise.reject(new OpenFailed('never needed')));
      await new Promise((r) => setTimeout(r, 20));
      // Assess
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('closes the opened writer', async () => {
    // Prepare
    let closed = 0;
    const inner = Object.assign(new FakeWriter(), { close: async () => void closed++ });
    const writer = deferredWriter(Promise.resolve(inner));
    // Act
    await writer.close();
    // Assess
    expect(closed).toBe(1);
  });
});
