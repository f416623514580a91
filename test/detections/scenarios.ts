/**
 * For every query of athena-queries/: a scenario that must be found (with the finding keys the
 * query must report) and a near miss that must not. Times are relative to `now`, the instant the
 * runner pins `current_timestamp` to.
 */
import type { FindingValue } from '../../lib/core/hunt';
import { lateObjectName } from '../../lib/core/ingest/reconcile';
import { pageObjectName } from '../../lib/core/layout';
import {
  MINUTE,
  HOUR,
  PLACES,
  SYSTEM,
  ipDetailsOf,
  oktaEvent,
  person,
  shifted,
  target,
  userTarget,
  type EventInput,
  type OktaEventJson,
  type PageWrite,
  type Person,
  type Place,
  type Target,
} from './support';

/**
 * What a scenario writes: `events` as one page (with the `name`, `ingestedAt` and `partitionAt` of
 * `PageWrite`), then each of `laterPages` as another call of the writer, in order.
 */
export interface Written extends PageWrite {
  /** Pages written after `events`, e.g. by a later run or sweep. @default none */
  readonly laterPages?: readonly PageWrite[];
}

/** The writer calls of what a scenario writes: a list of events is one page. */
export function writesOf(written: readonly OktaEventJson[] | Written): PageWrite[] {
  if (!('events' in written)) return [{ events: written }];
  const { laterPages = [], ...first } = written;
  return [first, ...laterPages];
}

export interface Fired extends Written {
  /**
   * One object per expected finding: the values of the query's key columns (org excluded), and of
   * any other column worth checking.
   */
  readonly expect: ReadonlyArray<Record<string, FindingValue>>;
}

