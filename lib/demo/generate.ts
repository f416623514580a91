/**
 * A simulated Okta org and its System Log: realistic events for the demo, the end-to-end tests,
 * the benchmarks and the detection tests.
 *
 * Everything is deterministic from a seed. A day of the org has business-hours traffic in the time
 * zones of its people (sign-ins, SSO, token grants, step-up MFA, admin work, `system@okta.com` jobs),
 * benign look-alikes of the attacks ("near misses"), and up to four planted attacks whose events
 * are listed so tests can check that detections find exactly them.
 *
 * Events are produced time slice by time slice and sorted per slice, so `iterateEvents` needs memory
 * only for one slice at a time.
 */

import { ConfigError } from '../core/errors';
import type { OktaEvent } from './event';
import { buildOrg, type SimOrg, type SimUser } from './org';
import { Rng } from './random';
import { ATTACK_KINDS, NEAR_MISS_KINDS, playScenarios, type AttackKind, type NearMiss, type PlantedAttack, type Timed } from './scenarios';
import { activityWeight, OrgSim } from './sim';
import { HOUR } from '../core/time';

export type * from './event';
export type { AttackKind, NearMiss, NearMissKind, PlantedAttack } from './scenarios';
export { ATTACK_KINDS, NEAR_MISS_KINDS };

const SLICE = 10 * 60_000;
/** Benign events per person per day, on average (weekdays and weekends mixed). */
const EVENTS_PER_USER_DAY = 170;
/** Share of the traffic that is `system@okta.com` doing routine work. */
const SYSTEM_SHARE = 0.04;
/** Rough number of events an everyday episode produces; only used to size batches. */
const EVENTS_PER_EPISODE = 2.6;

/**
 * The simulated org's Okta host: the demo files its events under `org=acme-demo.okta.com`, as a real
 * org's are filed under its host, while its Okta is the mock on loopback. A name only: nothing is
 * ever sent to it.
 */
export const DEMO_ORG_HOST = 'acme-demo.okta.com';

/** An option of the demo generator is missing or not allowed. */
export class DemoOptionError extends ConfigError {}

export interface GenerateOrgDayOptions {
  /**
   * Seed of the pseudo-random generator: the same options give the same events, byte for byte.
   * @default 42
   */
  readonly seed?: number;
  /** First instant of the simulated period (UTC). */
  readonly start: Date;
  /**
   * Length of the period in hours (at least 1).
   * @default 24
   */
  readonly hours?: number;
  /**
   * Approximate number of benign events (the planted attacks come on top).
   * @default 25,000 × hours / 24
   */
  readonly events?: number;
  /**
   * Number of people in the org (at least 5).
   * @default 150
   */
  readonly users?: number;
  /**
   * Attacks to plant: `true` for all four (`ATTACK_KINDS`), `false` for none, or a list.
   * @default true
   */
  readonly attacks?: boolean | readonly AttackKind[];
  /**
   * Domain of the people's logins (`first.last@<orgDomain>`).
   * @default 'acme.example'
   */
  readonly orgDomain?: string;
}

export interface GeneratedOrg {
  /** Every event, sorted by `published`. */
  readonly events: OktaEvent[];
  /** The planted attacks, with the `uuid` of every event that belongs to each. */
  readonly planted: PlantedAttack[];
  /** Benign activity that looks like an attack and must not be reported, with its events' `uuid`s. */
  readonly nearMisses: NearMiss[];
}

export interface GenerateEventsOptions {
  /** @default 42 */
  readonly seed?: number;
  /** @default 2024-06-03T00:00:00.000Z (a Monday) */
  readonly start?: Date;
  /**
   * Time span the events are spread over, in hours.
   * @default 24
   */
  readonly hours?: number;
  /**
   * Number of people.
   * @default count / 170 per simulated day, within 150..5,000
   */
  readonly users?: number;
  /**
   * Attacks to plant among the `count` events (their details are not returned: use
   * `generateOrgDay` when a test needs them).
   * @default false
   */
  readonly attacks?: boolean | readonly AttackKind[];
  /** @default 'acme.example' */
  readonly orgDomain?: string;
}

const DEFAULT_SEED = 42;
const DEFAULT_DOMAIN = 'acme.example';
const DEFAULT_EVENTS_START = new Date('2024-06-03T00:00:00.000Z');
const MAX_HOURS = 24 * 366;

