import { describe, expect, it } from 'vitest';
import { PageChain } from '../../lib/core/ingest/page-chain';
import type { LogPage, LogPageSource } from '../../lib/core/ports';

/** Pages p0..p(n-1); each announces its next link before it resolves; resolution is manual. */
class ManualSource implements LogPageSource {
  readonly started: string[] = [];
  readonly aborted: string[] = [];
  readonly resolvers = new Map<string, () => void>();
  /** URL -> the next link announced early, when it should differ from the real one. */
  readonly wrongHints = new Map<string, string>();

  constructor(private readonly pages: number) {}

  boundedQueryUrl(): string {
    return 'p0';
  }

  fetchPage(url: string, signal?: AbortSignal, onNextLink?: (next: string) => void): Promise<LogPage> {
    this.started.push(url);
    const i = Number(url.slice(1));
    const next = i + 1 < this.pages ? `p${i + 1}` : undefined;
    signal?.addEventListener('abort', () => this.aborted.push(url));
    const hint = this.wrongHints.get(url) ?? next;
    if (hint) queueMicrotask(() => onNextLink?.(hint));
    return new Promise((resolve) => this.resolvers.set(url, () => resolve({ url, body: `[${i}]`, nextUrl: next })));
  }

  finish(url: string): void {
    this.resolvers.get(url)!();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('PageChain', () => {
  it('requests the next page as soon as its link is announced, at most `depth` pages ahead', async () => {
    // Prepare
    const source = new ManualSource(5);
    const chain = new PageChain(source, 'p0', 2);
    await tick();
    // Assess: p0 announced p1 before finishing; p1's announcement of p2 waits (depth 2).
    expect(source.started).toEqual(['p0', 'p1']);
    // Act: p0 finishes and is taken.
    source.finish('p0');
    expect((await chain.take()).url).toBe('p0');
    await tick();
    expect(source.started).toEqual(['p0', 'p1', 'p2']);
    source.finish('p1');
    source.finish('p2');
    expect((await chain.take()).url).toBe('p1');
    expect((await chain.take()).url).toBe('p2');
    chain.stop();
  });

  it('takes every page once and in order', async () => {
    const source = new ManualSource(6);
    const chain = new PageChain(source, 'p0', 3);
    const taken: string[] = [];
    for (let i = 0; i < 6; i++) {
      await tick();
      for (const url of [...source.resolvers.keys()]) source.finish(url);
      taken.push((await chain.take()).url);
    }
    expect(taken).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
    expect(new Set(source.started).size).toBe(source.started.length);
  });

  it('drops what it fetched on a wrong early hint and follows the page\'s real next link', async () => {
    // Prepare: p0's headers announce "p7", but the finished page says p1.
    const source = new ManualSource(3);
    source.wrongHints.set('p0', 'p7');
    const chain = new PageChain(source, 'p0', 2);
    await tick();
    expect(source.started).toEqual(['p0', 'p7']);
    // Act
    source.finish('p0');
    const first = await chain.take();
    // Assess
    expect(first.nextUrl).toBe('p1');
    expect(source.aborted).toContain('p7');
    expect(source.started.slice(0, 3)).toEqual(['p0', 'p7', 'p1']);
    await tick();
    source.finish('p1');
    expect((await chain.take()).url).toBe('p1');
    chain.stop();
  });

  it('stop() aborts the requests in flight', async () => {
    const source = new ManualSource(4);
    const chain = new PageChain(source, 'p0', 2);
    await tick();
    chain.stop();
    expect(source.aborted.sort()).toEqual(['p0', 'p1']);
    await expect(chain.take()).rejects.toThrow(/after stop/);
  });
});