export interface QueryScenarios {
  readonly id: string;
  /** Columns compared with `expect`. @default the query's finding_key without org */
  readonly keys?: readonly string[];
  /** Parameters of a hunt. @default {} */
  readonly params?: Readonly<Record<string, string>>;
  readonly what: string;
  readonly fires: (now: number) => Fired;
  readonly nearMissWhat: string;
  readonly nearMiss: (now: number) => readonly OktaEventJson[] | Written;
  /** Whether `expect` lists the findings in the order the query must return them. @default false (compared as a set) */
  readonly ordered?: boolean;
  /**
   * Whether the firing scenario, moved so that its first event is just inside the lookback, must
   * still fire. False where the query reports a shorter window than it reads. @default true
   */
  readonly firesAtLookbackEdge?: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ev = (input: EventInput): OktaEventJson => oktaEvent(input);

const failedSignIn = (who: Person | string, at: number, from: Place, reason = 'INVALID_CREDENTIALS'): OktaEventJson =>
  ev({
    eventType: 'user.session.start',
    legacyEventType: 'core.user_auth.login_failed',
    at,
    from,
    actor: typeof who === 'string' ? { id: 'unknown', type: 'User', alternateId: who, displayName: 'unknown', detailEntry: null } : who,
    outcome: { result: 'FAILURE', reason },
  });

const signIn = (who: Person, at: number, from: Place, session = `102${who.id.slice(3, 12)}${at}`): OktaEventJson =>
  ev({ eventType: 'user.session.start', legacyEventType: 'core.user_auth.login_success', at, from, actor: who, session });

/** A factor enrolled by its user (the Okta Verify enrolment's last step). */
const factorActivated = (who: Person, at: number, from: Place): OktaEventJson =>
  ev({
    eventType: 'user.mfa.factor.activate',
    legacyEventType: 'core.user.factor.activate',
    at,
    from,
    actor: who,
    session: `102${who.id.slice(3, 12)}enrol`,
    target: [userTarget(who), target('AuthenticatorEnrollment', 'Okta Verify')],
    debugData: { factor: 'OKTA_VERIFY_PUSH' },
  });

const people = (prefix: string, n: number): Person[] => Array.from({ length: n }, (_, i) => person(`${prefix}${i + 1}.user`));

const admin = person('alex.admin');
const support = { id: '00u1supp0rtEng1neer', type: 'User', alternateId: 'support.engineer@okta.com', displayName: 'Okta Support', detailEntry: null };

/** One Okta Verify push: one send event per device, 0.5 s apart. */
const pushSent = (who: Person, at: number, session: string, from: Place, devices = 1): OktaEventJson[] =>
  Array.from({ length: devices }, (_, i) =>
    ev({ eventType: 'system.push.send_factor_verify_push', at: at + i * 500, actor: who, session, from, target: [target('AuthenticatorEnrollment', 'Okta Verify')] }),
  );

const pushAnswer = (who: Person, at: number, session: string, from: Place, answer: 'approve' | 'deny' | 'deny-classic'): OktaEventJson[] => {
  const ok = answer === 'approve';
  const debugData: Record<string, string> = { factor: 'OKTA_VERIFY_PUSH', factorIntent: 'AUTHENTICATION' };
  if (answer !== 'deny-classic') debugData.pushOnlyResponseType = ok ? 'OV_RESPONSE_APPROVE' : 'OV_RESPONSE_DENY';
  const events = [
    ev({
      eventType: 'user.authentication.auth_via_mfa',
      legacyEventType: ok ? 'core.user.factor.attempt_success' : 'core.user.factor.attempt_fail',
      at,
      actor: who,
      session,
      from,
      outcome: ok ? { result: 'SUCCESS' } : { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' },
      target: [userTarget(who), target('AuthenticatorEnrollment', 'Okta Verify')],
      debugData,
    }),
  ];
  if (answer === 'deny-classic') {
    events.push(
      ev({ eventType: 'user.mfa.okta_verify.deny_push', at: at + 300, actor: who, session, from, outcome: { result: 'FAILURE', reason: 'User rejected Okta push verify' }, debugData: { factor: 'OKTA_VERIFY_PUSH' } }),
    );
  }
  return events;
};

/** A change made by an admin in the Admin Console. */
const adminChange = (eventType: string, at: number, targets: Target[], debugData?: Record<string, string>): OktaEventJson =>
  ev({ eventType, at, actor: admin, from: PLACES.sfOffice(), session: '102adminSession0001', target: targets, debugData });

/** A policy rule target with the changeDetails Okta logs for a rule update: the rule actions as JSON text. */
const ruleChange = (name: string, fromMode: string, toMode: string): Target => {
  const actions = (factorMode: string): string =>
    JSON.stringify({ appSignOn: { access: 'ALLOW', verificationMethod: { factorMode, type: 'ASSURANCE', reauthenticateIn: 'PT2H', constraints: [{ possession: { required: true } }] } } });
  return { ...target('PolicyRule', name), changeDetails: { from: { policyRuleActionJson: actions(fromMode) }, to: { policyRuleActionJson: actions(toMode) } } };
};

const oneEventFinding = (events: OktaEventJson[]): Fired => ({ events, expect: events.map((e) => ({ event_uuid: e.uuid })) });

export const SCENARIOS: readonly QueryScenarios[] = [
  {
    id: 'okta-support-impersonation',
    what: 'support initiates an impersonation 8 h 1 min after the last grant',
    fires: (now) => {
      const initiate = ev({ eventType: 'user.session.impersonation.initiate', at: now - 40 * MINUTE, actor: support, from: PLACES.oktaSupport(), target: [target('AppInstance', 'Okta Admin Console'), userTarget(admin)] });
      return {
        events: [
          ev({ eventType: 'user.session.impersonation.grant', at: now - 40 * MINUTE - 8 * HOUR - MINUTE, actor: admin, from: PLACES.sfOffice(), target: [userTarget(admin)] }),
          initiate,
          ev({ eventType: 'user.session.impersonation.extend', at: now - 20 * MINUTE, actor: support, from: PLACES.oktaSupport(), target: [userTarget(admin)] }),
        ],
        expect: [{ actor_id: support.id, initiated_at: initiate.published, impersonated_user: admin.login }],
      };
    },
    nearMissWhat: 'the customer granted access 7 h 59 min before the initiation',
    nearMiss: (now) => [
      ev({ eventType: 'user.session.impersonation.grant', at: now - 40 * MINUTE - 8 * HOUR + MINUTE, actor: admin, from: PLACES.sfOffice(), target: [userTarget(admin)] }),
      ev({ eventType: 'user.session.impersonation.initiate', at: now - 40 * MINUTE, actor: support, from: PLACES.oktaSupport(), target: [userTarget(admin)] }),
      ev({ eventType: 'user.session.impersonation.end', at: now - 10 * MINUTE, actor: support, from: PLACES.oktaSupport(), target: [userTarget(admin)] }),
    ],
    // Initiations are reported for the last 2 hours; the 10 h lookback is for finding grants.
    firesAtLookbackEdge: false,
  },
  {
    id: 'okta-support-password-mfa-reset',
    what: 'system@okta.com resets all factors and the password of a user, transaction unknown, no user agent (User not the first target)',
    fires: (now) => {
      const victim = person('dana.victim');
      const events = [
        ev({ eventType: 'user.mfa.factor.reset_all', at: now - 30 * MINUTE, actor: SYSTEM, from: null, transaction: { type: 'WEB', id: 'unknown' }, target: [target('AppInstance', 'Okta Admin Console'), userTarget(victim)] }),
        ev({ eventType: 'user.account.reset_password', at: now - 29 * MINUTE, actor: SYSTEM, from: null, transaction: { type: 'WEB', id: 'unknown' }, target: [userTarget(victim)] }),
      ];
      return { events, expect: events.map((e) => ({ event_uuid: e.uuid, target_user: victim.login })) };
    },
    nearMissWhat: "Okta's directory password sync (a JOB with a real transaction id), and a reset with transaction unknown that has a user agent",
    nearMiss: (now) => [
      ev({ eventType: 'user.account.update_password', at: now - 30 * MINUTE, actor: SYSTEM, from: null, transaction: { type: 'JOB', id: 'sync4kq2ZnIPQmS0Hl5d7' }, target: [userTarget(person('sam.sync'))] }),
      ev({ eventType: 'user.account.reset_password', at: now - 25 * MINUTE, actor: SYSTEM, from: PLACES.sfOffice(), transaction: { type: 'WEB', id: 'unknown' }, target: [userTarget(person('sam.sync'))] }),
    ],
  },
  {
    id: 'mfa-push-bombing',
    keys: ['session_id', 'actor_id', 'severity'],
    what: 'four pushes (two devices each) in two minutes, denied twice, then approved (critical); and three sessions of three pushes, each denied in only one of the three forms (high)',
    fires: (now) => {
      const victim = person('pat.victim');
      const other = person('quinn.victim');
      const from = PLACES.amsterdamProxy();
      const t0 = now - 30 * MINUTE;
      const s1 = '102bombSession0000000000001';
      const s2 = '102bombSession0000000000002';
      const s3 = '102bombSession0000000000003';
      const s4 = '102bombSession0000000000004';
      const third = person('ray.victim');
      const fourth = person('sue.victim');
      const events = [
        ...pushSent(victim, t0, s1, from, 2),
        ...pushAnswer(victim, t0 + 10_000, s1, from, 'deny'),
        ...pushSent(victim, t0 + 40_000, s1, from, 2),
        ...pushAnswer(victim, t0 + 50_000, s1, from, 'deny-classic'),
        ...pushSent(victim, t0 + 80_000, s1, from, 2),
        ...pushSent(victim, t0 + 120_000, s1, from, 2),
        ...pushAnswer(victim, t0 + 130_000, s1, from, 'approve'),
        ...pushSent(other, t0, s2, from),
        ev({ eventType: 'user.mfa.okta_verify.deny_push', at: t0 + 8_000, actor: other, session: s2, from, outcome: { result: 'FAILURE', reason: 'User rejected Okta push verify' } }),
        ...pushSent(other, t0 + 60_000, s2, from),
        ...pushSent(other, t0 + 120_000, s2, from),
        // Third denial form alone: an answer with outcome reason INVALID_CREDENTIALS only.
        ...pushSent(third, t0, s3, from),
        ...pushSent(third, t0 + 30_000, s3, from),
        ...pushSent(third, t0 + 60_000, s3, from),
        ev({ eventType: 'user.authentication.auth_via_mfa', at: t0 + 65_000, actor: third, session: s3, from, outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' }, debugData: { factor: 'OKTA_VERIFY_PUSH' } }),
        // Second denial form alone: pushOnlyResponseType OV_RESPONSE_DENY with no reason.
        ...pushSent(fourth, t0, s4, from),
        ...pushSent(fourth, t0 + 30_000, s4, from),
        ...pushSent(fourth, t0 + 60_000, s4, from),
        ev({ eventType: 'user.authentication.auth_via_mfa', at: t0 + 65_000, actor: fourth, session: s4, from, outcome: { result: 'FAILURE', reason: null }, debugData: { factor: 'OKTA_VERIFY_PUSH', pushOnlyResponseType: 'OV_RESPONSE_DENY' } }),
      ];
      return {
        events,
        expect: [
          { session_id: s1, actor_id: victim.id, severity: 'critical', pushes: 4, denials: 2 },
          { session_id: s2, actor_id: other.id, severity: 'high', pushes: 3, denials: 1 },
          { session_id: s3, actor_id: third.id, severity: 'high', pushes: 3, denials: 1 },
          { session_id: s4, actor_id: fourth.id, severity: 'high', pushes: 3, denials: 1 },
        ],
      };
    },
    nearMissWhat: 'a user denies the first push and approves the second; three pushes with a denial spread over 25 minutes; five sends each under 2 s apart (one push) and a denial',
    nearMiss: (now) => {
      const t0 = now - 40 * MINUTE;
      const a = person('ann.normal');
      const b = person('ben.slow');
      const c = person('cy.devices');
      const home = PLACES.sfHome();
      return [
        ...pushSent(a, t0, '102normal', home, 2),
        ...pushAnswer(a, t0 + 6_000, '102normal', home, 'deny'),
        ...pushSent(a, t0 + 20_000, '102normal', home, 2),
        ...pushAnswer(a, t0 + 30_000, '102normal', home, 'approve'),
        ...pushSent(b, t0, '102slow', home),
        ...pushAnswer(b, t0 + 5_000, '102slow', home, 'deny'),
        ...pushSent(b, t0 + 11 * MINUTE, '102slow', home),
        ...pushSent(b, t0 + 22 * MINUTE, '102slow', home),
        ...pushSent(c, t0, '102devices', home, 5),
        ...pushAnswer(c, t0 + 4_000, '102devices', home, 'deny'),
      ];
    },
  },
  {
    id: 'admin-role-granted',
    what: 'an admin grants Super administrator to a user and an admin role to a group',
    fires: (now) => {
      const toUser = adminChange('user.account.privilege.grant', now - 30 * MINUTE, [target('AppInstance', 'Okta Admin Console'), userTarget(person('evan.new'))], { privilegeGranted: 'Super administrator' });
      const toGroup = adminChange('group.privilege.grant', now - 20 * MINUTE, [target('UserGroup', 'Helpdesk')], { privilegeGranted: 'Help Desk administrator' });
      return {
        events: [toUser, toGroup],
        expect: [
          { event_uuid: toUser.uuid, target_user: person('evan.new').login, target_group: null, privilege: 'Super administrator' },
          { event_uuid: toGroup.uuid, target_user: null, target_group: 'Helpdesk', privilege: 'Help Desk administrator' },
        ],
      };
    },
    nearMissWhat: 'a role revoked, and a user added to a group',
    nearMiss: (now) => [
      adminChange('user.account.privilege.revoke', now - 30 * MINUTE, [userTarget(person('evan.new'))]),
      adminChange('group.user_membership.add', now - 20 * MINUTE, [userTarget(person('evan.new')), target('UserGroup', 'Helpdesk')]),
    ],
  },
  {
    id: 'api-token-created',
    what: 'an admin creates an SSWS API token',
    fires: (now) => oneEventFinding([adminChange('system.api_token.create', now - 30 * MINUTE, [target('Token', 'backup-sync')])]),
    nearMissWhat: 'a token revoked, and an OAuth access token granted to an app',
    nearMiss: (now) => [
      adminChange('system.api_token.revoke', now - 30 * MINUTE, [target('Token', 'old-sync')]),
      adminChange('app.oauth2.as.token.grant.access_token', now - 20 * MINUTE, [target('access_token', 'Access Token')]),
    ],
  },
  {
    id: 'identity-provider-changed',
    what: 'an identity provider created and then updated',
    fires: (now) =>
      oneEventFinding([
        adminChange('system.idp.lifecycle.create', now - 30 * MINUTE, [target('IdentityProvider', 'Partner SAML IdP')]),
        adminChange('system.idp.lifecycle.update', now - 25 * MINUTE, [target('IdentityProvider', 'Partner SAML IdP')]),
      ]),
    nearMissWhat: 'a user signs in through an identity provider',
    nearMiss: (now) => [ev({ eventType: 'user.authentication.auth_via_IDP', at: now - 30 * MINUTE, target: [target('IdentityProvider', 'Partner SAML IdP')] })],
  },
  {
    id: 'sign-on-policy-weakened',
    what: 'a sign-on policy rule deactivated, a policy deleted, and a rule updated from two factors to one (changeDetails)',
    fires: (now) =>
      oneEventFinding([
        adminChange('policy.rule.deactivate', now - 30 * MINUTE, [
          target('PolicyEntity', 'Global Session Policy', { policyType: 'OKTA_SIGN_ON' }),
          target('PolicyRule', 'Require MFA outside office networks'),
        ]),
        adminChange('policy.lifecycle.delete', now - 20 * MINUTE, [target('PolicyEntity', 'Contractors MFA', { policyType: 'MFA_ENROLL' })]),
        adminChange('policy.rule.update', now - 10 * MINUTE, [
          target('PolicyEntity', '1Password', { policyType: 'ACCESS_POLICY' }),
          ruleChange('Require two factors', '2FA', '1FA'),
        ]),
      ]),
    nearMissWhat: 'a rule updated without changeDetails, a rule raised from one factor to two, a failed downgrade, a policy activated, and sign-on policy evaluations',
    nearMiss: (now) => [
      adminChange('policy.rule.update', now - 30 * MINUTE, [target('PolicyEntity', 'Global Session Policy'), target('PolicyRule', 'Default Rule')]),
      adminChange('policy.rule.update', now - 28 * MINUTE, [target('PolicyEntity', '1Password'), ruleChange('Require two factors', '1FA', '2FA')]),
      ev({ eventType: 'policy.rule.update', at: now - 27 * MINUTE, actor: admin, from: PLACES.sfOffice(), outcome: { result: 'FAILURE', reason: 'Access denied' }, target: [target('PolicyEntity', '1Password'), ruleChange('Require two factors', '2FA', '1FA')] }),
      adminChange('policy.lifecycle.activate', now - 25 * MINUTE, [target('PolicyEntity', 'Contractors MFA')]),
      ev({ eventType: 'policy.evaluate_sign_on', at: now - 20 * MINUTE, outcome: { result: 'ALLOW', reason: 'Sign-on policy evaluation resulted in ALLOW' }, target: [target('PolicyEntity', 'Global Session Policy'), target('PolicyRule', 'Default Rule')] }),
    ],
  },
  {
    id: 'network-zone-changed',
    what: 'a network zone updated and its blocklist removed',
    fires: (now) =>
      oneEventFinding([
        adminChange('zone.update', now - 30 * MINUTE, [target('NetworkZone', 'LegacyIpZone')]),
        adminChange('zone.remove_blacklist', now - 20 * MINUTE, [target('NetworkZone', 'BlockedIpZone')]),
      ]),
    nearMissWhat: 'a sign-in from an address inside a named zone (client.zone set)',
    nearMiss: (now) => [ev({ eventType: 'user.session.start', at: now - 30 * MINUTE, from: PLACES.sfOffice(), zone: 'LegacyIpZone', session: '102zoneUser' })],
  },
  {
    id: 'log-stream-changed',
    what: 'the log stream deactivated',
    fires: (now) => oneEventFinding([adminChange('system.log_stream.lifecycle.deactivate', now - 30 * MINUTE, [target('LogStream', 'SIEM EventBridge')])]),
    nearMissWhat: 'an event hook created (another integration of the same event family shape)',
    nearMiss: (now) => [adminChange('system.event_hook.lifecycle.create', now - 30 * MINUTE, [target('EventHook', 'HR sync')])],
  },
  {
    id: 'password-spray',
    what: 'one address fails as 12 users in 20 minutes and succeeds as one',
    fires: (now) => {
      const from = PLACES.bucharest('203.0.113.7');
      const victims = people('spray', 12);
      return {
        events: [...victims.map((v, i) => failedSignIn(v, now - 40 * MINUTE + i * 100_000, from)), signIn(victims[3], now - 10 * MINUTE, from)],
        expect: [{ src_ip: '203.0.113.7', failed_users: 12, succeeded_users: 1 }],
      };
    },
    nearMissWhat: 'an office address where 10 users mistype and 40 sign in; an address failing as only 9 users',
    nearMiss: (now) => {
      const office = PLACES.sfOffice();
      const staff = people('office', 40);
      const other = PLACES.bucharest('203.0.113.8');
      return [
        ...staff.slice(0, 10).map((p, i) => failedSignIn(p, now - 50 * MINUTE + i * MINUTE, office)),
        ...staff.map((p, i) => signIn(p, now - 45 * MINUTE + i * 30_000, office)),
        ...people('nine', 9).map((p, i) => failedSignIn(p, now - 30 * MINUTE + i * MINUTE, other)),
      ];
    },
  },
  {
    id: 'credential-stuffing',
    what: '12 usernames (4 unknown) fail from 4 rotating addresses of one hosting network',
    fires: (now) => {
      const names: (Person | string)[] = [...people('stuffed', 8), 'ceo@acme.example', 'admin@acme.example', 'test@acme.example', 'hr@acme.example'];
      const events = names.map((who, i) =>
        failedSignIn(who, now - 40 * MINUTE + i * 60_000, PLACES.amsterdamProxy(`198.51.100.${10 + (i % 4)}`), typeof who === 'string' ? 'UNKNOWN_USER' : 'INVALID_CREDENTIALS'),
      );
      return { events, expect: [{ as_number: 9009, failed_users: 12, unknown_users: 4, failing_ips: 4 }] };
    },
    nearMissWhat: 'a mobile carrier where 10 users fail from 5 addresses while 40 sign in',
    nearMiss: (now) => {
      const users = people('mobile', 40);
      return [
        ...users.slice(0, 10).map((p, i) => failedSignIn(p, now - 40 * MINUTE + i * MINUTE, PLACES.tmobile(`172.58.10.${i % 5}`))),
        ...users.map((p, i) => signIn(p, now - 35 * MINUTE + i * 30_000, PLACES.tmobile(`172.58.11.${i % 7}`))),
      ];
    },
  },
  {
    id: 'brute-force-lockout',
    what: 'one user fails 10 times; another fails 3 times and is locked out',
    fires: (now) => {
      const guessed = person('gus.guessed');
      const locked = person('lou.locked');
      const from = PLACES.bucharest('203.0.113.9');
      return {
        events: [
          ...Array.from({ length: 10 }, (_, i) => failedSignIn(guessed, now - 40 * MINUTE + i * 30_000, from)),
          ...Array.from({ length: 3 }, (_, i) => failedSignIn(locked, now - 30 * MINUTE + i * 30_000, from)),
          ev({ eventType: 'user.account.lock', at: now - 28 * MINUTE, actor: SYSTEM, from, outcome: { result: 'SUCCESS' }, target: [userTarget(locked)] }),
        ],
        expect: [
          { user_login: guessed.login, failures: 10, lockouts: 0 },
          { user_login: locked.login, failures: 3, lockouts: 1 },
        ],
      };
    },
    nearMissWhat: 'a user fails 9 times; another fails twice and then signs in',
    nearMiss: (now) => {
      const nine = person('nina.nine');
      const two = person('tom.typo');
      return [
        ...Array.from({ length: 9 }, (_, i) => failedSignIn(nine, now - 40 * MINUTE + i * 30_000, PLACES.sfHome())),
        failedSignIn(two, now - 20 * MINUTE, PLACES.sfHome()),
        failedSignIn(two, now - 19 * MINUTE, PLACES.sfHome()),
        signIn(two, now - 18 * MINUTE, PLACES.sfHome()),
      ];
    },
  },
  {
    id: 'success-after-credential-attack',
    what: 'a spray source fails as 6 users then signs in as a seventh; a brute-forced user signs in after 10 failures',
    fires: (now) => {
      const spray = PLACES.bucharest('203.0.113.20');
      const victims = people('sprayed', 7);
      const forced = person('bruno.forced');
      const guessing = PLACES.amsterdamProxy('198.51.100.77');
      return {
        events: [
          ...victims.slice(0, 6).map((v, i) => failedSignIn(v, now - 50 * MINUTE + i * MINUTE, spray)),
          signIn(victims[6], now - 40 * MINUTE, spray),
          ...Array.from({ length: 10 }, (_, i) => failedSignIn(forced, now - 30 * MINUTE + i * 20_000, guessing)),
          signIn(forced, now - 20 * MINUTE, guessing),
        ],
        expect: [
          { user_login: victims[6].login, src_ip: '203.0.113.20', attack: 'password spray' },
          { user_login: forced.login, src_ip: '198.51.100.77', attack: 'brute force' },
        ],
      };
    },
    nearMissWhat: 'a user mistypes 3 times then signs in; an office address with 6 failing and 30 succeeding users',
    nearMiss: (now) => {
      const office = PLACES.sfOffice();
      const staff = people('staff', 30);
      const me = person('mia.mistype');
      return [
        ...[0, 1, 2].map((i) => failedSignIn(me, now - 50 * MINUTE + i * MINUTE, PLACES.sfHome())),
        signIn(me, now - 46 * MINUTE, PLACES.sfHome()),
        ...staff.slice(0, 6).map((p, i) => failedSignIn(p, now - 40 * MINUTE + i * MINUTE, office)),
        ...staff.map((p, i) => signIn(p, now - 30 * MINUTE + i * 20_000, office)),
      ];
    },
  },
  {
    id: 'session-roaming',
    what: 'one session used from the user’s home network, then from a hosting network abroad; two sessions from one network that Okta flags as hijacked (securityContext.risk, and the risk text of debugData)',
    fires: (now) => {
      const user = person('ria.roamed');
      const session = '102stolenCookieSession0001';
      const flagged = '102hijackedSession0002';
      const flaggedText = '102hijackedSession0003';
      const other = person('hal.hijacked');
      return {
        events: [
          signIn(user, now - 50 * MINUTE, PLACES.sfHome(), session),
          ev({ eventType: 'user.authentication.sso', at: now - 49 * MINUTE, actor: user, from: PLACES.sfHome(), session }),
          ev({ eventType: 'user.authentication.sso', at: now - 20 * MINUTE, actor: user, from: PLACES.amsterdamProxy('198.51.100.40'), session }),
          signIn(other, now - 40 * MINUTE, PLACES.sfHome(), flagged),
          ev({
            eventType: 'user.risk.detect',
            at: now - 30 * MINUTE,
            actor: SYSTEM,
            from: null,
            session: flagged,
            target: [userTarget(other)],
            risk: { level: 'MEDIUM', previousLevel: 'LOW', detectionName: 'Session Influenced User Risk', issuer: 'OKTA', reasons: ['Associated sessionId is suspected to be hijacked'] },
          }),
          signIn(other, now - 35 * MINUTE, PLACES.oakland(), flaggedText),
          ev({
            eventType: 'user.risk.change',
            at: now - 25 * MINUTE,
            actor: SYSTEM,
            from: null,
            session: flaggedText,
            target: [userTarget(other)],
            debugData: { risk: '{previousLevel=LOW, level=MEDIUM, detectionName=Session Influenced User Risk, reasons=Associated sessionId is suspected to be hijacked, issuer=OKTA}' },
          }),
        ],
        expect: [
          { session_id: session, networks: 2, users: user.login, okta_flagged: false },
          { session_id: flagged, networks: 1, users: other.login, okta_flagged: true },
          { session_id: flaggedText, networks: 1, users: other.login, okta_flagged: true },
        ],
      };
    },
    nearMissWhat: 'a phone session moving between three addresses of one carrier; token refreshes with session unknown from two networks; a session whose Okta risk is a brute-force detection',
    nearMiss: (now) => {
      const user = person('mo.mobile');
      const session = '102phoneSession0001';
      return [
        signIn(user, now - 50 * MINUTE, PLACES.tmobile('172.58.1.1'), session),
        ev({ eventType: 'user.authentication.sso', at: now - 40 * MINUTE, actor: user, from: PLACES.tmobile('172.58.7.9'), session }),
        ev({ eventType: 'user.authentication.sso', at: now - 30 * MINUTE, actor: user, from: PLACES.tmobile('172.58.3.3'), session }),
        ev({ eventType: 'app.oauth2.as.token.grant.access_token', at: now - 20 * MINUTE, actor: user, from: PLACES.sfHome(), session: 'unknown' }),
        ev({ eventType: 'app.oauth2.as.token.grant.access_token', at: now - 10 * MINUTE, actor: user, from: PLACES.tmobile(), session: 'unknown' }),
        ev({
          eventType: 'user.risk.detect',
          at: now - 15 * MINUTE,
          actor: SYSTEM,
          from: null,
          session,
          target: [userTarget(user)],
          risk: { level: 'MEDIUM', previousLevel: 'LOW', detectionName: 'Suspected Brute Force Attack', issuer: 'OKTA', reasons: ['Many failed sign-ins'] },
          debugData: { risk: '{previousLevel=LOW, level=MEDIUM, detectionName=Suspected Brute Force Attack, reasons=Many failed sign-ins, issuer=OKTA}' },
        }),
      ];
    },
  },
  {
    id: 'anonymizing-proxy-sign-in',
    what: 'two sign-ins of one user through an anonymizing proxy (isProxy), one through a residential proxy and one through Tor that isProxy does not flag (ipServiceCategories)',
    fires: (now) => {
      const user = person('val.vpn');
      const stuffed = person('res.proxied');
      const tor = PLACES.bucharest('203.0.113.90');
      const residential = PLACES.chicagoResidential();
      return {
        events: [
          failedSignIn(user, now - 30 * MINUTE, PLACES.amsterdamProxy()),
          signIn(user, now - 29 * MINUTE, PLACES.amsterdamProxy()),
          ev({
            eventType: 'user.session.start',
            at: now - 25 * MINUTE,
            from: residential,
            actor: stuffed,
            outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' },
            ipDetails: ipDetailsOf(residential, [{ type: 'Residential Proxy', operator: 'Bright Data', isAnonymous: null }]),
          }),
          ev({ eventType: 'user.session.start', at: now - 20 * MINUTE, from: tor, actor: stuffed, session: '102torSession', ipDetails: ipDetailsOf(tor, [{ type: 'Tor', operator: 'Tor Project', isAnonymous: true }]) }),
        ],
        expect: [
          { user_login: user.login, src_ip: PLACES.amsterdamProxy().ip, sign_ins: 2, successes: 1, proxy_type: 'Proxy', proxy_operator: null },
          { user_login: stuffed.login, src_ip: residential.ip, sign_ins: 1, successes: 0, proxy_type: 'Residential Proxy', proxy_operator: 'Bright Data' },
          { user_login: stuffed.login, src_ip: tor.ip, sign_ins: 1, successes: 1, proxy_type: 'Tor', proxy_operator: 'Tor Project' },
        ],
      };
    },
    nearMissWhat: "a sign-in from a non-proxy foreign address, one through the company's own VPN egress (a VPN category Okta does not mark anonymous), and single sign-on to an app through a proxy",
    nearMiss: (now) => [
      signIn(person('val.vpn'), now - 30 * MINUTE, PLACES.bucharest()),
      ev({
        eventType: 'user.session.start',
        at: now - 25 * MINUTE,
        from: PLACES.sfOffice('64.125.77.9'),
        actor: person('val.vpn'),
        ipDetails: ipDetailsOf(PLACES.sfOffice(), [{ type: 'VPN', operator: 'Zscaler', isAnonymous: false }]),
      }),
      ev({ eventType: 'user.authentication.sso', at: now - 20 * MINUTE, actor: person('val.vpn'), from: PLACES.amsterdamProxy(), session: '102proxySession' }),
    ],
  },
  {
    id: 'threatinsight-detected',
    what: 'ThreatInsight flags one address three times',
    fires: (now) => ({
      events: [0, 1, 2].map((i) =>
        ev({ eventType: 'security.threat.detected', at: now - 30 * MINUTE + i * MINUTE, actor: { id: 'unknown', type: 'User', alternateId: 'unknown', displayName: 'unknown', detailEntry: null }, from: PLACES.bucharest('203.0.113.50'), outcome: { result: 'DENY', reason: 'Password Spray' } }),
      ),
      expect: [{ src_ip: '203.0.113.50', events: 3, reasons: 'Password Spray' }],
    }),
    nearMissWhat: 'a failed sign-in whose debugData says threatSuspected true',
    nearMiss: (now) => [
      ev({
        eventType: 'user.session.start',
        at: now - 30 * MINUTE,
        actor: person('ty.threat'),
        from: PLACES.bucharest('203.0.113.51'),
        outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' },
        debugData: { threatSuspected: 'true' },
      }),
    ],
  },
  {
    id: 'user-reported-suspicious-activity',
    what: 'a user reports a sign-in they did not make',
    fires: (now) =>
      oneEventFinding([
        ev({
          eventType: 'user.account.report_suspicious_activity_by_enduser',
          at: now - 30 * MINUTE,
          actor: person('rae.reporter'),
          target: [userTarget(person('rae.reporter'))],
          debugData: { suspiciousActivityEventType: 'user.session.start', suspiciousActivityEventId: 'f0c2cd27-0a2e-11ef-9a5f-0b2f4f8e1c11', suspiciousActivityEventIp: '198.51.100.23' },
        }),
      ]),
    nearMissWhat: 'the user changes their own password',
    nearMiss: (now) => [ev({ eventType: 'user.account.update_password', at: now - 30 * MINUTE, actor: person('rae.reporter'), target: [userTarget(person('rae.reporter'))] })],
  },
  {
    id: 'fastpass-phishing-declined',
    what: 'FastPass declines to answer a relayed sign-in page',
    fires: (now) =>
      oneEventFinding([
        ev({
          eventType: 'user.authentication.auth_via_mfa',
          at: now - 30 * MINUTE,
          actor: person('phil.phished'),
          outcome: { result: 'FAILURE', reason: 'FastPass declined phishing attempt' },
          debugData: { factor: 'SIGNED_NONCE' },
          target: [userTarget(person('phil.phished'))],
        }),
      ]),
    nearMissWhat: 'a FastPass verification that fails for another reason, and one that succeeds',
    nearMiss: (now) => [
      ev({ eventType: 'user.authentication.auth_via_mfa', at: now - 30 * MINUTE, actor: person('phil.phished'), outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' }, debugData: { factor: 'SIGNED_NONCE' } }),
      ev({ eventType: 'user.authentication.auth_via_mfa', at: now - 20 * MINUTE, actor: person('phil.phished'), outcome: { result: 'SUCCESS' }, debugData: { factor: 'SIGNED_NONCE' } }),
    ],
  },
  {
    id: 'impossible-travel',
    what: 'sign-ins from San Francisco and, 30 minutes later, Bucharest',
    fires: (now) => {
      const user = person('ivy.travel');
      const second = signIn(user, now - 150 * MINUTE, PLACES.bucharest());
      return { events: [signIn(user, now - 180 * MINUTE, PLACES.sfHome()), second], expect: [{ actor_id: user.id, to_time: second.published, from_city: 'San Francisco', to_city: 'Bucharest' }] };
    },
    nearMissWhat: 'San Francisco then London 11 hours later (a flight), and San Francisco then Oakland 5 minutes later',
    nearMiss: (now) => {
      const flyer = person('fay.flyer');
      const local = person('lee.local');
      return [
        signIn(flyer, now - 13 * HOUR, PLACES.sfHome()),
        signIn(flyer, now - 2 * HOUR, PLACES.london()),
        signIn(local, now - 60 * MINUTE, PLACES.sfHome()),
        signIn(local, now - 55 * MINUTE, PLACES.oakland()),
      ];
    },
  },
  {
    id: 'mfa-reset-then-new-place-sign-in',
    what:
      'a help-desk reset then sign-in and enrolment from a new address (high); Okta resets a dormant account, then a sign-in (critical); ' +
      'a user removes their own factor (no User target), then enrols through a proxy (critical); a sign-in from an address last used 21 h 10 min before the reset (high); ' +
      'a help-desk reset then a sign-in through a residential proxy that isProxy does not flag (critical, by ipServiceCategories); ' +
      "the anonymizer's near miss: a help-desk reset then a sign-in through a VPN category Okta does not mark anonymous (high, not an anonymizer)",
    fires: (now) => {
      const helped = person('vic.helpdesk');
      const dormant = person('dora.dormant');
      const own = person('sol.selfreset');
      const traveller = person('lon.traveller');
      const attacker = PLACES.bucharest('203.0.113.30');
      const proxy = PLACES.amsterdamProxy('198.51.100.61');
      const r1 = now - 150 * MINUTE;
      const r2 = now - 90 * MINUTE;
      const r3 = now - 100 * MINUTE;
      const r4 = now - 150 * MINUTE;
      const reset1 = adminChange('user.mfa.factor.reset_all', r1, [target('AppInstance', 'Okta Admin Console'), userTarget(helped)]);
      const in1 = signIn(helped, r1 + 10 * MINUTE, attacker);
      const enrol1 = factorActivated(helped, r1 + 12 * MINUTE, attacker);
      const reset2 = ev({ eventType: 'system.mfa.factor.deactivate', at: r2, actor: SYSTEM, from: null, transaction: { type: 'WEB', id: 'unknown' }, target: [target('AuthenticatorEnrollment', 'Okta Verify'), userTarget(dormant)] });
      const in2 = signIn(dormant, r2 + 20 * MINUTE, PLACES.bucharest('203.0.113.31'));
      const before3 = signIn(own, r3 - 3 * HOUR, PLACES.sfHome('73.162.18.60'));
      const reset3 = ev({ eventType: 'user.mfa.factor.deactivate', at: r3, actor: own, from: PLACES.sfHome('73.162.18.60'), target: [target('AuthenticatorEnrollment', 'Okta Verify')] });
      const enrol3 = factorActivated(own, r3 + 5 * MINUTE, proxy);
      const home4 = signIn(traveller, r4 - 3 * HOUR, PLACES.sfHome('73.162.18.61'));
      const reset4 = adminChange('user.mfa.factor.deactivate', r4, [userTarget(traveller), target('AuthenticatorEnrollment', 'Google Authenticator')]);
      const in4 = signIn(traveller, r4 + 30 * MINUTE, PLACES.london());
      const stuffed = person('rita.residential');
      const residential = PLACES.chicagoResidential('198.51.100.78');
      const r5 = now - 120 * MINUTE;
      const reset5 = adminChange('user.mfa.factor.reset_all', r5, [userTarget(stuffed)]);
      const in5 = ev({
        eventType: 'user.session.start',
        at: r5 + 8 * MINUTE,
        from: residential,
        actor: stuffed,
        session: '102residentialSession',
        ipDetails: ipDetailsOf(residential, [{ type: 'Residential Proxy', operator: 'Bright Data', isAnonymous: null }]),
      });
      const vpnUser = person('zed.zscaler');
      const egress = PLACES.sfOffice('64.125.77.10');
      const r6 = now - 80 * MINUTE;
      const reset6 = adminChange('user.mfa.factor.reset_all', r6, [userTarget(vpnUser)]);
      const in6 = ev({
        eventType: 'user.session.start',
        at: r6 + 6 * MINUTE,
        from: egress,
        actor: vpnUser,
        session: '102zscalerSession',
        ipDetails: ipDetailsOf(egress, [{ type: 'VPN', operator: 'Zscaler', isAnonymous: false }]),
      });
      return {
        events: [
          signIn(helped, r1 - 5 * HOUR, PLACES.sfHome('73.162.18.62')),
          reset1,
          in1,
          enrol1,
          reset2,
          in2,
          before3,
          reset3,
          enrol3,
          signIn(traveller, r4 - 21 * HOUR - 10 * MINUTE, PLACES.london()),
          home4,
          reset4,
          in4,
          signIn(stuffed, r5 - 4 * HOUR, PLACES.sfHome('73.162.18.63')),
          reset5,
          in5,
          signIn(vpnUser, r6 - 4 * HOUR, PLACES.sfHome('73.162.18.64')),
          reset6,
          in6,
        ],
        expect: [
          { user_login: helped.login, reset_at: reset1.published, src_ip: attacker.ip, reset_by: admin.login, sign_in_at: in1.published, factor_enrolled_at: enrol1.published, severity: 'high', city: 'Bucharest', proxy: 'no', last_known_sign_in_at: iso(r1 - 5 * HOUR) },
          { user_login: dormant.login, reset_at: reset2.published, src_ip: '203.0.113.31', reset_by: 'system@okta.com', sign_in_at: in2.published, factor_enrolled_at: null, severity: 'critical', city: 'Bucharest', proxy: 'no', last_known_sign_in_at: null },
          { user_login: own.login, reset_at: reset3.published, src_ip: proxy.ip, reset_by: own.login, sign_in_at: null, factor_enrolled_at: enrol3.published, severity: 'critical', city: 'Amsterdam', proxy: 'yes', last_known_sign_in_at: before3.published },
          { user_login: traveller.login, reset_at: reset4.published, src_ip: PLACES.london().ip, reset_by: admin.login, sign_in_at: in4.published, factor_enrolled_at: null, severity: 'high', city: 'London', proxy: 'no', last_known_sign_in_at: home4.published },
          { user_login: stuffed.login, reset_at: reset5.published, src_ip: residential.ip, reset_by: admin.login, sign_in_at: in5.published, factor_enrolled_at: null, severity: 'critical', city: 'Chicago', proxy: 'yes', last_known_sign_in_at: iso(r5 - 4 * HOUR) },
          { user_login: vpnUser.login, reset_at: reset6.published, src_ip: egress.ip, reset_by: admin.login, sign_in_at: in6.published, factor_enrolled_at: null, severity: 'high', city: 'San Francisco', proxy: 'no', last_known_sign_in_at: iso(r6 - 4 * HOUR) },
        ],
      };
    },
    nearMissWhat:
      'a self-service factor change from the usual network; an admin reset, then a sign-in from an address used 20 h 50 min before it; a reset with no sign-in after it; ' +
      'a sign-in from a new address 61 min after a reset; a new address used only before the reset; a user with no earlier sign-in removing their own factor and enrolling from another address; ' +
      'a failed sign-in from a new address after a reset; another user signing in from a new address after a reset; ' +
      'a reset, then a sign-in through a residential proxy the user had signed in from 4 h before it (an anonymizer, but no new place)',
    nearMiss: (now) => {
      const self = person('sam.selfservice');
      const usual = person('uma.usual');
      const quiet = person('nora.nosignin');
      const late = person('leo.late');
      const before = person('bea.before');
      const oldSession = person('ola.oldsession');
      const failed = person('fay.failed');
      const other = person('otto.other');
      const proxied = person('kim.knownproxy');
      const home = (last: number) => PLACES.sfHome(`73.162.19.${last}`);
      const away = (last: number) => PLACES.bucharest(`203.0.113.${last}`);
      return [
        signIn(self, now - 2 * HOUR, home(1)),
        ev({ eventType: 'user.mfa.factor.deactivate', at: now - 100 * MINUTE, actor: self, from: home(1), target: [userTarget(self), target('AuthenticatorEnrollment', 'Okta Verify')] }),
        factorActivated(self, now - 98 * MINUTE, home(1)),
        signIn(usual, now - 2 * HOUR - 20 * HOUR - 50 * MINUTE, home(2)),
        adminChange('user.mfa.factor.reset_all', now - 2 * HOUR, [target('AppInstance', 'Okta Admin Console'), userTarget(usual)]),
        signIn(usual, now - 110 * MINUTE, home(2)),
        factorActivated(usual, now - 108 * MINUTE, home(2)),
        signIn(quiet, now - 5 * HOUR, home(3)),
        adminChange('user.mfa.factor.reset_all', now - 60 * MINUTE, [userTarget(quiet)]),
        signIn(other, now - 50 * MINUTE, away(40)),
        signIn(late, now - 5 * HOUR, home(4)),
        adminChange('user.mfa.factor.reset_all', now - 170 * MINUTE, [userTarget(late)]),
        signIn(late, now - 109 * MINUTE, away(41)),
        signIn(before, now - 5 * HOUR, home(5)),
        signIn(before, now - 80 * MINUTE, away(42)),
        adminChange('user.mfa.factor.deactivate', now - 70 * MINUTE, [userTarget(before)]),
        ev({ eventType: 'user.mfa.factor.deactivate', at: now - 60 * MINUTE, actor: oldSession, from: home(6), target: [userTarget(oldSession)] }),
        factorActivated(oldSession, now - 55 * MINUTE, PLACES.tmobile('172.58.12.6')),
        signIn(failed, now - 4 * HOUR, home(7)),
        adminChange('user.mfa.factor.reset_all', now - 2 * HOUR, [userTarget(failed)]),
        failedSignIn(failed, now - 110 * MINUTE, away(43)),
        ...[now - 6 * HOUR, now - 105 * MINUTE].map((at, i) =>
          ev({
            eventType: 'user.session.start',
            at,
            from: PLACES.chicagoResidential('198.51.100.79'),
            actor: proxied,
            session: `102knownProxy${i}`,
            ipDetails: ipDetailsOf(PLACES.chicagoResidential('198.51.100.79'), [{ type: 'Residential Proxy', operator: 'Bright Data', isAnonymous: null }]),
          }),
        ),
        adminChange('user.mfa.factor.reset_all', now - 2 * HOUR, [userTarget(proxied)]),
      ];
    },
    // Resets of the last 3 hours are reported; the 1-day lookback is for the 21 hours of sign-ins before them.
    firesAtLookbackEdge: false,
  },
  // ---------------------------------------------------------------- hunts
  {
    id: 'password-or-mfa-change-by-anyone',
    what: 'a self-service password change, a factor enrolment, and a reset by Okta support',
    fires: (now) =>
      oneEventFinding([
        ev({ eventType: 'user.account.update_password', at: now - 3 * HOUR, target: [userTarget(person('jane.doe'))] }),
        ev({ eventType: 'user.mfa.factor.activate', at: now - 2 * HOUR, target: [userTarget(person('jane.doe'))] }),
        ev({ eventType: 'user.mfa.factor.reset_all', at: now - HOUR, actor: SYSTEM, from: null, transaction: { type: 'WEB', id: 'unknown' }, target: [userTarget(person('jane.doe'))] }),
      ]),
    nearMissWhat: 'a sign-in and a profile update',
    nearMiss: (now) => [
      signIn(person('jane.doe'), now - 3 * HOUR, PLACES.sfHome()),
      ev({ eventType: 'user.account.update_profile', at: now - 2 * HOUR, target: [userTarget(person('jane.doe'))] }),
    ],
  },
  {
    id: 'event-type-overview',
    keys: ['event_type', 'events', 'first_seen', 'last_seen'],
    what: 'three sign-ins and one zone update in the last days',
    fires: (now) => {
      const a = signIn(person('jane.doe'), now - 3 * 24 * HOUR, PLACES.sfHome());
      const b = signIn(person('jane.doe'), now - 2 * HOUR, PLACES.sfHome());
      const c = signIn(person('jane.doe'), now - HOUR, PLACES.sfHome());
      const z = adminChange('zone.update', now - 5 * HOUR, [target('NetworkZone', 'LegacyIpZone')]);
      return {
        events: [a, b, c, z],
        expect: [
          { event_type: 'user.session.start', events: 3, first_seen: a.published, last_seen: c.published },
          { event_type: 'zone.update', events: 1, first_seen: z.published, last_seen: z.published },
        ],
      };
    },
    nearMissWhat: 'an event published after the pinned now',
    nearMiss: (now) => [signIn(person('jane.doe'), now + 5 * MINUTE, PLACES.sfHome())],
  },
  {
    id: 'events-per-hour',
    keys: ['dt', 'hour', 'events'],
    what: 'two events in one hour and one in the next',
    fires: (now) => {
      const base = Math.floor((now - 3 * HOUR) / HOUR) * HOUR;
      const day = iso(base).slice(0, 10);
      return {
        events: [signIn(person('jane.doe'), base + 5 * MINUTE, PLACES.sfHome()), signIn(person('jane.doe'), base + 50 * MINUTE, PLACES.sfHome()), signIn(person('jane.doe'), base + 70 * MINUTE, PLACES.sfHome())],
        expect: [
          { dt: day, hour: iso(base).slice(11, 13), events: 2 },
          { dt: iso(base + HOUR).slice(0, 10), hour: iso(base + HOUR).slice(11, 13), events: 1 },
        ],
      };
    },
    nearMissWhat: 'an event eight days old',
    nearMiss: (now) => [signIn(person('jane.doe'), now - 8 * 24 * HOUR, PLACES.sfHome())],
  },
  {
    id: 'lake-duplicate-events',
    ordered: true,
    what:
      'two runs read overlapping windows (two object names), then the sweep adds one of their events again; a row copied into the next hour partition with its ingested_at',
    fires: (now) => {
      const start = Math.floor((now - 3 * HOUR) / HOUR) * HOUR;
      const [a, b, c, d] = [10, 20, 30, 65].map((m, i) => signIn(person(`dup${i + 1}.user`), start + m * MINUTE, PLACES.sfHome()));
      const e = adminChange('zone.update', start + 40 * MINUTE, [target('NetworkZone', 'LegacyIpZone')]);
      const firstRun = start + 62 * MINUTE;
      const secondRun = start + 93 * MINUTE;
      const sweep = start + 125 * MINUTE;
      const firstPage = pageObjectName(iso(start), iso(start + HOUR), 0);
      const partition = (ms: number): string => `dt=${iso(ms).slice(0, 10)}/hour=${iso(ms).slice(11, 13)}`;
      const written = (ms: number): string => iso(ms).slice(0, 19).replace('T', ' ');
      const sameTime = (x: OktaEventJson): Record<string, FindingValue> => ({ first_published: x.published, last_published: x.published, event_type: x.eventType });
      const summary = (x: OktaEventJson, copies: number, from: number, to: number, partitions: number): string =>
        `${copies} rows of one ${x.eventType} event, written ${written(from)} to ${written(to)}, in ${partitions} partition(s)`;
      return {
        events: [a, b, c, e],
        name: firstPage,
        ingestedAt: firstRun,
        laterPages: [
          { events: [b, c, d], name: pageObjectName(iso(start), iso(start + 90 * MINUTE), 0), ingestedAt: secondRun },
          { events: [c], name: lateObjectName(iso(start), iso(start + HOUR), [c.uuid]), ingestedAt: sweep },
          { events: [e], name: firstPage, ingestedAt: firstRun, partitionAt: start + HOUR },
        ],
        // Most recently written first.
        expect: [
          {
            event_uuid: c.uuid,
            copies: 3,
            partitions: partition(start),
            first_ingested_at: iso(firstRun),
            last_ingested_at: iso(sweep),
            ...sameTime(c),
            summary: summary(c, 3, firstRun, sweep, 1),
          },
          {
            event_uuid: b.uuid,
            copies: 2,
            partitions: partition(start),
            first_ingested_at: iso(firstRun),
            last_ingested_at: iso(secondRun),
            ...sameTime(b),
            summary: summary(b, 2, firstRun, secondRun, 1),
          },
          {
            event_uuid: e.uuid,
            copies: 2,
            partitions: `${partition(start)}, ${partition(start + HOUR)}`,
            first_ingested_at: iso(firstRun),
            last_ingested_at: iso(firstRun),
            ...sameTime(e),
            summary: summary(e, 2, firstRun, firstRun, 2),
          },
        ],
      };
    },
    nearMissWhat:
      'a page written again under its own object name (a retry replaces it); an event and its twin with another uuid in two pages; a page holding one uuid twice (the writer keeps one)',
    nearMiss: (now) => {
      const start = Math.floor((now - 3 * HOUR) / HOUR) * HOUR;
      const [f, g, h, i] = [10, 20, 30, 40].map((m, n) => signIn(person(`once${n + 1}.user`), start + m * MINUTE, PLACES.sfHome()));
      const name = pageObjectName(iso(start), iso(start + HOUR), 0);
      return {
        events: [f, g],
        name,
        ingestedAt: start + 62 * MINUTE,
        laterPages: [{ events: [f, g], name, ingestedAt: start + 63 * MINUTE }, { events: [h] }, { events: shifted([h], 0) }, { events: [i, i] }],
      };
    },
  },
  {
    id: 'user-timeline',
    params: { user: 'JANE.DOE@acme.example' },
    keys: ['event_uuid'],
    what: "Jane's sign-in (actor) and an admin's reset of Jane's password (Jane the second target), login compared without case",
    fires: (now) => {
      const own = signIn(person('jane.doe'), now - 5 * HOUR, PLACES.sfHome());
      const reset = adminChange('user.account.reset_password', now - 4 * HOUR, [target('AppInstance', 'Okta Admin Console'), userTarget(person('jane.doe'))]);
      return {
        events: [own, reset],
        expect: [
          { event_uuid: own.uuid, actor_login: 'jane.doe@acme.example', target_user: null },
          { event_uuid: reset.uuid, actor_login: admin.login, target_user: 'jane.doe@acme.example' },
        ],
      };
    },
    nearMissWhat: "Bob's sign-in and an admin's change to Bob",
    nearMiss: (now) => [
      signIn(person('bob.other'), now - 5 * HOUR, PLACES.sfHome()),
      adminChange('user.account.reset_password', now - 4 * HOUR, [userTarget(person('bob.other'))]),
    ],
  },
  {
    id: 'ip-activity',
    params: { ip: '203.0.113.66' },
    keys: ['event_uuid'],
    what: 'a failed and a successful sign-in from the address',
    fires: (now) =>
      oneEventFinding([failedSignIn(person('jane.doe'), now - 5 * HOUR, PLACES.bucharest('203.0.113.66')), signIn(person('jane.doe'), now - 4 * HOUR, PLACES.bucharest('203.0.113.66'))]),
    nearMissWhat: 'a sign-in from the neighbouring address',
    nearMiss: (now) => [signIn(person('jane.doe'), now - 5 * HOUR, PLACES.bucharest('203.0.113.67'))],
  },
  {
    id: 'okta-support-access-review',
    keys: ['event_type', 'granted_before'],
    what: 'a grant, an initiation two hours later, and the end of the session',
    fires: (now) => ({
      events: [
        ev({ eventType: 'user.session.impersonation.grant', at: now - 5 * HOUR, actor: admin, from: PLACES.sfOffice(), target: [userTarget(admin)] }),
        ev({ eventType: 'user.session.impersonation.initiate', at: now - 3 * HOUR, actor: support, from: PLACES.oktaSupport(), target: [userTarget(admin)] }),
        ev({ eventType: 'user.session.impersonation.end', at: now - 2 * HOUR, actor: support, from: PLACES.oktaSupport(), target: [userTarget(admin)] }),
      ],
      expect: [
        { event_type: 'user.session.impersonation.grant', granted_before: null },
        { event_type: 'user.session.impersonation.initiate', granted_before: 'yes' },
        { event_type: 'user.session.impersonation.end', granted_before: null },
      ],
    }),
    nearMissWhat: 'an admin opening the Admin Console',
    nearMiss: (now) => [ev({ eventType: 'user.session.access_admin_app', at: now - 5 * HOUR, actor: admin, from: PLACES.sfOffice() })],
  },
];
