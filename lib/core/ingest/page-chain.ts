/**
 * Fetches the pages of one bounded query in order, each as soon as its URL is known, at most
 * `depth` pages ahead of the consumer. A page's `next` link is usually known from its response
 * headers, before its body has arrived, so the request for page n+1 goes out while page n is still
 * downloading and page n-1 is being written: the chain then runs at the rate Okta answers.
 *
 * A link announced early is only a hint: when the finished page names a different `next` (a retried
 * response that differs), everything fetched ahead is dropped and the chain restarts from the page's
 * real `next` link, so no page is skipped or read twice.
 *
 * Empty pages. Okta promises only that the *last* page of a bounded query has no `next` link
 * (developer.okta.com/docs/reference/system-log-query, "Bounded requests": "the last page doesn't
 * contain a next link relation header"); an empty page that still carries one is not the end, so its
 * link is followed like any other. {@link EmptyPageGuard} makes a window that keeps answering empty
 * pages fail loudly instead of looping for ever or silently ending.
 */
import { ConfigError, OktaLakeError } from '../errors';
import type { LogPage, LogPageSource } from '../ports';

/** How many empty pages in a row (each with a `next` link) a window may yield before it fails. */
export const DEFAULT_MAX_CONSECUTIVE_EMPTY_PAGES = 20;

/**
 * A window yielded more consecutive empty pages with a `next` link than allowed: Okta keeps promising
 * more and never sends any. The window is not ended (that would skip whatever follows): the run
 * fails, the checkpoint keeps the last link, and the next run goes on from there.
 */
export class EmptyPagesError extends OktaLakeError {
  /** Empty pages in a row when the run gave up. */
  readonly emptyPages: number;
  /** The `next` link the last empty page carried (where the next run resumes). */
  readonly nextUrl: string;
  constructor(message: string, options: { emptyPages: number; nextUrl: string }) {
    super(message);
    this.emptyPages = options.emptyPages;
    this.nextUrl = options.nextUrl;
  }
}

/** A page body that is a JSON array with no elements. */
export const isEmptyPage = (body: string): boolean => /^\s*\[\s*\]\s*$/.test(body);

/** Validates the `maxConsecutiveEmptyPages` option of the ingestion and the sweep. */
export function checkMaxEmptyPages(value: number | undefined, what: string): number {
  const v = value ?? DEFAULT_MAX_CONSECUTIVE_EMPTY_PAGES;
  if (!(Number.isInteger(v) && v >= 1 && v <= 10_000)) {
    throw new ConfigError(`${what} maxConsecutiveEmptyPages must be a whole number from 1 to 10000, got ${v}`);
  }
  return v;
}

/**
 * Counts the empty pages a window yields in a row. `see` is called for every page taken; it throws
 * {@link EmptyPagesError} when the page is the `max + 1`-th empty one in a row that still has a next link.
 */
export class EmptyPageGuard {
  #run = 0;
  constructor(
    readonly max: number,
    readonly describe: string,
  ) {}

  /** Empty pages in a row so far. */
  get run(): number {
    return this.#run;
  }

  see(page: LogPage): void {
    if (!isEmptyPage(page.body) || page.nextUrl === undefined) {
      this.#run = 0;
      return;
    }
    this.#run++;
    if (this.#run > this.max) {
      throw new EmptyPagesError(
        `${this.describe}: Okta answered ${this.#run} empty pages in a row that each still carry a next link (more than maxConsecutiveEmptyPages = ${this.max}); not ending the window, which could skip events: the next run resumes at the last link`,
        { emptyPages: this.#run, nextUrl: page.nextUrl },
      );
    }
  }
}

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