/**
 * A simulated period (by default one day) of an Okta org: benign traffic, near misses and the
 * planted attacks.
 */
export function generateOrgDay(options: GenerateOrgDayOptions): GeneratedOrg {
  const seed = checkSeed(options.seed);
  const startMs = checkStart(options.start, 'start');
  const hours = checkHours(options.hours, 1);
  const users = checkInteger(options.users ?? 150, 'users', 5, 100_000);
  const events = checkInteger(options.events ?? Math.round((25_000 * hours) / 24), 'events', 0, 50_000_000);
  const run = prepareRun({
    seed,
    startMs,
    endMs: startMs + hours * HOUR,
    users,
    domain: checkDomain(options.orgDomain),
    attacks: checkAttacks(options.attacks, true),
    nearMisses: true,
  });
  const attackEvents = run.planted.reduce((n, p) => n + p.uuids.length, 0);
  const budget = Math.max(0, events - (run.scheduled.length - attackEvents));
  return { events: Array.from(run.events(budget)), planted: run.planted, nearMisses: run.nearMisses };
}

/** `count` realistic events (sorted by `published`), fast, for benchmarks and volume tests. */
export function generateEvents(count: number, options: GenerateEventsOptions = {}): OktaEvent[] {
  return Array.from(iterateEvents(count, options));
}

/** The events of `generateEvents`, one at a time: memory for one 10-minute slice only. */
export function iterateEvents(count: number, options: GenerateEventsOptions = {}): Generator<OktaEvent> {
  const total = checkInteger(count, 'count', 0, 100_000_000);
  const seed = checkSeed(options.seed);
  const startMs = checkStart(options.start ?? DEFAULT_EVENTS_START, 'start');
  const attacks = checkAttacks(options.attacks, false);
  const hours = checkHours(options.hours, attacks.length > 0 ? 1 : 0);
  const days = hours / 24;
  const users = checkInteger(
    options.users ?? Math.min(5_000, Math.max(150, Math.round(total / (EVENTS_PER_USER_DAY * days)))),
    'users',
    5,
    100_000,
  );
  const run = prepareRun({ seed, startMs, endMs: startMs + hours * HOUR, users, domain: checkDomain(options.orgDomain), attacks, nearMisses: false });
  return run.events(Math.max(0, total - run.scheduled.length));
}

/** What `iterateOrgEvents` plants among the events it yields. */
export interface IteratedOrg {
  /** The planted attacks, with the `uuid` of every event that belongs to each. */
  readonly planted: PlantedAttack[];
  /** Benign look-alikes of the attacks (only with `nearMisses`). */
  readonly nearMisses: NearMiss[];
  /** Every event, in `published` order, one 10-minute slice in memory at a time. */
  readonly events: Generator<OktaEvent>;
}

/**
 * The events of `iterateEvents` with what was planted among them listed (for the soak, which
 * checks that each planted attack is alerted once): attacks as `attacks` says, near misses when
 * `nearMisses` is true.
 */
export function iterateOrgEvents(count: number, options: GenerateEventsOptions & { readonly nearMisses?: boolean } = {}): IteratedOrg {
  const total = checkInteger(count, 'count', 0, 100_000_000);
  const seed = checkSeed(options.seed);
  const startMs = checkStart(options.start ?? DEFAULT_EVENTS_START, 'start');
  const attacks = checkAttacks(options.attacks, false);
  const nearMisses = options.nearMisses ?? false;
  const hours = checkHours(options.hours, attacks.length > 0 || nearMisses ? 1 : 0);
  const days = hours / 24;
  const users = checkInteger(
    options.users ?? Math.min(5_000, Math.max(150, Math.round(total / (EVENTS_PER_USER_DAY * days)))),
    'users',
    5,
    100_000,
  );
  const run = prepareRun({ seed, startMs, endMs: startMs + hours * HOUR, users, domain: checkDomain(options.orgDomain), attacks, nearMisses });
  return { planted: run.planted, nearMisses: run.nearMisses, events: run.events(Math.max(0, total - run.scheduled.length)) };
}

/** The event as compact JSON text, the way Okta's API writes it. */
export function toJsonText(event: OktaEvent): string {
  return JSON.stringify(event);
}

// ------------------------------------------------------------------------------------ validation

function checkSeed(seed: number | undefined): number {
  const value = seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(value)) throw new DemoOptionError(`seed must be a safe integer, got ${String(seed)}`);
  return value;
}

