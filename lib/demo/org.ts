/**
 * The simulated Okta org: its people (each with a home city, consistent networks, a laptop, a phone
 * and a main second factor), its apps, policies and admins. Built once per seed; the objects that
 * many events share (actors, geography, user agents) are frozen so no event can change another.
 */

import { userEntry } from './build';
import {
  APPS,
  COMPUTER_AGENTS,
  FACTORS,
  FIRST_NAMES,
  LAST_NAMES,
  NATIVE_AGENTS,
  OKTA_NODES,
  PHONE_AGENTS,
  PLACES,
  type AppSpec,
  type ExternalOrigin,
  type ComputerPlatform,
  type FactorName,
  type Network,
  type Place,
  type UserAgentSpec,
} from './catalog';
import type {
  OktaActor,
  OktaClient,
  OktaDevice,
  OktaGeographicalContext,
  OktaSecurityContext,
  OktaTarget,
  OktaUserAgent,
} from './event';
import type { NetPoint } from './net-point';
import { Rng } from './random';
import { HOUR } from '../core/time';


/** A browser or app on a device. */
export interface Agent {
  readonly key: string;
  readonly userAgent: OktaUserAgent;
  readonly device: 'Computer' | 'Mobile' | 'Unknown';
}

export interface AppInstance {
  readonly spec: AppSpec;
  readonly id: string;
  /** Id of the SAML/WS-Fed app instance in request URIs (`exk...`) or the OAuth client id. */
  readonly ssoKey: string;
  readonly target: OktaTarget;
  /** Custom authorization server of OIDC apps. */
  readonly authServerId: string;
}

export interface SimUser {
  readonly index: number;
  readonly id: string;
  readonly login: string;
  readonly displayName: string;
  readonly place: Place;
  readonly utcOffsetMs: number;
  /** How busy this person is relative to others. */
  readonly activity: number;
  readonly officeBased: boolean;
  readonly actor: OktaActor;
  readonly target: OktaTarget;
  readonly home: NetPoint;
  readonly office: NetPoint | undefined;
  readonly mobile: NetPoint;
  readonly laptop: Agent;
  readonly phone: Agent;
  readonly factor: FactorName;
  /** People with Okta Verify on two devices get two pushes per challenge. */
  readonly pushDevices: 1 | 2;
  readonly pushEnrollment: OktaTarget;
  readonly factorEnrollment: OktaTarget;
  readonly fastPassDevice: OktaDevice;
  readonly dtHash: string;
  readonly phoneDtHash: string;
  readonly deviceFingerprint: string;
  readonly apps: readonly AppInstance[];
  readonly appUserIds: ReadonlyMap<string, string>;
  readonly isAdmin: boolean;
  /** Target lists many events share (frozen): `[user]`, `[user, password]`, `[user, Okta Verify]`, ... */
  readonly targets: {
    readonly self: readonly OktaTarget[];
    readonly password: readonly OktaTarget[];
    readonly push: readonly OktaTarget[];
    readonly factor: readonly OktaTarget[];
    readonly pushSend: readonly OktaTarget[];
  };
}

export interface Policy {
  readonly policy: OktaTarget;
  readonly rules: readonly OktaTarget[];
}

export interface SimOrg {
  readonly domain: string;
  readonly users: readonly SimUser[];
  readonly admins: readonly SimUser[];
  readonly apps: readonly AppInstance[];
  /** OIDC clients that refresh tokens in the background (web and native). */
  readonly oauthApps: readonly AppInstance[];
  readonly dashboard: AppInstance;
  readonly adminConsole: AppInstance;
  readonly globalSessionPolicy: Policy;
  readonly appPolicy: Policy;
  readonly systemActor: OktaActor;
  /** The target Okta names for the password step of a sign-in. */
  readonly passwordEnrollment: OktaTarget;
  readonly groups: readonly OktaTarget[];
  readonly nativeAgents: readonly Agent[];
  readonly nodes: readonly string[];
}

const freeze = <T>(value: T): T => Object.freeze(value);

