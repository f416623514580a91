/**
 * Builders of realistic Okta System Log events for the detection tests, and a temporary lake that
 * the project's real Parquet writer fills. Event shapes follow what real Okta events look like in
 * public sanitised exports: `target` often null, system work with null client fields, debugData
 * values as strings, `externalSessionId` 'unknown' before a session exists.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openLake, type Lake } from '../../lib/core/hunt';
import { partitionOf } from '../../lib/core/layout';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { authContext, NO_SECURITY, NULL_CLIENT, requestDebugData, userEntry } from '../../lib/demo/build';
import type { OktaActor, OktaEvent, OktaIpDetails, OktaRisk, OktaTarget } from '../../lib/demo/event';
export { DAY, HOUR, MINUTE } from '../../lib/core/time';

/** An event as `GET /api/v1/logs` returns it (the demo generator's type). */
export type OktaEventJson = OktaEvent;

const oktaId = (prefix: string, seed: string): string =>
  prefix + createHash('sha256').update(seed).digest('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 17);

export interface Person {
  readonly id: string;
  readonly login: string;
  readonly name: string;
}

/** A person of the org `acme.example`, e.g. `person('jane.doe')`. */
export function person(handle: string): Person {
  const name = handle
    .split('.')
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join(' ');
  return { id: oktaId('00u', handle), login: `${handle}@acme.example`, name };
}

export interface Place {
  readonly ip: string;
  readonly asNumber: number;
  readonly asOrg: string;
  readonly isp: string;
  readonly domain: string;
  readonly isProxy: boolean;
  readonly city: string;
  readonly state: string;
  readonly country: string;
  readonly postalCode: string;
  readonly lat: number;
  readonly lon: number;
}

const place = (p: Place) => (ip?: string): Place => (ip ? { ...p, ip } : p);

/** Networks people and attackers connect from (attackers use RFC 5737 documentation addresses). */
export const PLACES = {
  sfHome: place({ ip: '73.162.18.44', asNumber: 7922, asOrg: 'comcast cable communications  llc', isp: 'comcast cable', domain: 'comcast.net', isProxy: false, city: 'San Francisco', state: 'California', country: 'United States', postalCode: '94110', lat: 37.7749, lon: -122.4194 }),
  oakland: place({ ip: '73.189.2.10', asNumber: 7922, asOrg: 'comcast cable communications  llc', isp: 'comcast cable', domain: 'comcast.net', isProxy: false, city: 'Oakland', state: 'California', country: 'United States', postalCode: '94610', lat: 37.8044, lon: -122.2712 }),
  sfOffice: place({ ip: '64.125.77.5', asNumber: 6461, asOrg: 'zayo bandwidth', isp: 'zayo bandwidth', domain: 'zayo.com', isProxy: false, city: 'San Francisco', state: 'California', country: 'United States', postalCode: '94107', lat: 37.7749, lon: -122.4194 }),
  tmobile: place({ ip: '172.58.10.1', asNumber: 21928, asOrg: 't-mobile usa  inc.', isp: 't-mobile usa', domain: 'tmobile.com', isProxy: false, city: 'San Francisco', state: 'California', country: 'United States', postalCode: '94122', lat: 37.7749, lon: -122.4194 }),
  london: place({ ip: '86.128.4.9', asNumber: 2856, asOrg: 'british telecommunications plc', isp: 'bt', domain: 'bt.com', isProxy: false, city: 'London', state: 'England', country: 'United Kingdom', postalCode: 'EC1V', lat: 51.5072, lon: -0.1276 }),
  amsterdamProxy: place({ ip: '198.51.100.23', asNumber: 9009, asOrg: 'm247 europe srl', isp: 'm247 ltd', domain: 'm247.com', isProxy: true, city: 'Amsterdam', state: 'North Holland', country: 'Netherlands', postalCode: '1012', lat: 52.374, lon: 4.8897 }),
  /** A home broadband address rented out as a residential proxy: Okta's isProxy is false. */
  chicagoResidential: place({ ip: '198.51.100.77', asNumber: 7922, asOrg: 'comcast cable communications  llc', isp: 'comcast cable', domain: 'comcast.net', isProxy: false, city: 'Chicago', state: 'Illinois', country: 'United States', postalCode: '60614', lat: 41.9214, lon: -87.6513 }),
  bucharest: place({ ip: '203.0.113.7', asNumber: 8708, asOrg: 'rcs & rds net', isp: 'rcs & rds residential', domain: 'rcs-rds.ro', isProxy: false, city: 'Bucharest', state: 'Bucuresti', country: 'Romania', postalCode: '030167', lat: 44.4268, lon: 26.1025 }),
  oktaSupport: place({ ip: '8.43.84.12', asNumber: 3356, asOrg: 'level 3 parent  llc', isp: 'lumen', domain: 'lumen.com', isProxy: false, city: 'San Jose', state: 'California', country: 'United States', postalCode: '95131', lat: 37.3382, lon: -121.8863 }),
};

const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

export type Target = OktaTarget;

/** The entry naming a person, as a target or as the actor. */
export const userTarget = (p: Person): Target => userEntry({ id: p.id, login: p.login, displayName: p.name });

export const target = (type: string, displayName: string, detailEntry: { [key: string]: string } | null = null): Target => ({
  id: oktaId('0oa', `${type}:${displayName}`),
  type,
  alternateId: 'unknown',
  displayName,
  detailEntry,
});

export const SYSTEM = 'system' as const;
const SYSTEM_ACTOR: OktaActor = Object.freeze({ id: '0oa1gjh63g214q0Hq0g4', type: 'SystemPrincipal', alternateId: 'system@okta.com', displayName: 'Okta System', detailEntry: null });

export interface EventInput {
  readonly eventType: string;
  /** `published`, epoch ms. */
  readonly at: number;
  /** The actor: a person, `SYSTEM` (system@okta.com), or a raw actor object. @default a person 'jane.doe' */
  readonly actor?: Person | typeof SYSTEM | OktaActor;
  /** Where the request came from; `null` for Okta's own work (every client field null). @default PLACES.sfHome() */
  readonly from?: Place | null;
  /** `authenticationContext.externalSessionId`. @default 'unknown' */
  readonly session?: string;
  /** @default { result: 'SUCCESS', reason: null } */
  readonly outcome?: { readonly result: string; readonly reason?: string | null };
  /** @default null */
  readonly target?: readonly Target[] | null;
  /** Merged over a realistic debugData (requestId, requestUri, url, threatSuspected). */
  readonly debugData?: { [key: string]: string };
  /** @default { type: 'WEB', id: <request id> } */
  readonly transaction?: { readonly type: string; readonly id: string };
  /** @default a Chrome on macOS user agent; `null` for none */
  readonly userAgent?: string | null;
  /** `client.zone`. @default 'null' (the literal string Okta sends) */
  readonly zone?: string;
  readonly legacyEventType?: string | null;
  /** `securityContext.ipDetails` and `request.ipChain[0].ipDetails`. @default none (as most events today) */
  readonly ipDetails?: OktaIpDetails;
  /** `securityContext.risk`. @default none */
  readonly risk?: OktaRisk;
}

/** Okta's `ipDetails` of an address with the given IP service categories (management.yaml `LogIpDetails`). */
export const ipDetailsOf = (from: Place, categories: ReadonlyArray<{ type: string; operator: string; isAnonymous: boolean | null }>): OktaIpDetails => ({
  asNumber: from.asNumber,
  asOrg: from.asOrg,
  domain: from.domain,
  isp: from.isp,
  ipServiceCategories: categories.map((c) => ({ ...c })),
});

/** One Okta event as `GET /api/v1/logs` returns it. */
export function oktaEvent(input: EventInput): OktaEventJson {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 27);
  const from = input.from === undefined ? PLACES.sfHome() : input.from;
  const actorInput = input.actor ?? person('jane.doe');
  const actor = actorInput === SYSTEM ? SYSTEM_ACTOR : 'login' in actorInput ? userTarget(actorInput) : actorInput;
  const geo = from
    ? { city: from.city, state: from.state, country: from.country, postalCode: from.postalCode, geolocation: { lat: from.lat, lon: from.lon } }
    : null;
  const userAgent = input.userAgent === undefined ? CHROME_MAC : input.userAgent;
  return {
    uuid: randomUUID(),
    published: new Date(input.at).toISOString(),
    eventType: input.eventType,
    version: '0',
    severity: input.outcome?.result === 'FAILURE' ? 'WARN' : 'INFO',
    legacyEventType: input.legacyEventType ?? null,
    displayMessage: input.eventType,
    actor,
    client: from
      ? {
          userAgent: userAgent === null ? null : { rawUserAgent: userAgent, os: 'Mac OS X', browser: 'CHROME' },
          zone: input.zone ?? 'null',
          device: 'Computer',
          id: null,
          ipAddress: from.ip,
          geographicalContext: geo,
        }
      : NULL_CLIENT,
    device: null,
    authenticationContext: authContext({ externalSessionId: input.session }),
    securityContext: from
      ? {
          asNumber: from.asNumber,
          asOrg: from.asOrg,
          isp: from.isp,
          domain: from.domain,
          isProxy: from.isProxy,
          ...(input.ipDetails ? { ipDetails: input.ipDetails } : {}),
          ...(input.risk ? { risk: input.risk } : {}),
        }
      : input.risk
        ? { ...NO_SECURITY, risk: input.risk }
        : NO_SECURITY,
    debugContext: { debugData: requestDebugData({ id: requestId, uri: '/idp/idx/identify', url: '/idp/idx/identify?' }, input.debugData) },
    outcome: { result: input.outcome?.result ?? 'SUCCESS', reason: input.outcome?.reason ?? null },
    transaction: { ...(input.transaction ?? { type: 'WEB', id: requestId }), detail: {} },
    request: { ipChain: from ? [{ ip: from.ip, geographicalContext: geo, version: 'V4', source: null, ...(input.ipDetails ? { ipDetails: input.ipDetails } : {}) }] : [] },
    target: input.target === undefined || input.target === null ? null : input.target.map((t) => ({ ...t })),
  };
}

