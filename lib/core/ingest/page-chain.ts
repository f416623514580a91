/**
 * Fetches the pages of one bounded query in order, each as soon as its URL is known, at most
 * `depth` pages ahead of the consumer. A page's `next` link is usually known from its response
 * headers, before its body has arrived, so the request for page n+1 goes out while page n is still
 * downloading and page n-1 is being written: the chain then runs at the rate Okta answers.
 *
 * A link announced early is only a hint: when the finished page names a different `next` (a retried
 * response that differs, or an empty last page), everything fetched ahead is dropped and the chain
 * restarts from the page's real `next` link, so no page is skipped or read twice.
 */
import type { LogPage, LogPageSource } from '../ports';

interface Pending {
  readonly url: string;
  readonly page: Promise<LogPage>;
  readonly controller: AbortController;
  /** The next link this page announced (early, or when it finished); undefined until then. */
  announced?: { readonly next?: string };
}

export class PageChain {
  readonly #source: LogPageSource;
  readonly #depth: number;
  readonly #queue: Pending[] = [];
  /** A next link known while the queue was full. */
  #waiting?: string;
  #stopped = false;

  constructor(source: LogPageSource, firstUrl: string, depth = 2) {
    if (!(Number.isInteger(depth) && depth >= 1)) throw new RangeError(`depth must be a whole number >= 1, got ${depth}`);
    this.#source = source;
    this.#depth = depth;
    this.#start(firstUrl);
  }

  #start(url: string): void {
    const controller = new AbortController();
    const entry: Pending = {
      url,
      controller,
      page: this.#source.fetchPage(url, controller.signal, (next) => this.#announce(entry, next)),
    };
    // A page the consumer never takes (the run stopped) must not become an unhandled rejection.
    entry.page.then((p) => this.#announce(entry, p.nextUrl), () => undefined);
    this.#queue.push(entry);
  }

  #announce(entry: Pending, next: string | undefined): void {
    if (entry.announced) return;
    entry.announced = { next };
    if (next === undefined || this.#stopped || this.#queue.at(-1) !== entry) return;
    if (this.#queue.length < this.#depth) this.#start(next);
    else this.#waiting = next;
  }

  /** The next page in order. Rejects when fetching it failed. */
  async take(): Promise<LogPage> {
    const head = this.#queue[0];
    if (!head || this.#stopped) throw new RangeError('PageChain.take() after the last page or after stop()');
    const page = await head.page;
    this.#queue.shift();
    if (head.announced?.next !== page.nextUrl) {
      // The early hint was wrong: drop what was fetched on its strength.
      this.#dropAhead();
      head.announced = { next: page.nextUrl };
      if (page.nextUrl !== undefined) this.#start(page.nextUrl);
    } else if (this.#waiting !== undefined && this.#queue.length < this.#depth) {
      const next = this.#waiting;
      this.#waiting = undefined;
      this.#start(next);
    }
    return page;
  }

  #dropAhead(): void {
    for (const e of this.#queue) e.controller.abort();
    this.#queue.length = 0;
    this.#waiting = undefined;
  }

  /** Aborts every request still in flight; the chain cannot be used afterwards. */
  stop(): void {
    this.#stopped = true;
    this.#dropAhead();
  }
}