function checkStart(start: Date, name: string): number {
  if (!(start instanceof Date) || Number.isNaN(start.getTime())) throw new DemoOptionError(`${name} must be a valid Date`);
  return start.getTime();
}

function checkHours(hours: number | undefined, min: number): number {
  const value = hours ?? 24;
  if (!Number.isFinite(value) || value <= 0 || value < min || value > MAX_HOURS) {
    throw new DemoOptionError(`hours must be a number in [${min || '>0'}, ${MAX_HOURS}]${min ? ' (the planted scenarios need an hour)' : ''}, got ${String(hours)}`);
  }
  return value;
}

function checkInteger(value: number, name: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new DemoOptionError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  return value;
}

function checkDomain(domain: string | undefined): string {
  const value = domain ?? DEFAULT_DOMAIN;
  if (!/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(value)) {
    throw new DemoOptionError(`orgDomain must be a lower-case DNS name such as 'acme.example', got '${value}'`);
  }
  return value;
}

function checkAttacks(attacks: boolean | readonly AttackKind[] | undefined, fallback: boolean): AttackKind[] {
  const value = attacks ?? fallback;
  if (value === true) return [...ATTACK_KINDS];
  if (value === false) return [];
  if (!Array.isArray(value)) throw new DemoOptionError('attacks must be a boolean or a list of attack kinds');
  for (const kind of value) {
    if (!ATTACK_KINDS.includes(kind)) throw new DemoOptionError(`unknown attack kind '${String(kind)}'; allowed: ${ATTACK_KINDS.join(', ')}`);
  }
  return [...new Set(value)];
}

// ------------------------------------------------------------------------------------ the engine

interface RunSpec {
  readonly seed: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly users: number;
  readonly domain: string;
  readonly attacks: readonly AttackKind[];
  readonly nearMisses: boolean;
}

interface Run {
  readonly planted: PlantedAttack[];
  readonly nearMisses: NearMiss[];
  readonly scheduled: readonly Timed[];
  /** All events in `published` order: `budget` benign events merged with the scheduled ones. */
  events(budget: number): Generator<OktaEvent>;
}

function prepareRun(spec: RunSpec): Run {
  const root = new Rng(spec.seed);
  // Separate streams: the org depends only on seed, size and domain; scenarios never shift traffic.
  const org = buildOrg(root.fork(1), { users: spec.users, domain: spec.domain });
  const scenarios =
    spec.attacks.length > 0 || spec.nearMisses
      ? playScenarios(org, root.fork(2), { startMs: spec.startMs, endMs: spec.endMs, attacks: spec.attacks, nearMisses: spec.nearMisses })
      : { events: [], planted: [], nearMisses: [] };
  return {
    planted: scenarios.planted,
    nearMisses: scenarios.nearMisses,
    scheduled: scenarios.events,
    events: (budget) => traffic(org, root.fork(3), spec.startMs, spec.endMs, budget, scenarios.events),
  };
}

/** People grouped by time zone: their activity curve is the same, so weights are computed per zone. */
interface Zone {
  readonly sample: SimUser;
  readonly users: readonly SimUser[];
  /** Cumulative activity of `users`, for weighted picks. */
  readonly cumulative: Float64Array;
  readonly activity: number;
}

function zonesOf(org: SimOrg): Zone[] {
  const byOffset = new Map<number, SimUser[]>();
  for (const user of org.users) {
    const list = byOffset.get(user.utcOffsetMs) ?? [];
    list.push(user);
    byOffset.set(user.utcOffsetMs, list);
  }
  return [...byOffset.values()].map((users) => {
    const cumulative = new Float64Array(users.length);
    let sum = 0;
    users.forEach((u, i) => {
      sum += u.activity;
      cumulative[i] = sum;
    });
    return { sample: users[0] as SimUser, users, cumulative, activity: sum };
  });
}

function pickIn(zone: Zone, r: number): SimUser {
  const x = r * zone.activity;
  let lo = 0;
  let hi = zone.users.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((zone.cumulative[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return zone.users[lo] as SimUser;
}

/** Index picked with probability proportional to `weights[i]`, for `r` in [0, 1). */
function pickIndex(weights: readonly number[], r: number): number {
  let x = r * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i] as number;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/** Splits `total` into integers proportional to `weights` (largest remainder). */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let rest = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ frac: x - Math.floor(x), i })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; rest > 0; k = (k + 1) % order.length, rest--) {
    const i = (order[k] as { i: number }).i;
    out[i] = (out[i] as number) + 1;
  }
  return out;
}

