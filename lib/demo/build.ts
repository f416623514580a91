/**
 * The parts of System Log events that many events share, built in one place: outcomes, the
 * authentication context, the debugData of a request, the entry naming a person, and the two
 * skeletons every simulated event starts from (a request someone makes from a network, and work
 * `system@okta.com` does on its own). Each caller states only what differs.
 *
 * Functions return new, unfrozen objects; callers freeze what many events share. Constants are frozen.
 */

import type {
  JsonValue,
  OktaActor,
  OktaAuthenticationContext,
  OktaClient,
  OktaDevice,
  OktaIpAddress,
  OktaOutcome,
  OktaSecurityContext,
  OktaTarget,
  OktaTransaction,
} from './event';
import type { NetPoint } from './net-point';

/** `debugContext.debugData`: values are mostly strings. */
export type DebugData = Record<string, JsonValue>;

const outcome = (result: string, reason: string | null = null): OktaOutcome => Object.freeze({ result, reason });
export const SUCCESS = outcome('SUCCESS');
export const FAILURE_INVALID = outcome('FAILURE', 'INVALID_CREDENTIALS');
export const ALLOW = outcome('ALLOW', 'Sign-on policy evaluation resulted in ALLOW');
export const CHALLENGE = outcome('CHALLENGE', 'Sign-on policy evaluation resulted in CHALLENGE');
export const PUSH_REJECTED = outcome('FAILURE', 'User rejected Okta push verify');

/** Security context Okta writes when it has no address to enrich (system work). */
export const NO_SECURITY: OktaSecurityContext = Object.freeze({ asNumber: null, asOrg: null, isp: null, domain: null, isProxy: null });
/** Client of system work: every field null. */
export const NULL_CLIENT: OktaClient = Object.freeze({ userAgent: null, zone: null, device: null, id: null, ipAddress: null, geographicalContext: null });
/** Client of system work as Okta also writes it: `client: {}`. */
export const EMPTY_CLIENT: OktaClient = Object.freeze({});
/** `request.ipChain` of work no request started. */
export const NO_IPS: readonly OktaIpAddress[] = Object.freeze([]);

export interface AuthContextOptions {
  /**
   * The Okta session the request belongs to.
   * @default 'unknown' (the literal Okta writes before a session exists)
   */
  readonly externalSessionId?: string;
  /**
   * The session that started the chain of sessions; the field is left out without one.
   * @default none
   */
  readonly rootSessionId?: string;
  /** e.g. `OKTA_AUTHENTICATION_PROVIDER`, `FACTOR_PROVIDER`. @default null */
  readonly authenticationProvider?: string | null;
  /** e.g. `OKTA_CREDENTIAL_PROVIDER`. @default null */
  readonly credentialProvider?: string | null;
  /** e.g. `PASSWORD`. @default null */
  readonly credentialType?: string | null;
}

/** An `authenticationContext`: issuer, interface and step as Okta writes them (null, null, 0). */
export function authContext(options: AuthContextOptions = {}): OktaAuthenticationContext {
  const context: OktaAuthenticationContext = {
    authenticationProvider: options.authenticationProvider ?? null,
    credentialProvider: options.credentialProvider ?? null,
    credentialType: options.credentialType ?? null,
    issuer: null,
    interface: null,
    authenticationStep: 0,
    externalSessionId: options.externalSessionId ?? 'unknown',
  };
  return options.rootSessionId === undefined ? context : Object.assign(context, { rootSessionId: options.rootSessionId });
}

/** Context of a request made before any session exists (and of system work). */
export const NO_SESSION: OktaAuthenticationContext = Object.freeze(authContext());

/** What identifies one HTTP request to Okta in the events logged while serving it. */
export interface RequestRef {
  /** The request id (`debugData.requestId`, also the WEB transaction id). */
  readonly id: string;
  /** Path of the request, e.g. `/idp/idx/identify`. */
  readonly uri: string;
  /** Path and query string, e.g. `/idp/idx/identify?`. */
  readonly url: string;
}

/** One HTTP request to Okta: events logged while serving it share its id and transaction. */
export interface Req extends RequestRef {
  readonly transaction: OktaTransaction;
}

/** The debugData every browser request carries (request id, URI, URL, threatSuspected), then `extra`. */
export function requestDebugData(req: RequestRef, extra?: Readonly<DebugData>): DebugData {
  const data: DebugData = { requestId: req.id, requestUri: req.uri, url: req.url, threatSuspected: 'false' };
  return extra ? Object.assign(data, extra) : data;
}

/** The names an entry for a person carries. */
export interface PersonNames {
  readonly id: string;
  readonly login: string;
  readonly displayName: string;
}

