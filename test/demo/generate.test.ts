import { describe, expect, it } from 'vitest';
import {
  ATTACK_KINDS,
  DemoOptionError,
  generateEvents,
  generateOrgDay,
  iterateEvents,
  NEAR_MISS_KINDS,
  toJsonText,
  type GeneratedOrg,
  type OktaEvent,
} from '../../lib/demo/generate';
import { isPush, pushBombingSessions, resetThenNewPlace, supportResets, ungrantedImpersonations } from './oracles';
import { HOUR, MINUTE } from '../../lib/core/time';

const START = new Date('2024-06-03T00:00:00.000Z');
const TOP_LEVEL = [
  'actor',
  'client',
  'device',
  'authenticationContext',
  'displayMessage',
  'eventType',
  'outcome',
  'published',
  'securityContext',
  'severity',
  'debugContext',
  'legacyEventType',
  'transaction',
  'uuid',
  'version',
  'request',
  'target',
];

// Prepare (shared by the read-only assertions below): one default day of the org.
const day: GeneratedOrg = generateOrgDay({ start: START });
const byUuid = new Map(day.events.map((e) => [e.uuid, e]));
const eventsOf = (uuids: readonly string[]): OktaEvent[] => uuids.map((u) => byUuid.get(u) as OktaEvent);
const time = (e: OktaEvent): number => Date.parse(e.published);
const planted = (kind: string) => {
  const p = day.planted.find((x) => x.kind === kind);
  if (!p) throw new Error(`no planted ${kind}`);
  return p;
};
const nearMiss = (kind: string) => {
  const n = day.nearMisses.find((x) => x.kind === kind);
  if (!n) throw new Error(`no near miss ${kind}`);
  return n;
};
const scripted = new Set([...day.planted, ...day.nearMisses].flatMap((x) => x.uuids));
const share = (predicate: (e: OktaEvent) => boolean): number => day.events.filter(predicate).length / day.events.length;

