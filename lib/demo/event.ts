/**
 * The shape of an Okta System Log event (LogEvent) as `GET /api/v1/logs` returns it, written out
 * structurally for the simulated org. It is deliberately independent of `lib/core/schema.ts`: real
 * events carry fields the schema does not know, and nearly every part can be null or empty.
 */

/** Any JSON value (a few `debugData` values are objects, e.g. `originalPrincipal`). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface OktaActor {
  readonly id: string;
  /** `User`, `SystemPrincipal`, `PublicClientApp`, `Client` ... */
  readonly type: string;
  readonly alternateId: string;
  readonly displayName: string;
  readonly detailEntry: { readonly [key: string]: JsonValue } | null;
}

export interface OktaTarget {
  readonly id: string;
  readonly type: string;
  readonly alternateId: string;
  readonly displayName: string;
  readonly detailEntry: { readonly [key: string]: JsonValue } | null;
  /** What changed, on some event types (management.yaml `LogTarget.changeDetails`). */
  readonly changeDetails?: { readonly from?: { readonly [key: string]: JsonValue } | null; readonly to?: { readonly [key: string]: JsonValue } | null } | null;
}

/** management.yaml `LogIpDetails`. */
export interface OktaIpDetails {
  readonly asNumber: number | null;
  readonly asOrg: string | null;
  readonly domain: string | null;
  readonly isp: string | null;
  /** `type`: VPN, Proxy, Tor, Residential Proxy, Blockchain VPN. */
  readonly ipServiceCategories: ReadonlyArray<{ readonly isAnonymous: boolean | null; readonly operator: string | null; readonly type: string | null }> | null;
}

/** management.yaml `LogRisk`. */
export interface OktaRisk {
  readonly level: string | null;
  readonly previousLevel?: string | null;
  readonly detectionName?: string | null;
  readonly issuer?: string | null;
  readonly reasons?: readonly string[] | null;
}

export interface OktaGeolocation {
  readonly lat: number;
  readonly lon: number;
}

export interface OktaGeographicalContext {
  readonly city: string | null;
  readonly state: string | null;
  readonly country: string | null;
  readonly postalCode: string | null;
  readonly geolocation: OktaGeolocation | null;
}

export interface OktaUserAgent {
  readonly rawUserAgent: string | null;
  readonly os: string | null;
  readonly browser: string | null;
}

/** Every field is optional: Okta sends `client: {}` for some system work. */
export interface OktaClient {
  readonly userAgent?: OktaUserAgent | null;
  /** The network zone the IP matched, or the literal string `"null"`. */
  readonly zone?: string | null;
  /** `Computer`, `Mobile`, `Unknown`. */
  readonly device?: string | null;
  /** The OAuth client id when an app made the request. */
  readonly id?: string | null;
  /** Can be the literal string `"null"`. */
  readonly ipAddress?: string | null;
  readonly geographicalContext?: OktaGeographicalContext | null;
}

/** The Okta Identity Engine device record (Okta Verify / FastPass), snake_case as returned. */
export interface OktaDevice {
  readonly id: string;
  readonly name: string;
  readonly os_platform: string;
  readonly os_version: string;
  readonly managed: boolean;
  readonly registered: boolean;
  readonly device_integrator: string | null;
  readonly disk_encryption_type: string | null;
  readonly screen_lock_type: string | null;
  readonly jailbreak: boolean | null;
  readonly secure_hardware_present: boolean | null;
}

export interface OktaAuthenticationContext {
  readonly authenticationProvider: string | null;
  readonly credentialProvider: string | null;
  readonly credentialType: string | null;
  readonly issuer: { readonly id: string | null; readonly type: string | null } | null;
  readonly interface: string | null;
  /** Always 0 (deprecated by Okta). */
  readonly authenticationStep: number;
  /** The Okta session id, or the literal string `"unknown"` before a session exists. */
  readonly externalSessionId: string;
  readonly rootSessionId?: string;
}

export interface OktaSecurityContext {
  readonly asNumber: number | null;
  readonly asOrg: string | null;
  readonly isp: string | null;
  readonly domain: string | null;
  readonly isProxy: boolean | null;
  /** Fields of management.yaml's `LogSecurityContext` that not every org's events carry. */
  readonly ipDetails?: OktaIpDetails | null;
  readonly risk?: OktaRisk | null;
  readonly userBehaviors?: ReadonlyArray<{ readonly id: string | null; readonly name: string | null; readonly result: string | null }> | null;
}

export interface OktaDebugContext {
  /** Values are strings ("false", "{level=LOW}"), rarely an object. */
  readonly debugData?: { readonly [key: string]: JsonValue } | null;
}

export interface OktaOutcome {
  /** `SUCCESS`, `FAILURE`, `SKIPPED`, `ALLOW`, `DENY`, `CHALLENGE`, `UNKNOWN` ... */
  readonly result: string;
  readonly reason: string | null;
}

export interface OktaTransaction {
  /** `WEB` (an HTTP request) or `JOB` (asynchronous work). */
  readonly type: string | null;
  /** The request id (same as `debugData.requestId`), a job id, or `"unknown"`. */
  readonly id: string | null;
  readonly detail: { readonly [key: string]: JsonValue } | null;
}

export interface OktaIpAddress {
  readonly ip: string;
  readonly geographicalContext: OktaGeographicalContext | null;
  /** `V4` or `V6`. */
  readonly version: string;
  readonly source: string | null;
  readonly ipDetails?: OktaIpDetails | null;
}

export interface OktaEvent {
  readonly actor: OktaActor;
  readonly client: OktaClient | null;
  readonly device: OktaDevice | null;
  readonly authenticationContext: OktaAuthenticationContext | null;
  readonly displayMessage: string | null;
  readonly eventType: string;
  readonly outcome: OktaOutcome | null;
  /** ISO-8601 UTC with milliseconds, e.g. `2024-06-03T14:21:53.225Z`. */
  readonly published: string;
  readonly securityContext: OktaSecurityContext | null;
  /** `DEBUG`, `INFO`, `WARN`, `ERROR`. */
  readonly severity: string;
  readonly debugContext: OktaDebugContext | null;
  readonly legacyEventType: string | null;
  readonly transaction: OktaTransaction | null;
  readonly uuid: string;
  /** Always `"0"`. */
  readonly version: string;
  readonly request: { readonly ipChain: readonly OktaIpAddress[] } | null;
  /** Often null rather than empty. Find a user with `type === 'User'`, never by position. */
  readonly target: readonly OktaTarget[] | null;
}