/** The entry naming a person (`type: 'User'`), as `actor` or in `target`. */
export function userEntry(person: PersonNames): OktaTarget {
  return { id: person.id, type: 'User', alternateId: person.login, displayName: person.displayName, detailEntry: null };
}

/** A person's account in an app (`type: 'AppUser'`), as a target. */
export function appUserEntry(person: Omit<PersonNames, 'id'>, appUserId: string): OktaTarget {
  return { id: appUserId, type: 'AppUser', alternateId: person.login, displayName: person.displayName, detailEntry: null };
}

/** The parts of an event a caller chooses; `uuid`, `published` and `version` are added when it is emitted. */
export interface EventSpec {
  readonly eventType: string;
  readonly legacyEventType: string | null;
  readonly displayMessage: string;
  /** @default 'INFO' */
  readonly severity?: string;
  readonly actor: OktaActor;
  readonly client: OktaClient | null;
  /** @default null */
  readonly device?: OktaDevice | null;
  readonly authenticationContext: OktaAuthenticationContext | null;
  readonly securityContext: OktaSecurityContext | null;
  /** `undefined` gives `debugContext: {}`. */
  readonly debugData?: DebugData;
  readonly outcome: OktaOutcome;
  readonly transaction: OktaTransaction;
  readonly ipChain: readonly OktaIpAddress[];
  readonly target: readonly OktaTarget[] | null;
}

/** The fields that name what happened; every event states them. */
export interface EventNames {
  readonly eventType: string;
  /** @default null */
  readonly legacyEventType?: string | null;
  readonly displayMessage: string;
  readonly target: readonly OktaTarget[] | null;
}

/** Who makes requests and from where: what every event of their requests shares. */
export interface Requester {
  readonly actor: OktaActor;
  /** Address, geography and ASN data of the requests. */
  readonly net: NetPoint;
  readonly client: OktaClient;
  readonly auth: OktaAuthenticationContext;
  /** `debugData.dtHash` of a browser that holds a device token. @default none */
  readonly dtHash?: string;
}

/** What one event of a request states beyond its names. */
export interface RequestEventFields extends EventNames {
  /** @default SUCCESS */
  readonly outcome?: OktaOutcome;
  /** @default 'INFO' */
  readonly severity?: string;
  /** @default null */
  readonly device?: OktaDevice | null;
  /** @default the requester's `auth` */
  readonly authenticationContext?: OktaAuthenticationContext;
  /** @default the requester's `client` */
  readonly client?: OktaClient;
  /** Added to the request's debugData (after `dtHash`). @default none */
  readonly debug?: DebugData;
}

/** An event logged while serving `req`, a request `by` made. */
export function requestSpec(by: Requester, req: Req, fields: RequestEventFields): EventSpec {
  const debugData = requestDebugData(req);
  if (by.dtHash !== undefined) debugData.dtHash = by.dtHash;
  if (fields.debug) Object.assign(debugData, fields.debug);
  return {
    eventType: fields.eventType,
    legacyEventType: fields.legacyEventType ?? null,
    displayMessage: fields.displayMessage,
    severity: fields.severity,
    actor: by.actor,
    client: fields.client ?? by.client,
    device: fields.device ?? null,
    authenticationContext: fields.authenticationContext ?? by.auth,
    securityContext: by.net.security,
    debugData,
    outcome: fields.outcome ?? SUCCESS,
    transaction: req.transaction,
    ipChain: by.net.ipChain,
    target: fields.target,
  };
}

/** What one event of Okta's own work states beyond its names. */
export interface SystemEventFields extends EventNames {
  /** A JOB transaction, or the WEB transaction `unknown` of support tooling. */
  readonly transaction: OktaTransaction;
  /** `NULL_CLIENT` or `EMPTY_CLIENT`: Okta writes both for its own work. */
  readonly client: OktaClient;
  /** `undefined` gives `debugContext: {}`. @default none */
  readonly debugData?: DebugData;
}

/** A successful event of work `actor` (`system@okta.com`) does on its own: no session, no address, no geography. */
export function systemEventSpec(actor: OktaActor, fields: SystemEventFields): EventSpec {
  return {
    eventType: fields.eventType,
    legacyEventType: fields.legacyEventType ?? null,
    displayMessage: fields.displayMessage,
    actor,
    client: fields.client,
    authenticationContext: NO_SESSION,
    securityContext: NO_SECURITY,
    debugData: fields.debugData,
    outcome: SUCCESS,
    transaction: fields.transaction,
    ipChain: NO_IPS,
    target: fields.target,
  };
}