describe('generateOrgDay: shape of the day', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    // Prepare
    const options = { start: START, hours: 6, events: 3000, users: 40, seed: 7 };
    // Act
    const a = generateOrgDay(options);
    const b = generateOrgDay(options);
    const c = generateOrgDay({ ...options, seed: 8 });
    // Assess
    const text = (g: GeneratedOrg): string => g.events.map(toJsonText).join('\n');
    expect(text(a)).toBe(text(b));
    expect(a.planted).toEqual(b.planted);
    expect(a.nearMisses).toEqual(b.nearMisses);
    expect(text(c)).not.toBe(text(a));
  });

  it('produces about the requested number of benign events plus the planted attacks', () => {
    const attackEvents = day.planted.reduce((n, p) => n + p.uuids.length, 0);
    const benign = day.events.length - attackEvents;
    expect(Math.abs(benign - 25_000)).toBeLessThan(25_000 * 0.02);

    const small = generateOrgDay({ start: START, hours: 3, events: 1500, users: 30, attacks: false });
    expect(small.planted).toEqual([]);
    expect(Math.abs(small.events.length - 1500)).toBeLessThan(1500 * 0.02);
  });

  it('sorts events by published, keeps them in the period and gives each a unique uuid', () => {
    const end = START.getTime() + 24 * HOUR;
    const problems: string[] = [];
    const uuids = new Set<string>();
    let previous = -Infinity;
    for (const e of day.events) {
      const t = time(e);
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(e.published)) problems.push(`published ${e.published}`);
      if (t < previous) problems.push(`out of order at ${e.published}`);
      if (t < START.getTime() || t >= end) problems.push(`outside the day: ${e.published}`);
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(e.uuid)) problems.push(`uuid ${e.uuid}`);
      uuids.add(e.uuid);
      previous = t;
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(uuids.size).toBe(day.events.length);
  });

  it('encodes the publishing time in the version-1 uuid, as Okta does', () => {
    for (const e of day.events.slice(0, 500)) {
      const [low, mid, high] = e.uuid.split('-') as [string, string, string];
      const ticks = (BigInt(`0x${high.slice(1)}`) << 48n) | (BigInt(`0x${mid}`) << 32n) | BigInt(`0x${low}`);
      expect(Number((ticks - 0x01b21dd213814000n) / 10000n)).toBe(time(e));
    }
  });

  it('gives every event all LogEvent top-level fields with Okta value types', () => {
    const problems: string[] = [];
    const check = (ok: boolean, what: string, e: OktaEvent): void => {
      if (!ok) problems.push(`${e.eventType} ${e.uuid}: ${what}`);
    };
    for (const e of day.events) {
      check(Object.keys(e).join() === TOP_LEVEL.join(), `keys ${Object.keys(e).join()}`, e);
      check(e.version === '0', 'version', e);
      check(['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(e.severity), 'severity', e);
      check(['User', 'SystemPrincipal', 'PublicClientApp'].includes(e.actor.type), 'actor.type', e);
      const asNumber = e.securityContext?.asNumber ?? null;
      check(asNumber === null || Number.isInteger(asNumber), 'asNumber', e);
      check([null, true, false].includes(e.securityContext?.isProxy ?? null), 'isProxy', e);
      check(e.authenticationContext?.authenticationStep === 0, 'authenticationStep', e);
      for (const [key, value] of Object.entries(e.debugContext?.debugData ?? {})) {
        check(key === 'originalPrincipal' ? typeof value === 'object' : typeof value === 'string', `debugData.${key}`, e);
      }
      for (const hop of e.request?.ipChain ?? []) check(hop.version === 'V4' || hop.version === 'V6', 'ipChain version', e);
      const geo = e.client?.geographicalContext?.geolocation;
      if (geo) check(typeof geo.lat === 'number' && typeof geo.lon === 'number', 'geolocation', e);
      const requestId = e.debugContext?.debugData?.requestId;
      if (e.transaction?.type === 'WEB' && requestId !== undefined) check(requestId === e.transaction.id, 'requestId = transaction.id', e);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('mixes in the imperfections of real exports at realistic rates', () => {
    const nullTarget = share((e) => e.target === null);
    expect(nullTarget).toBeGreaterThan(0.03);
    expect(nullTarget).toBeLessThan(0.5);
    expect(share((e) => e.client !== null && Object.keys(e.client).length === 0)).toBeGreaterThan(0);
    expect(share((e) => e.client?.ipAddress === 'null')).toBeGreaterThan(0);
    expect(share((e) => e.client?.ipAddress === 'null')).toBeLessThan(0.01);
    expect(share((e) => e.client?.zone === 'null')).toBeGreaterThan(0.5);
    expect(share((e) => e.request?.ipChain.length === 0)).toBeGreaterThan(0);
    expect(share((e) => e.debugContext !== null && e.debugContext.debugData === undefined)).toBeGreaterThan(0);
    expect(share((e) => e.debugContext === null)).toBeLessThan(0.01);
    expect(share((e) => e.authenticationContext?.externalSessionId === 'unknown')).toBeGreaterThan(0);
    expect(share((e) => e.request?.ipChain[0]?.version === 'V6')).toBeGreaterThan(0);
    expect(share((e) => e.actor.type === 'User' && e.securityContext?.asNumber === null)).toBeGreaterThan(0);
    expect(share((e) => e.device !== null)).toBeGreaterThan(0);
    expect(share((e) => e.device !== null)).toBeLessThan(0.2);
  });

  it('has the everyday event types of a workforce org', () => {
    const counts = new Map<string, number>();
    for (const e of day.events) counts.set(e.eventType, (counts.get(e.eventType) ?? 0) + 1);
    for (const type of [
      'user.session.start',
      'user.session.end',
      'user.authentication.sso',
      'user.authentication.auth_via_mfa',
      'user.authentication.verify',
      'policy.evaluate_sign_on',
      'system.push.send_factor_verify_push',
      'app.oauth2.as.authorize.code',
      'app.oauth2.as.token.grant.access_token',
      'app.oauth2.as.token.grant.id_token',
      'app.oauth2.as.token.grant.refresh_token',
      'user.account.update_profile',
      'user.account.update_password',
      'group.user_membership.add',
      'system.import.start',
      'app.user_management.push_profile_success',
    ]) {
      expect(counts.get(type) ?? 0, type).toBeGreaterThan(0);
    }
    const mfa = day.events.filter((e) => e.eventType === 'user.authentication.auth_via_mfa');
    const factors = new Set(mfa.map((e) => e.debugContext?.debugData?.factor));
    for (const f of ['OKTA_VERIFY_PUSH', 'PASSWORD_AS_FACTOR', 'FIDO_WEBAUTHN', 'SIGNED_NONCE', 'SOFT_TOKEN']) expect(factors).toContain(f);
    for (const e of mfa) {
      expect(e.legacyEventType).toBe(e.outcome?.result === 'SUCCESS' ? 'core.user.factor.attempt_success' : 'core.user.factor.attempt_fail');
    }
    const benignPushFailures = mfa.filter((e) => isPush(e) && e.outcome?.result === 'FAILURE' && !scripted.has(e.uuid));
    expect(benignPushFailures.length).toBeGreaterThan(0);
  });

  it('keeps system@okta.com work free of client data, on JOB transactions with real ids', () => {
    const system = day.events.filter((e) => e.actor.type === 'SystemPrincipal' && !scripted.has(e.uuid));
    expect(system.length).toBeGreaterThan(day.events.length * 0.01);
    for (const e of system) {
      expect(e.actor.alternateId).toBe('system@okta.com');
      expect(e.client?.userAgent ?? null).toBeNull();
      expect(e.client?.ipAddress ?? null).toBeNull();
      expect(e.client?.geographicalContext ?? null).toBeNull();
      expect(e.request?.ipChain).toEqual([]);
      expect(e.transaction?.type).toBe('JOB');
      expect(e.transaction?.id).toMatch(/^[A-Za-z0-9@-]{27}$/);
    }
    expect(system.some((e) => e.client !== null && Object.keys(e.client).length === 0)).toBe(true);
    expect(system.some((e) => e.client?.userAgent === null)).toBe(true);
  });

  it('follows the working hours of the people and keeps each person on a few networks', () => {
    // San Francisco is UTC-8 here: 17:00-01:00 UTC is 09:00-17:00 local, 08:00-14:00 UTC is the night.
    const sf = day.events.filter((e) => e.actor.type === 'User' && e.client?.geographicalContext?.city === 'San Francisco');
    const hourOf = (e: OktaEvent): number => new Date(e.published).getUTCHours();
    const work = sf.filter((e) => hourOf(e) >= 17 || hourOf(e) < 1).length;
    const night = sf.filter((e) => hourOf(e) >= 8 && hourOf(e) < 14).length;
    expect(work).toBeGreaterThan(night * 4);

    const addresses = new Map<string, Set<string>>();
    const countries = new Set<string>();
    for (const e of day.events) {
      if (e.actor.type !== 'User' || scripted.has(e.uuid)) continue;
      const ip = e.client?.ipAddress;
      if (ip && ip !== 'null') {
        const set = addresses.get(e.actor.id) ?? new Set<string>();
        set.add(ip);
        addresses.set(e.actor.id, set);
      }
      const country = e.client?.geographicalContext?.country;
      if (country) countries.add(country);
    }
    expect(addresses.size).toBeGreaterThan(100);
    for (const [, set] of addresses) expect(set.size).toBeLessThanOrEqual(3);
    expect([...countries].sort()).toEqual(['Australia', 'Canada', 'Germany', 'India', 'Ireland', 'United Kingdom', 'United States']);
  });

  it('writes compact JSON that reads back to the same event', () => {
    for (const e of day.events.slice(0, 2000)) {
      const text = toJsonText(e);
      expect(text).not.toContain('\n');
      expect(text.startsWith('{"actor":')).toBe(true);
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(e)));
    }
  });
});

describe('generateOrgDay: planted attacks', () => {
  it('plants the four attacks and lists events that exist', () => {
    expect(day.planted.map((p) => p.kind).sort()).toEqual([...ATTACK_KINDS].sort());
    for (const p of day.planted) {
      expect(p.uuids.length).toBeGreaterThan(0);
      for (const u of p.uuids) expect(byUuid.has(u)).toBe(true);
      expect(p.at).toBe(eventsOf(p.uuids)[0]?.published);
      expect(p.description.length).toBeGreaterThan(40);
    }
  });

  it('support impersonation: initiate by an Okta support identity with no grant in the 8 hours before', () => {
    const p = planted('support-impersonation');
    const events = eventsOf(p.uuids);
    const initiate = events.find((e) => e.eventType === 'user.session.impersonation.initiate') as OktaEvent;
    expect(initiate.legacyEventType).toBe('core.user.impersonation.session.initiated');
    expect(initiate.actor.alternateId).toBe(p.actor);
    expect(initiate.actor.alternateId).toMatch(/@okta\.com$/);
    expect(initiate.target?.find((t) => t.type === 'User')?.alternateId).toBe(p.target);
    expect(initiate.authenticationContext?.externalSessionId).toBe(p.sessionId);
    expect(events.map((e) => e.eventType)).toContain('user.session.impersonation.end');
    const inside = events.find((e) => e.eventType === 'user.session.access_admin_app');
    expect(inside?.debugContext?.debugData?.originalPrincipal).toMatchObject({ alternateId: p.actor });
    const grants = day.events.filter((e) => e.eventType === 'user.session.impersonation.grant');
    expect(grants.some((g) => time(g) <= time(initiate) && time(initiate) - time(g) <= 8 * HOUR)).toBe(false);
    expect(ungrantedImpersonations(day.events).map((e) => e.uuid)).toEqual([initiate.uuid]);
  });

  it('support password reset: system@okta.com, transaction "unknown", no user agent, no geography', () => {
    const p = planted('support-password-reset');
    const events = eventsOf(p.uuids);
    expect(events.map((e) => e.eventType)).toEqual(['user.account.reset_password', 'user.mfa.factor.reset_all']);
    for (const e of events) {
      expect(e.actor).toMatchObject({ alternateId: 'system@okta.com', type: 'SystemPrincipal' });
      expect(e.transaction?.id).toBe('unknown');
      expect(e.client?.userAgent ?? null).toBeNull();
      expect(e.client?.geographicalContext ?? null).toBeNull();
      expect(e.client?.ipAddress ?? null).toBeNull();
      expect(e.request?.ipChain).toEqual([]);
      expect(e.target?.find((t) => t.type === 'User')?.alternateId).toBe(p.target);
    }
    expect(supportResets(day.events).map((e) => e.uuid)).toEqual(p.uuids);
  });

  it('MFA push bombing: >= 5 denied pushes in one session within 10 minutes, > 2 s apart, then success from abroad', () => {
    const p = planted('mfa-push-bombing');
    const events = eventsOf(p.uuids);
    const pushes = events.filter(isPush);
    const failures = pushes.filter((e) => e.outcome?.result === 'FAILURE');
    expect(failures.length).toBeGreaterThanOrEqual(5);
    for (const e of failures) {
      expect(e.legacyEventType).toBe('core.user.factor.attempt_fail');
      expect(e.outcome?.reason).toBe('INVALID_CREDENTIALS');
    }
    expect(failures.some((e) => e.debugContext?.debugData?.pushOnlyResponseType === 'OV_RESPONSE_DENY')).toBe(true);
    expect(events.some((e) => e.eventType === 'user.mfa.okta_verify.deny_push')).toBe(true);
    const last = pushes[pushes.length - 1] as OktaEvent;
    expect(last.outcome?.result).toBe('SUCCESS');
    expect(last.legacyEventType).toBe('core.user.factor.attempt_success');
    expect(time(last) - time(pushes[0] as OktaEvent)).toBeLessThan(10 * MINUTE);
    for (let i = 1; i < pushes.length; i++) expect(time(pushes[i] as OktaEvent) - time(pushes[i - 1] as OktaEvent)).toBeGreaterThan(2000);
    for (const e of events) {
      expect(e.authenticationContext?.externalSessionId).toBe(p.sessionId);
      expect(e.actor.alternateId).toBe(p.actor);
    }
    expect(events.some((e) => e.eventType === 'user.session.start' && e.outcome?.result === 'SUCCESS')).toBe(true);
    const attackCountry = last.client?.geographicalContext?.country;
    const homeCountries = new Set(
      day.events.filter((e) => e.actor.alternateId === p.actor && !scripted.has(e.uuid)).map((e) => e.client?.geographicalContext?.country),
    );
    expect(homeCountries.size).toBeGreaterThan(0);
    expect(homeCountries.has(attackCountry)).toBe(false);
    expect([...pushBombingSessions(day.events)]).toEqual([`${p.sessionId}|${last.actor.id}`]);
  });

  it('MFA-reset takeover: a help-desk reset, then a sign-in and enrolment as the user from a place they never used', () => {
    const p = planted('mfa-reset-takeover');
    const events = eventsOf(p.uuids);
    const [reset, ...takeover] = events as [OktaEvent, ...OktaEvent[]];
    // The reset: a customer admin in the Admin Console (not Okta support), the victim as target.
    expect(reset.eventType).toBe('user.mfa.factor.reset_all');
    expect(reset.legacyEventType).toBe('core.user.factor.reset_all');
    expect(reset.actor.type).toBe('User');
    expect(reset.actor.alternateId).toMatch(/@acme\.example$/);
    expect(reset.actor.alternateId).not.toBe(p.target);
    expect(reset.transaction?.id).not.toBe('unknown');
    expect(reset.client?.userAgent?.rawUserAgent).toBeTruthy();
    expect(reset.target?.find((t) => t.type === 'User')?.alternateId).toBe(p.target);
    const admin = day.events.find((e) => e.eventType === 'user.session.access_admin_app' && e.actor.id === reset.actor.id && time(e) <= time(reset));
    expect(admin, 'the admin opened the Admin Console first').toBeDefined();
    // The takeover: one session as the victim, from one address, within 20 minutes of the reset.
    const signIn = takeover.find((e) => e.eventType === 'user.session.start') as OktaEvent;
    const enrol = takeover.find((e) => e.eventType === 'user.mfa.factor.activate') as OktaEvent;
    expect(signIn.outcome?.result).toBe('SUCCESS');
    expect(enrol.outcome?.result).toBe('SUCCESS');
    expect(enrol.legacyEventType).toBe('core.user.factor.activate');
    expect(enrol.target?.map((t) => t.type)).toEqual(['User', 'AuthenticatorEnrollment']);
    for (const e of takeover) {
      expect(e.actor.alternateId).toBe(p.actor);
      expect(e.authenticationContext?.externalSessionId).toBe(p.sessionId);
      expect(e.client?.ipAddress).toBe(signIn.client?.ipAddress);
    }
    expect(p.actor).toBe(p.target);
    expect(time(takeover[0] as OktaEvent) - time(reset)).toBeGreaterThan(0);
    expect(time(signIn) - time(reset)).toBeLessThanOrEqual(20 * MINUTE);
    expect(time(enrol) - time(reset)).toBeLessThanOrEqual(20 * MINUTE);
    // The victim's own day: a sign-in from their usual place earlier, none from the attacker's address or country.
    const own = day.events.filter((e) => e.actor.alternateId === p.actor && !scripted.has(e.uuid));
    const ownSignIns = own.filter((e) => e.eventType === 'user.session.start' && e.outcome?.result === 'SUCCESS');
    expect(ownSignIns.some((e) => time(e) < time(reset) && time(reset) - time(e) <= 21 * HOUR)).toBe(true);
    expect(own.some((e) => e.client?.ipAddress === signIn.client?.ipAddress)).toBe(false);
    expect(own.some((e) => e.client?.geographicalContext?.country === signIn.client?.geographicalContext?.country)).toBe(false);
    expect(signIn.securityContext?.asOrg).toBe('ovh sas');
    // Found by the reference rule, for this victim only.
    const found = [...resetThenNewPlace(day.events)];
    expect(found).toContain(`${p.target}|${reset.uuid}|${signIn.client?.ipAddress}`);
    expect(new Set(found.map((k) => k.split('|')[0]))).toEqual(new Set([p.target]));
  });

  it('plants only the attacks asked for', () => {
    const none = generateOrgDay({ start: START, hours: 4, events: 2000, users: 30, attacks: false });
    expect(none.planted).toEqual([]);
    expect(pushBombingSessions(none.events).size).toBe(0);
    expect(ungrantedImpersonations(none.events)).toEqual([]);
    expect(supportResets(none.events)).toEqual([]);
    expect(resetThenNewPlace(none.events).size).toBe(0);

    const one = generateOrgDay({ start: START, hours: 4, events: 2000, users: 30, attacks: ['mfa-push-bombing'] });
    expect(one.planted.map((p) => p.kind)).toEqual(['mfa-push-bombing']);
    expect(pushBombingSessions(one.events).size).toBe(1);
    expect(ungrantedImpersonations(one.events)).toEqual([]);
    expect(resetThenNewPlace(one.events).size).toBe(0);

    const takeover = generateOrgDay({ start: START, hours: 4, events: 2000, users: 30, attacks: ['mfa-reset-takeover'] });
    expect(takeover.planted.map((p) => p.kind)).toEqual(['mfa-reset-takeover']);
    expect(new Set([...resetThenNewPlace(takeover.events)].map((k) => k.split('|')[0]))).toEqual(new Set([takeover.planted[0]?.target]));
    expect(pushBombingSessions(takeover.events).size).toBe(0);
    expect(supportResets(takeover.events)).toEqual([]);
  });

  it('keeps the attacks detectable, and only them, for other seeds and a short period', () => {
    for (const seed of [1, 2, 3]) {
      const g = generateOrgDay({ seed, start: START, hours: 1, events: 1500, users: 12 });
      const end = START.getTime() + HOUR;
      for (const e of g.events) expect(time(e)).toBeLessThan(end);
      const bombing = g.planted.find((p) => p.kind === 'mfa-push-bombing');
      expect([...pushBombingSessions(g.events)].map((k) => k.split('|')[0])).toEqual([bombing?.sessionId]);
      expect(ungrantedImpersonations(g.events).map((e) => e.uuid)).toEqual([g.planted.find((p) => p.kind === 'support-impersonation')?.uuids[0]]);
      expect(supportResets(g.events).map((e) => e.uuid)).toEqual(g.planted.find((p) => p.kind === 'support-password-reset')?.uuids);
      const takeover = g.planted.find((p) => p.kind === 'mfa-reset-takeover');
      const found = [...resetThenNewPlace(g.events)];
      expect(found).toContain(`${takeover?.target}|${takeover?.uuids[0]}|${g.events.find((e) => e.uuid === takeover?.uuids[1])?.client?.ipAddress}`);
      expect(new Set(found.map((k) => k.split('|')[0]))).toEqual(new Set([takeover?.target]));
    }
  });
});

describe('generateOrgDay: near misses', () => {
  it('records every kind of near miss with events that exist', () => {
    expect(day.nearMisses.map((n) => n.kind).sort()).toEqual([...NEAR_MISS_KINDS].sort());
    for (const n of day.nearMisses) {
      expect(n.uuids.length, n.kind).toBeGreaterThan(0);
      for (const u of n.uuids) expect(byUuid.has(u)).toBe(true);
    }
  });

  it('granted support access: the initiate falls inside a grant made by a customer admin', () => {
    const events = eventsOf(nearMiss('granted-support-access').uuids);
    const grant = events.find((e) => e.eventType === 'user.session.impersonation.grant') as OktaEvent;
    const initiate = events.find((e) => e.eventType === 'user.session.impersonation.initiate') as OktaEvent;
    expect(grant.actor.alternateId).toMatch(/@acme\.example$/);
    expect(grant.legacyEventType).toBe('core.user.impersonation.grant.enabled');
    expect(time(initiate) - time(grant)).toBeGreaterThan(0);
    expect(time(initiate) - time(grant)).toBeLessThan(8 * HOUR);
    expect(events.map((e) => e.eventType)).toEqual(
      expect.arrayContaining(['user.session.impersonation.extend', 'user.session.impersonation.end', 'user.session.access_admin_app']),
    );
  });

  it('push near misses stay under the thresholds of the push-bombing rule', () => {
    const pushesIn = (kind: string): OktaEvent[] => eventsOf(nearMiss(kind).uuids).filter(isPush);

    const once = pushesIn('push-denied-once');
    expect(once.map((e) => e.outcome?.result)).toEqual(['FAILURE', 'SUCCESS']);

    const spread = pushesIn('push-failures-spread-out');
    expect(spread).toHaveLength(3);
    expect(spread.some((e) => e.outcome?.result === 'FAILURE')).toBe(true);
    expect(time(spread[2] as OktaEvent) - time(spread[1] as OktaEvent)).toBeGreaterThan(10 * MINUTE);

    const approvals = pushesIn('push-approvals-only');
    expect(approvals.length).toBeGreaterThanOrEqual(3);
    expect(approvals.every((e) => e.outcome?.result === 'SUCCESS')).toBe(true);
    expect(time(approvals[approvals.length - 1] as OktaEvent) - time(approvals[0] as OktaEvent)).toBeLessThan(10 * MINUTE);

    const twoDevices = eventsOf(nearMiss('push-two-devices').uuids);
    const sends = twoDevices.filter((e) => e.eventType === 'system.push.send_factor_verify_push').map(time);
    expect(sends).toHaveLength(4);
    expect(sends[1]! - sends[0]!).toBeLessThan(2000);
    expect(sends[3]! - sends[2]!).toBeLessThan(2000);
    expect(twoDevices.filter(isPush)).toHaveLength(2);

    for (const kind of ['push-denied-once', 'push-failures-spread-out', 'push-approvals-only', 'push-two-devices']) {
      const n = nearMiss(kind);
      const session = eventsOf(n.uuids)[0]?.authenticationContext?.externalSessionId;
      expect(session).toBe(n.sessionId);
      expect([...pushBombingSessions(day.events)].some((k) => k.startsWith(`${session}|`)), kind).toBe(false);
    }
  });

  it('help-desk factor reset: the user signs in again and enrols from an address they used before the reset', () => {
    const n = nearMiss('help-desk-factor-reset');
    const [reset, ...after] = eventsOf(n.uuids) as [OktaEvent, ...OktaEvent[]];
    expect(reset.eventType).toBe('user.mfa.factor.reset_all');
    expect(reset.actor.type).toBe('User');
    expect(reset.target?.find((t) => t.type === 'User')?.alternateId).toBe(n.target);
    // The same help-desk admin as in the planted takeover: the reset alone tells nothing.
    expect(reset.actor.id).toBe(eventsOf(planted('mfa-reset-takeover').uuids)[0]?.actor.id);
    const signIn = after.find((e) => e.eventType === 'user.session.start' && e.outcome?.result === 'SUCCESS') as OktaEvent;
    const enrol = after.find((e) => e.eventType === 'user.mfa.factor.activate') as OktaEvent;
    expect(enrol.actor.alternateId).toBe(n.actor);
    expect(time(enrol) - time(reset)).toBeLessThan(HOUR);
    expect(time(signIn) - time(reset)).toBeLessThan(HOUR);
    for (const e of after) expect(e.authenticationContext?.externalSessionId).toBe(n.sessionId);
    const earlier = day.events.filter(
      (e) => e.actor.alternateId === n.actor && e.eventType === 'user.session.start' && e.outcome?.result === 'SUCCESS' && time(e) < time(reset) && time(reset) - time(e) <= 21 * HOUR,
    );
    expect(earlier.map((e) => e.client?.ipAddress)).toContain(signIn.client?.ipAddress);
    expect(earlier.map((e) => e.client?.ipAddress)).toContain(enrol.client?.ipAddress);
    expect([...resetThenNewPlace(day.events)].filter((k) => k.startsWith(`${n.target}|`))).toEqual([]);
  });

  it('a mistyped password is a failed auth_via_mfa with factor PASSWORD_AS_FACTOR, not a push', () => {
    const events = eventsOf(nearMiss('password-typo').uuids);
    const failed = events.find((e) => e.eventType === 'user.authentication.auth_via_mfa' && e.outcome?.result === 'FAILURE') as OktaEvent;
    expect(failed.debugContext?.debugData?.factor).toBe('PASSWORD_AS_FACTOR');
    expect(failed.legacyEventType).toBe('core.user.factor.attempt_fail');
    expect(events.some((e) => e.eventType === 'user.session.start' && e.outcome?.result === 'FAILURE')).toBe(true);
  });

  it('password changes that are not support resets', () => {
    const [own] = eventsOf(nearMiss('self-password-change').uuids);
    expect(own?.eventType).toBe('user.account.update_password');
    expect(own?.actor.id).toBe(own?.target?.find((t) => t.type === 'User')?.id);
    expect(own?.client?.userAgent?.rawUserAgent).toBeTruthy();

    const [admin] = eventsOf(nearMiss('admin-password-reset').uuids);
    expect(admin?.eventType).toBe('user.account.reset_password');
    expect(admin?.actor.type).toBe('User');
    expect(admin?.transaction?.id).not.toBe('unknown');

    const [sync] = eventsOf(nearMiss('system-password-sync').uuids);
    expect(sync?.actor.alternateId).toBe('system@okta.com');
    expect(sync?.eventType).toBe('user.account.update_password');
    expect(sync?.transaction?.type).toBe('JOB');
    expect(sync?.transaction?.id).not.toBe('unknown');
    expect(sync?.client?.userAgent ?? null).toBeNull();

    const job = eventsOf(nearMiss('system-import-job').uuids);
    expect(job[0]?.eventType).toBe('system.import.start');
    expect(job[job.length - 1]?.eventType).toBe('system.import.complete');
    expect(new Set(job.map((e) => e.transaction?.id)).size).toBe(1);
  });
});

describe('generateEvents / iterateEvents', () => {
  it('gives exactly the requested count, sorted, deterministic, with or without attacks', () => {
    const a = generateEvents(1234, { seed: 5, hours: 2 });
    expect(a).toHaveLength(1234);
    expect(a.map(toJsonText)).toEqual(generateEvents(1234, { seed: 5, hours: 2 }).map(toJsonText));
    expect(Array.from(iterateEvents(1234, { seed: 5, hours: 2 }))).toEqual(a);
    const withAttacks = generateEvents(3000, { seed: 5, hours: 2, attacks: true });
    expect(withAttacks).toHaveLength(3000);
    expect(pushBombingSessions(withAttacks).size).toBe(1);
    expect(generateEvents(0)).toEqual([]);
  });

  it('generates 200,000 events over a week', () => {
    const start = new Date('2024-06-03T00:00:00.000Z');
    const events = generateEvents(200_000, { start, hours: 7 * 24 });
    expect(events).toHaveLength(200_000);
    let previous = '';
    const uuids = new Set<string>();
    for (const e of events) {
      expect(e.published >= previous).toBe(true);
      previous = e.published;
      uuids.add(e.uuid);
    }
    expect(uuids.size).toBe(200_000);
    expect(Date.parse(events[0]!.published)).toBeGreaterThanOrEqual(start.getTime());
    expect(Date.parse(events[events.length - 1]!.published)).toBeLessThan(start.getTime() + 7 * 24 * HOUR);
    // Weekends (June 8-9) are quieter than weekdays.
    const onDay = (d: number): number => events.filter((e) => e.published.startsWith(`2024-06-0${d}`)).length;
    expect(onDay(8)).toBeLessThan(onDay(5) / 2);
    expect(pushBombingSessions(events).size).toBe(0);
  });
});

describe('option validation', () => {
  it.each([
    ['hours below one', { start: START, hours: 0.5 }, /hours/],
    ['too few users', { start: START, users: 2 }, /users/],
    ['negative events', { start: START, events: -1 }, /events/],
    ['an invalid start', { start: new Date('nope') }, /start/],
    ['a bad domain', { start: START, orgDomain: 'Not A Domain' }, /orgDomain/],
    ['an unknown attack', { start: START, attacks: ['phishing'] as never }, /unknown attack kind 'phishing'/],
    ['a fractional seed', { start: START, seed: 1.5 }, /seed/],
  ])('rejects %s', (_name, options, message) => {
    expect(() => generateOrgDay(options)).toThrow(DemoOptionError);
    expect(() => generateOrgDay(options)).toThrow(message);
  });

  it('rejects a bad count', () => {
    expect(() => generateEvents(-5)).toThrow(/count/);
    expect(() => generateEvents(1.5)).toThrow(DemoOptionError);
  });
});
