/**
 * Fault injection around the ingestion ports, for the fault tests and the soak: a lake sink whose
 * PutObject fails, a watermark store whose UpdateItem fails (before or after it took effect), and
 * "kill points" where the process dies.
 *
 * A killed run is simulated by throwing `SimulatedCrash` at the chosen point and, from then on,
 * letting nothing that run does reach the real sink, store or source: in particular it never
 * releases its lease (a dead process cannot). The next run is a new process: call `revive()` and
 * start it, typically after the lease TTL (a clock moved forward), as a scheduler would.
 *
 * Plans decide per call; `scriptedPlan` fails given call numbers, the soak draws at random.
 */
import { LeaseLostError, OktaLakeError, SinkError, StateStoreError } from '../lib/core/errors';
import type { IngestState, LakeSink, Lease, LogPage, LogPageSource, WatermarkStore } from '../lib/core/ports';

/** Where a simulated process died. */
export type KillPoint =
  /** Inside a PutObject of a page: some of the page's objects are stored, the others are not. */
  | 'mid-page'
  /** The page's objects are stored, the checkpoint that covers them is never made. */
  | 'after-put-before-checkpoint'
  /** Right after taking the lease (UpdateItem done), before anything else. */
  | 'after-acquire'
  /** While fetching a page, holding the lease. */
  | 'mid-fetch'
  /** Right after a checkpoint was stored, before the run saw it. */
  | 'after-checkpoint'
  /** Right after a PutObject was stored, before the caller saw it (compaction's kill after a record). */
  | 'after-put';

export const KILL_POINTS: readonly KillPoint[] = ['mid-page', 'after-put-before-checkpoint', 'after-acquire', 'mid-fetch', 'after-checkpoint'];

/** The simulated process died at `point`. Nothing it does afterwards has any effect. */
export class SimulatedCrash extends OktaLakeError {
  constructor(readonly point: KillPoint | 'after-death') {
    super(point === 'after-death' ? 'simulated crash: the process is dead' : `simulated crash at ${point}`);
  }
}

/** An injected PutObject failure (the real sinks fail with `SinkError` too). */
export class InjectedSinkError extends SinkError {}

/** An injected UpdateItem failure (the real stores fail with `StateStoreError` too). */
export class InjectedStoreError extends StateStoreError {}

/**
 * What to do with one PutObject: `fail` throws before storing (HTTP 503 SlowDown); `kill` kills
 * the process before storing (mid-page); `kill-after` stores, then kills the process (`after-put`).
 */
export type SinkFault = 'fail' | 'kill' | 'kill-after';

/**
 * What to do with one store operation.
 * - `fail`: UpdateItem fails, nothing changes.
 * - `fail-after-write`: the update takes effect, but the caller sees an error (the answer was lost).
 * - `kill`: the process dies before the update (for `checkpoint`: after the page's objects were
 *   stored, before the checkpoint).
 * - `kill-after-write`: the update takes effect, then the process dies (holding the lease).
 */
export type StoreFault = 'fail' | 'fail-after-write' | 'kill' | 'kill-after-write';

export interface SinkCall {
  /** 1-based number of this put among all puts through the injector. */
  readonly n: number;
  readonly key: string;
}

export interface StoreCall {
  readonly op: 'acquire' | 'checkpoint' | 'release';
  /** 1-based number of this call among the calls of the same `op`. */
  readonly n: number;
  /** The store key (the org, or a sweep line). */
  readonly key: string;
}

export interface SourceCall {
  /** 1-based number of this fetch. */
  readonly n: number;
  readonly url: string;
}

/** Decides, call by call, which fault to inject (undefined: none). */
export interface FaultPlan {
  put?(call: SinkCall): SinkFault | undefined;
  store?(call: StoreCall): StoreFault | undefined;
  /** `kill`: the process dies while fetching this page. */
  fetch?(call: SourceCall): 'kill' | undefined;
}

/** Counts of what was injected, by `<port>:<op>:<fault>` (e.g. `store:checkpoint:kill`). */
export type InjectedCounts = Readonly<Record<string, number>>;

/**
 * Wraps sinks, stores and sources of one simulated process (or of successive ones: `revive()`
 * starts the next) and injects the faults its plan asks for.
 */
export class FaultInjector {
  #dead = false;
  #counts: Record<string, number> = {};
  #puts = 0;
  #fetches = 0;
  readonly #storeCalls = { acquire: 0, checkpoint: 0, release: 0 };
  /** Kill points reached, in order. */
  readonly kills: KillPoint[] = [];

  constructor(private plan: FaultPlan = {}) {}

  /** Whether the current process has been killed. */
  get dead(): boolean {
    return this.#dead;
  }

  get injected(): InjectedCounts {
    return { ...this.#counts };
  }

  /** Replaces the plan (e.g. no faults for a final clean run). */
  setPlan(plan: FaultPlan): void {
    this.plan = plan;
  }

  /** A new process starts: its calls reach the real ports again. */
  revive(): void {
    this.#dead = false;
  }

  /** Kills the current process at `point` (throws). */
  kill(point: KillPoint): never {
    this.#dead = true;
    this.kills.push(point);
    this.#count(`kill:${point}`);
    throw new SimulatedCrash(point);
  }

  #count(what: string): void {
    this.#counts[what] = (this.#counts[what] ?? 0) + 1;
  }