interface Pending {
  readonly t: number;
  readonly seq: number;
  readonly event: OktaEvent;
}

function* traffic(org: SimOrg, rng: Rng, startMs: number, endMs: number, budget: number, scheduled: readonly Timed[]): Generator<OktaEvent> {
  let accepted = 0;
  let seq = 0;
  let pending: Pending[] = [];
  const sim = new OrgSim(
    org,
    rng,
    (t, event) => {
      if (t < startMs || t >= endMs || accepted >= budget) return;
      accepted++;
      pending.push({ t, seq: seq++, event });
    },
    { messy: true },
  );

  const zones = zonesOf(org);
  const slices = Math.max(1, Math.ceil((endMs - startMs) / SLICE));
  const sliceStart = (s: number): number => startMs + s * SLICE;
  const sliceEnd = (s: number): number => Math.min(endMs, startMs + (s + 1) * SLICE);
  const zoneWeights = (s: number): number[] => {
    const mid = (sliceStart(s) + sliceEnd(s)) / 2;
    return zones.map((z) => activityWeight(z.sample, mid) * z.activity);
  };
  const userWeights: number[] = [];
  for (let s = 0; s < slices; s++) userWeights.push(zoneWeights(s).reduce((a, b) => a + b, 0) * ((sliceEnd(s) - sliceStart(s)) / SLICE));
  const meanUserWeight = userWeights.reduce((a, b) => a + b, 0) / slices;
  const systemWeight = (meanUserWeight * SYSTEM_SHARE) / (1 - SYSTEM_SHARE);
  const allocation = apportion(
    budget,
    userWeights.map((w, s) => w + systemWeight * ((sliceEnd(s) - sliceStart(s)) / SLICE)),
  );

  let next = 0; // index into `scheduled`
  let carry = 0;
  let perEpisode = EVENTS_PER_EPISODE;
  for (let s = 0; s < slices; s++) {
    const from = sliceStart(s);
    const to = sliceEnd(s);
    const weights = zoneWeights(s);
    const pickUser = (): SimUser => pickIn(zones[pickIndex(weights, rng.next())] as Zone, rng.next());
    const pSystem = systemWeight / (systemWeight + (userWeights[s] as number) + 1e-9);
    const target = Math.max(0, (allocation[s] as number) - carry);
    const before = accepted;
    // Episode starts spread evenly over the whole slice; how many is estimated from the events an
    // episode has been producing so far.
    const episodes = Math.round(target / perEpisode);
    const times: number[] = [];
    for (let i = 0; i < episodes; i++) times.push(rng.range(from, to));
    times.sort((a, b) => a - b);
    for (const t of times) {
      if (accepted >= budget) break;
      if (rng.next() < pSystem) sim.systemWork(t);
      else sim.episode(pickUser(), t);
    }
    const produced = accepted - before;
    if (episodes > 0) perEpisode = Math.max(1, 0.8 * perEpisode + (0.2 * produced) / episodes);
    // A shortfall is made up with background token refreshes: they depend on no session state, so
    // their times may fall anywhere in the slice.
    while (accepted - before < target && accepted < budget) sim.tokenRefresh(pickUser(), rng.range(from, to));
    carry = Math.max(0, accepted - before - target);

    // Everything before the end of this slice is final: later episodes start at or after `to`.
    pending.sort((a, b) => a.t - b.t || a.seq - b.seq);
    let cut = 0;
    while (cut < pending.length && (pending[cut] as Pending).t < to) cut++;
    const ready = pending.slice(0, cut);
    pending = pending.slice(cut);
    for (const item of ready) {
      while (next < scheduled.length && (scheduled[next] as Timed).t <= item.t) yield (scheduled[next++] as Timed).event;
      yield item.event;
    }
    while (next < scheduled.length && (scheduled[next] as Timed).t < to) yield (scheduled[next++] as Timed).event;
  }
  pending.sort((a, b) => a.t - b.t || a.seq - b.seq);
  for (const item of pending) {
    while (next < scheduled.length && (scheduled[next] as Timed).t <= item.t) yield (scheduled[next++] as Timed).event;
    yield item.event;
  }
  while (next < scheduled.length) yield (scheduled[next++] as Timed).event;
}