/**
 * The same events moved by `deltaMs` in time, with new uuids, so a moved copy is a distinct event.
 * A uuid is renamed through `renamed` (old to new): passing one map to several calls keeps events
 * that share a uuid sharing their new one.
 */
export function shifted(events: readonly OktaEventJson[], deltaMs: number, renamed = new Map<string, string>()): OktaEventJson[] {
  return events.map((e) => {
    let uuid = renamed.get(e.uuid);
    if (uuid === undefined) renamed.set(e.uuid, (uuid = randomUUID()));
    return { ...e, uuid, published: new Date(Date.parse(e.published) + deltaMs).toISOString() };
  });
}

/** One call of the writer: a page of events, as one ingestion run or sweep writes it. */
export interface PageWrite {
  readonly events: readonly OktaEventJson[];
  /**
   * The object name (ingestion derives it from the window and page, see `pageObjectName`): a write
   * under a name already written in the same partition replaces that object.
   * @default `page-<n>`, a new name for every write
   */
  readonly name?: string;
  /** `ingested_at` of the rows, epoch ms. @default the time of the write */
  readonly ingestedAt?: number;
  /** Files the page in the partition of this instant (see `TestLake.add`). @default each event's own partition */
  readonly partitionAt?: number;
}

/**
 * The same writes moved by `deltaMs` (events, `ingestedAt` and `partitionAt`), with new uuids that
 * stay shared across the writes: an event written twice is still written twice.
 */