function frozenGeo(place: Pick<Place, 'city' | 'state' | 'country' | 'lat' | 'lon'>, postalCode: string, rng: Rng, jitter: number): OktaGeographicalContext {
  const round4 = (x: number): number => Math.round(x * 10000) / 10000;
  return freeze({
    city: place.city,
    state: place.state,
    country: place.country,
    postalCode,
    geolocation: freeze({ lat: round4(place.lat + rng.range(-jitter, jitter)), lon: round4(place.lon + rng.range(-jitter, jitter)) }),
  });
}

function frozenSecurity(network: Network, isProxy: boolean): OktaSecurityContext {
  return freeze({ asNumber: network.asNumber, asOrg: network.asOrg, isp: network.isp, domain: network.domain, isProxy });
}

function netPoint(key: string, ip: string, geo: OktaGeographicalContext, security: OktaSecurityContext, zone: string): NetPoint {
  const version = ip.includes(':') ? 'V6' : 'V4';
  const ipChain = freeze([freeze({ ip, geographicalContext: geo, version, source: null })]);
  return freeze({ key, ip, version, geo, security, zone, ipChain });
}

function ipv4(rng: Rng, network: Network): string {
  return `${rng.pick(network.prefixes)}.${rng.int(1, 254)}.${rng.int(1, 254)}`;
}

function ipv6(rng: Rng): string {
  const group = (): string => rng.int(0, 0xffff).toString(16);
  return `2001:db8:${group()}:${group()}:${group()}:${group()}:${group()}:${group()}`;
}

/** A request source outside the org's usual places: an attacker or an Okta support engineer. */
export function externalNetPoint(rng: Rng, origin: ExternalOrigin, key: string): NetPoint {
  const ip = `${origin.ipPrefix}.${rng.int(2, 250)}`;
  const geo = frozenGeo(origin.place, rng.pick(origin.place.postalCodes), rng, 0.01);
  return netPoint(key, ip, geo, frozenSecurity(origin.network, origin.isProxy), 'null');
}

export function agentOf(spec: UserAgentSpec, device: Agent['device'], key: string): Agent {
  return freeze({ key, userAgent: freeze({ rawUserAgent: spec.rawUserAgent, os: spec.os, browser: spec.browser }), device });
}

/** The client part of an event from `net` using `agent` (cached per user: many events share it). */
export function clientOf(net: NetPoint, agent: Agent, clientId: string | null = null): OktaClient {
  return {
    userAgent: agent.userAgent,
    zone: net.zone,
    device: agent.device,
    id: clientId,
    ipAddress: net.ip,
    geographicalContext: net.geo,
  };
}

const DEVICE_NAMES: Record<ComputerPlatform, (rng: Rng, first: string) => string> = {
  windows: (rng) => `DESKTOP-${rng.base62(7).toUpperCase()}`,
  mac: (_rng, first) => `${first}'s MacBook Pro`,
  linux: (rng) => `ws-${rng.hex(6)}`,
};

const OS_PLATFORM: Record<ComputerPlatform, [string, string]> = {
  windows: ['WINDOWS', '10.0.22631'],
  mac: ['MACOS', '14.5.0'],
  linux: ['LINUX', '6.5.0'],
};

export interface BuildOrgOptions {
  readonly users: number;
  readonly domain: string;
}

