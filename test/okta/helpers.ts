/** Shared helpers for the Okta client and mock server tests. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogPageSource } from '../../lib/core/ports';
import type { MockEvent } from '../../lib/mock-okta/events';

/** `n` events, one every `stepMs` from `startMs`, with JSON text that has the usual top-level fields. */
export function makeEvents(n: number, startMs: number, stepMs = 1000, prefix = 'ev'): MockEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const publishedMs = startMs + i * stepMs;
    const uuid = `${prefix}-${String(i).padStart(6, '0')}`;
    const text = JSON.stringify({
      uuid,
      published: new Date(publishedMs).toISOString(),
      eventType: 'user.session.start',
      displayMessage: `User login to Okta, "quoted", comma, [bracket] #${i}`,
      actor: { id: '00u1', type: 'User', alternateId: 'a@example.com' },
      target: null,
    });
    return { uuid, publishedMs, text };
  });
}

/** Follows `rel="next"` links from `first` and returns the uuids of every page, in order. */
export async function readAll(source: LogPageSource, first: string, maxPages = 1000): Promise<{ uuids: string[]; pages: number; bodies: string[] }> {
  const uuids: string[] = [];
  const bodies: string[] = [];
  let url: string | undefined = first;
  let pages = 0;
  while (url !== undefined) {
    if (pages >= maxPages) throw new Error(`more than ${maxPages} pages`);
    const page = await source.fetchPage(url);
    pages++;
    bodies.push(page.body);
    for (const e of JSON.parse(page.body) as { uuid: string }[]) uuids.push(e.uuid);
    url = page.nextUrl;
  }
  return { uuids, pages, bodies };
}

/** A plain loopback HTTP server that records what it receives and answers 200 `[]`. */
export async function startRecorder(): Promise<{ origin: string; received: IncomingMessage[]; stop(): Promise<void> }> {
  const received: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    received.push(req);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