export function shiftedWrites(writes: readonly PageWrite[], deltaMs: number): PageWrite[] {
  const renamed = new Map<string, string>();
  return writes.map((w) => ({
    ...w,
    events: shifted(w.events, deltaMs, renamed),
    ...(w.ingestedAt === undefined ? {} : { ingestedAt: w.ingestedAt + deltaMs }),
    ...(w.partitionAt === undefined ? {} : { partitionAt: w.partitionAt + deltaMs }),
  }));
}

/**
 * A lake in a temporary folder, written by the project's `DuckDbParquetWriter` exactly as ingestion
 * writes it (`events/org=<org>/dt=<day>/hour=<hh>/<name>.parquet`).
 */
export class TestLake {
  private pages = 0;
  private moved = 0;

  private constructor(
    readonly dir: string,
    private readonly writer: DuckDbParquetWriter,
  ) {}

  static async create(): Promise<TestLake> {
    const dir = mkdtempSync(join(tmpdir(), 'okta-lake-detections-'));
    return new TestLake(dir, await DuckDbParquetWriter.open());
  }

  /**
   * Writes `events` as one page of `org`. With `partitionAt`, every file goes to the partition of
   * that instant instead of its events' own: a file whose partition does not match its rows, to
   * prove a query's dt/hour condition skips the partition without reading it.
   */
  add(org: string, events: readonly OktaEventJson[], partitionAt?: number): Promise<void> {
    return this.write(org, { events, partitionAt });
  }

  /**
   * Writes `page` as one call of the writer, which keeps the first event of each uuid of the page
   * (a uuid is stored twice only by two writes under different object names, or in two partitions).
   */
  async write(org: string, page: PageWrite): Promise<void> {
    const { events, partitionAt } = page;
    if (events.length === 0) return;
    const result = await this.writer.writePage({
      org,
      body: JSON.stringify(events),
      format: 'array',
      name: page.name ?? `page-${++this.pages}`,
      ingestedAt: page.ingestedAt === undefined ? new Date() : new Date(page.ingestedAt),
    });
    const distinct = new Set(events.map((e) => e.uuid)).size;
    if (result.eventsWritten !== distinct || result.duplicatesDropped !== events.length - distinct) {
      throw new Error(`writer wrote ${result.eventsWritten} of ${distinct} distinct events (dropped ${result.duplicatesDropped} repeats of ${events.length - distinct}) for ${org}`);
    }
    for (const object of result.objects) {
      let key = object.key;
      if (partitionAt !== undefined) {
        // A moved file gets a name of its own, so moving never replaces another file.
        const p = partitionOf(partitionAt);
        key = key.replace(/\/dt=[^/]+\/hour=[^/]+\/(.*)\.parquet$/, `/dt=${p.dt}/hour=${p.hour}/$1-moved${++this.moved}.parquet`);
      }
      const file = join(this.dir, key);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, object.body);
    }
  }

  open(): Promise<Lake> {
    return openLake(this.dir);
  }

  async close(): Promise<void> {
    await this.writer.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