export function buildOrg(rng: Rng, options: BuildOrgOptions): SimOrg {
  const { domain } = options;
  const appInstance = (spec: AppSpec): AppInstance => {
    const id = rng.oktaId('0oa');
    const ssoKey = spec.signOnMode === 'OPENID_CONNECT' ? id : rng.oktaId('exk');
    const target = freeze({
      id,
      type: 'AppInstance',
      alternateId: spec.label,
      displayName: spec.label,
      detailEntry: freeze({ signOnModeType: spec.signOnMode }),
    });
    return freeze({ spec, id, ssoKey, target, authServerId: rng.oktaId('aus') });
  };
  const apps = APPS.map(appInstance);
  const dashboard = appInstance({ label: 'Okta Dashboard', name: 'okta_enduser', signOnMode: 'OPENID_CONNECT', popularity: 0, stepUp: false });
  const adminConsole = appInstance({ label: 'Okta Admin Console', name: 'saasure', signOnMode: 'OPENID_CONNECT', popularity: 0, stepUp: false });
  const mobileApp = appInstance({ label: 'Acme Mobile', name: 'oidc_client', signOnMode: 'OPENID_CONNECT', popularity: 0, stepUp: false });
  const oauthApps = [...apps.filter((a) => a.spec.signOnMode === 'OPENID_CONNECT'), mobileApp];

  const policyTarget = (displayName: string, policyType: string): OktaTarget =>
    freeze({ id: rng.oktaId('00p'), type: 'PolicyEntity', alternateId: 'unknown', displayName, detailEntry: freeze({ policyType }) });
  const ruleTarget = (policy: OktaTarget, displayName: string): OktaTarget =>
    freeze({ id: rng.oktaId('0pr'), type: 'PolicyRule', alternateId: policy.id, displayName, detailEntry: null });
  const gsp = policyTarget('Default Policy', 'OktaSignOn');
  const globalSessionPolicy: Policy = freeze({
    policy: gsp,
    rules: freeze([ruleTarget(gsp, 'Require MFA outside office networks'), ruleTarget(gsp, 'Default Rule')]),
  });
  const ap = policyTarget('Any two factors', 'Okta:SignOn');
  const appPolicy: Policy = freeze({ policy: ap, rules: freeze([ruleTarget(ap, 'Catch-all Rule')]) });

  const groups = ['Everyone', 'Engineering', 'Sales', 'Support', 'Finance', 'AWS Developers', 'Contractors'].map((name) =>
    freeze({ id: rng.oktaId('00g'), type: 'UserGroup', alternateId: 'unknown', displayName: name, detailEntry: null }),
  );

  const passwordEnrollment: OktaTarget = freeze({
    id: rng.oktaId('lae'),
    type: 'AuthenticatorEnrollment',
    alternateId: 'unknown',
    displayName: 'Password',
    detailEntry: freeze({ methodTypeUsed: 'Password' }),
  });
  const systemActor: OktaActor = freeze({
    id: rng.oktaId('0oa'),
    type: 'SystemPrincipal',
    alternateId: 'system@okta.com',
    displayName: 'Okta System',
    detailEntry: null,
  });

  // Offices share one NAT address per city.
  const officeNets = new Map<string, NetPoint>();
  for (const place of PLACES) {
    if (!place.office) continue;
    const geo = frozenGeo(place, place.postalCodes[0] as string, rng, 0.005);
    officeNets.set(place.city, netPoint(`office:${place.city}`, ipv4(rng, place.officeNetwork), geo, frozenSecurity(place.officeNetwork, false), 'LegacyIpZone'));
  }

  const logins = new Set<string>();
  const users: SimUser[] = [];
  for (let index = 0; index < options.users; index++) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const base = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '');
    let login = `${base}@${domain}`;
    for (let n = 2; logins.has(login); n++) login = `${base}${n}@${domain}`;
    logins.add(login);
    const displayName = `${first} ${last}`;
    const id = rng.oktaId('00u');
    const place = rng.weighted(PLACES, (p) => p.share);
    const postalCode = rng.pick(place.postalCodes);
    const homeNetwork = rng.pick(place.homeNetworks);
    const homeGeo = frozenGeo(place, postalCode, rng, 0.04);
    const homeIp = rng.chance(0.06) ? ipv6(rng) : ipv4(rng, homeNetwork);
    const home = netPoint(`home:${index}`, homeIp, homeGeo, frozenSecurity(homeNetwork, false), 'null');
    const mobileNetwork = rng.pick(place.mobileNetworks);
    const mobile = netPoint(`mobile:${index}`, ipv4(rng, mobileNetwork), frozenGeo(place, rng.pick(place.postalCodes), rng, 0.06), frozenSecurity(mobileNetwork, false), 'null');
    const office = officeNets.get(place.city);
    const platform: ComputerPlatform = rng.weighted(['windows', 'mac', 'linux'] as const, (p) => ({ windows: 0.45, mac: 0.48, linux: 0.07 })[p]);
    const laptop = agentOf(rng.pick(COMPUTER_AGENTS[platform]), 'Computer', `laptop:${index}`);
    const phoneSpec = rng.chance(0.6) ? rng.pick(PHONE_AGENTS.ios) : rng.pick(PHONE_AGENTS.android);
    const phone = agentOf(phoneSpec, 'Mobile', `phone:${index}`);
    const factor = rng.weighted(FACTORS, (f) => f.share).factor;
    const [osPlatform, osVersion] = OS_PLATFORM[platform];
    const fastPassDevice: OktaDevice = freeze({
      id: rng.oktaId('guo'),
      name: DEVICE_NAMES[platform](rng, first),
      os_platform: osPlatform,
      os_version: osVersion,
      managed: rng.chance(0.8),
      registered: true,
      device_integrator: null,
      disk_encryption_type: 'ALL_INTERNAL_VOLUMES',
      screen_lock_type: rng.chance(0.7) ? 'BIOMETRIC' : 'PASSCODE',
      jailbreak: null,
      secure_hardware_present: platform !== 'linux',
    });
    const enrollment = (displayName: string, method: string): OktaTarget =>
      freeze({ id: rng.oktaId('pfd'), type: 'AuthenticatorEnrollment', alternateId: 'unknown', displayName, detailEntry: freeze({ methodTypeUsed: method }) });
    const pushEnrollment = enrollment('Okta Verify', 'Get a push notification');
    const factorEnrollment =
      factor === 'FIDO_WEBAUTHN'
        ? enrollment('Security Key or Biometric', 'Use Security Key or Biometric')
        : factor === 'SOFT_TOKEN'
          ? enrollment('Google Authenticator', 'Enter a code')
          : factor === 'SIGNED_NONCE'
            ? enrollment('Okta Verify', 'Use Okta FastPass')
            : pushEnrollment;
    const appCount = rng.int(4, 8);
    const userApps: AppInstance[] = [];
    while (userApps.length < appCount) {
      const app = rng.weighted(apps, (a) => a.spec.popularity);
      if (!userApps.includes(app)) userApps.push(app);
    }
    const appUserIds = new Map<string, string>();
    for (const app of [...userApps, dashboard, adminConsole, ...oauthApps]) appUserIds.set(app.id, rng.oktaId('0ua'));
    const target: OktaTarget = freeze(userEntry({ id, login, displayName }));
    users.push(
      freeze({
        index,
        id,
        login,
        displayName,
        place,
        utcOffsetMs: place.utcOffsetHours * HOUR,
        activity: Math.exp(rng.range(-0.7, 0.7)),
        officeBased: office !== undefined && rng.chance(0.65),
        actor: freeze(userEntry({ id, login, displayName })),
        target,
        home,
        office,
        mobile,
        laptop,
        phone,
        factor,
        pushDevices: rng.chance(0.12) ? 2 : 1,
        pushEnrollment,
        factorEnrollment,
        fastPassDevice,
        dtHash: rng.hex(64),
        phoneDtHash: rng.hex(64),
        deviceFingerprint: rng.hex(32),
        apps: freeze(userApps),
        appUserIds,
        isAdmin: false,
        targets: freeze({
          self: freeze([target]),
          password: freeze([target, passwordEnrollment]),
          push: freeze([target, pushEnrollment]),
          factor: freeze([target, factorEnrollment]),
          pushSend: freeze([pushEnrollment]),
        }),
      }),
    );
  }
  // The first few people (in the HQ city if possible) are the org's super admins.
  const adminCount = Math.min(3, Math.max(1, Math.floor(users.length / 40)));
  const admins: SimUser[] = [];
  for (const user of [...users].sort((a, b) => Number(b.place.office) - Number(a.place.office) || a.index - b.index)) {
    if (admins.length >= adminCount) break;
    const admin = freeze({ ...user, isAdmin: true });
    users[user.index] = admin;
    admins.push(admin);
  }
  return freeze({
    domain,
    users: freeze(users),
    admins: freeze(admins),
    apps: freeze(apps),
    oauthApps: freeze(oauthApps),
    dashboard,
    adminConsole,
    globalSessionPolicy,
    appPolicy,
    systemActor,
    passwordEnrollment,
    groups: freeze(groups),
    nativeAgents: freeze(NATIVE_AGENTS.map((spec, i) => agentOf(spec, 'Mobile', `native:${i}`))),
    nodes: OKTA_NODES,
  });
}