  #alive(): void {
    if (this.#dead) throw new SimulatedCrash('after-death');
  }

  sink(inner: LakeSink): LakeSink {
    return {
      location: inner.location,
      put: async (key, body, contentType) => {
        this.#alive();
        const fault = this.plan.put?.({ n: ++this.#puts, key });
        if (fault === 'kill') this.kill('mid-page');
        if (fault === 'fail') {
          this.#count('sink:put:fail');
          throw new InjectedSinkError(`could not store ${inner.location}/${key}: injected PutObject failure (HTTP 503 SlowDown)`);
        }
        await inner.put(key, body, contentType);
        if (fault === 'kill-after') this.kill('after-put');
      },
      list: async (prefix) => {
        this.#alive();
        return inner.list(prefix);
      },
      get: async (key) => {
        this.#alive();
        return inner.get(key);
      },
    };
  }

  store(inner: WatermarkStore): WatermarkStore {
    const decide = (op: StoreCall['op'], key: string): StoreFault | undefined => {
      const fault = this.plan.store?.({ op, n: ++this.#storeCalls[op], key });
      if (fault === 'fail' || fault === 'fail-after-write') this.#count(`store:${op}:${fault}`);
      return fault;
    };
    const failure = (op: string, key: string, after: boolean): InjectedStoreError =>
      new InjectedStoreError(`injected UpdateItem failure (${op} of "${key}"${after ? ', after it took effect' : ''})`);
    return {
      acquire: async (org, owner, ttlMs, nowMs) => {
        this.#alive();
        const fault = decide('acquire', org);
        if (fault === 'fail') throw failure('acquire', org, false);
        if (fault === 'kill') this.kill('after-acquire');
        const out = await inner.acquire(org, owner, ttlMs, nowMs);
        if (fault === 'fail-after-write') throw failure('acquire', org, true);
        if (fault === 'kill-after-write' && out) this.kill('after-acquire');
        return out;
      },
      checkpoint: async (lease: Lease, state: IngestState, ttlMs: number, nowMs: number) => {
        this.#alive();
        const fault = decide('checkpoint', lease.org);
        if (fault === 'fail') throw failure('checkpoint', lease.org, false);
        if (fault === 'kill') this.kill('after-put-before-checkpoint');
        const next = await inner.checkpoint(lease, state, ttlMs, nowMs);
        if (fault === 'fail-after-write') throw failure('checkpoint', lease.org, true);
        if (fault === 'kill-after-write') this.kill('after-checkpoint');
        return next;
      },
      release: async (lease) => {
        // A dead process cannot give its lease up: it stays until it expires.
        this.#alive();
        const fault = decide('release', lease.org);
        if (fault === 'fail') throw failure('release', lease.org, false);
        if (fault === 'kill') this.kill('after-checkpoint');
        await inner.release(lease);
        if (fault === 'fail-after-write') throw failure('release', lease.org, true);
        if (fault === 'kill-after-write') this.kill('after-checkpoint');
      },
    };
  }

  source(inner: LogPageSource): LogPageSource {
    return {
      boundedQueryUrl: (since, until) => inner.boundedQueryUrl(since, until),
      fetchPage: async (...args: Parameters<LogPageSource['fetchPage']>): Promise<LogPage> => {
        this.#alive();
        if (this.plan.fetch?.({ n: ++this.#fetches, url: args[0] }) === 'kill') this.kill('mid-fetch');
        const page = await inner.fetchPage(...args);
        // A page that arrives after the process died is never seen by it.
        this.#alive();
        return page;
      },
    };
  }
}

/**
 * A plan that injects faults at given call numbers: `{ put: { 3: 'fail' }, checkpoint: { 2: 'kill' } }`
 * fails the 3rd PutObject and kills the process at the 2nd checkpoint. Optionally only for calls
 * whose store key is `storeKey`.
 */
export function scriptedPlan(script: {
  readonly put?: Readonly<Record<number, SinkFault>>;
  readonly acquire?: Readonly<Record<number, StoreFault>>;
  readonly checkpoint?: Readonly<Record<number, StoreFault>>;
  readonly release?: Readonly<Record<number, StoreFault>>;
  readonly fetch?: Readonly<Record<number, 'kill'>>;
}): FaultPlan {
  return {
    put: (c) => script.put?.[c.n],
    store: (c) => script[c.op]?.[c.n],
    fetch: (c) => script.fetch?.[c.n],
  };
}

/** Whether `error` (or one of its causes) is a simulated crash. */
export function isSimulatedCrash(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 10; depth++) {
    if (e instanceof SimulatedCrash) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/** Whether `error` (or one of its causes) is a lost lease. */
export function isLeaseLost(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 10; depth++) {
    if (e instanceof LeaseLostError) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}
