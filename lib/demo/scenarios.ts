/**
 * The four planted attacks and the benign look-alikes ("near misses") a detection must not flag.
 * Each is played on its own simulator with its own random stream, so adding or removing one never
 * changes the background traffic of the same seed.
 */

import { authContext, CHALLENGE, EMPTY_CLIENT, NULL_CLIENT, requestSpec, systemEventSpec, userEntry, type EventSpec, type Requester } from './build';
import { ATTACKER_ORIGINS, COMPUTER_AGENTS, SUPPORT_ORIGIN } from './catalog';
import type { OktaActor, OktaEvent, OktaTarget, OktaTransaction } from './event';
import type { NetPoint } from './net-point';
import { agentOf, externalNetPoint, type Agent, type SimOrg, type SimUser } from './org';
import type { Rng } from './random';
import { activityWeight, BEHAVIORS_ANOMALOUS, BEHAVIORS_NORMAL, LOG_ONLY_ANOMALOUS, OrgSim, RISK_HIGH, RISK_LOW, TIME, type Session } from './sim';

const { SECOND, MINUTE, HOUR } = TIME;

export const ATTACK_KINDS = ['support-impersonation', 'support-password-reset', 'mfa-push-bombing', 'mfa-reset-takeover'] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

/** Scripted activity of the simulated day and the events that make it up. */
interface ScriptedActivity {
  /** `uuid` of every event of the activity, in time order. */
  readonly uuids: readonly string[];
  /**
   * `actor.alternateId` of the acting identity (the victim's login for push bombing and the MFA-reset
   * takeover, where the attacker acts as the victim).
   */
  readonly actor?: string;
  /** `alternateId` of the targeted user. */
  readonly target?: string;
  /** `authenticationContext.externalSessionId` of the acting session, when there is one. */
  readonly sessionId?: string;
  /** `published` of the first event. */
  readonly at: string;
  readonly description: string;
}

/** A planted attack: exactly these events are the attack. */
export interface PlantedAttack extends ScriptedActivity {
  readonly kind: AttackKind;
}

export const NEAR_MISS_KINDS = [
  'granted-support-access',
  'push-denied-once',
  'push-failures-spread-out',
  'push-approvals-only',
  'push-two-devices',
  'password-typo',
  'self-password-change',
  'admin-password-reset',
  'system-password-sync',
  'system-import-job',
  'help-desk-factor-reset',
] as const;
export type NearMissKind = (typeof NEAR_MISS_KINDS)[number];

/** Benign activity that resembles an attack; detections must not report it. */
export interface NearMiss extends ScriptedActivity {
  readonly kind: NearMissKind;
}

export interface Timed {
  readonly t: number;
  readonly event: OktaEvent;
}

export interface ScenarioResult {
  readonly events: Timed[];
  readonly planted: PlantedAttack[];
  readonly nearMisses: NearMiss[];
}

/** Okta's own support engineers (the identities that start impersonation sessions). */
function supportEngineer(rng: Rng, first: string, last: string): OktaActor {
  return Object.freeze(userEntry({ id: rng.oktaId('00u'), login: `${first}.${last}@okta.com`.toLowerCase(), displayName: 'Okta Support' }));
}

class Recorder {
  readonly events: Timed[] = [];
  private capture: OktaEvent[] | undefined;

  readonly emit = (t: number, event: OktaEvent): void => {
    this.events.push({ t, event });
    this.capture?.push(event);
  };

  /** Runs `play` and returns the events it emitted, in time order. */
  record(play: () => void): OktaEvent[] {
    const captured: OktaEvent[] = [];
    this.capture = captured;
    try {
      play();
    } finally {
      this.capture = undefined;
    }
    return captured.sort((a, b) => (a.published < b.published ? -1 : a.published > b.published ? 1 : 0));
  }
}

export interface ScenarioOptions {
  readonly startMs: number;
  readonly endMs: number;
  readonly attacks: readonly AttackKind[];
  readonly nearMisses: boolean;
}

export function playScenarios(org: SimOrg, rng: Rng, options: ScenarioOptions): ScenarioResult {
  const recorder = new Recorder();
  const sim = new OrgSim(org, rng, recorder.emit, { messy: false });
  const span = options.endMs - options.startMs;
  const at = (fraction: number): number => Math.round(options.startMs + span * fraction + rng.int(0, 59_999) * Math.min(1, span / (24 * HOUR)));
  const used = new Set<SimUser>(org.admins);
  /** The victims of the planted attacks: a near miss never happens to them (it would overlap the attack). */
  const victims = new Set<SimUser>();
  /** Someone for whom `t` is a working hour, not used by another scenario. */
  const pickUser = (t: number, accept: (u: SimUser) => boolean = () => true): SimUser => {
    const candidates = org.users.filter((u) => !used.has(u) && accept(u));
    // Small orgs run out of unused people: then anyone who is not an admin will do (one who fits if any).
    const others = org.users.filter((u) => !u.isAdmin);
    const fitting = others.filter(accept);
    const pool = candidates.length > 0 ? candidates : fitting.length > 0 ? fitting : others;
    pool.sort((a, b) => activityWeight(b, t) - activityWeight(a, t) || a.index - b.index);
    const user = rng.pick(pool.slice(0, Math.min(8, pool.length)));
    used.add(user);
    return user;
  };
  const admin = org.admins[0] as SimUser;
  /** The org's second admin (the only one in a small org) works the help desk: factor resets. */
  const helpDesk = org.admins[1] ?? admin;
  const planted: PlantedAttack[] = [];
  const nearMisses: NearMiss[] = [];
  const iso = (events: readonly OktaEvent[]): string => (events[0] as OktaEvent).published;
  const uuids = (events: readonly OktaEvent[]): string[] => events.map((e) => e.uuid);
  const pushUser = (u: SimUser): boolean => u.factor === 'OKTA_VERIFY_PUSH';

  // ------------------------------------------------------------------ attack 1: impersonation, no grant
  if (options.attacks.includes('support-impersonation')) {
    const t = at(0.1);
    const engineer = supportEngineer(rng, 'Kelvin', 'Marsh');
    const net = externalNetPoint(rng, ATTACKER_ORIGINS[0], 'attacker:impersonation');
    const agent = agentOf(COMPUTER_AGENTS.windows[0] as (typeof COMPUTER_AGENTS.windows)[number], 'Computer', 'attacker:impersonation');
    const events = recorder.record(() => impersonationSession(sim, engineer, admin, net, agent, t, Math.min(45 * MINUTE, span * 0.05), true));
    planted.push({
      kind: 'support-impersonation',
      uuids: uuids(events),
      actor: engineer.alternateId,
      target: admin.login,
      sessionId: events[0]?.authenticationContext?.externalSessionId,
      at: iso(events),
      description:
        `An Okta support identity (${engineer.alternateId}) starts an impersonation session as the super admin ${admin.login} ` +
        `from ${net.geo.city}, ${net.geo.country} (${net.ip}) with no user.session.impersonation.grant in the 8 hours before; ` +
        'it opens the Admin Console as that admin, then ends the session. (A legitimate grant happens later the same day; it does not cover this session.)',
    });
  }

  // ------------------------------------------------------------------ near miss: granted support session
  if (options.nearMisses) {
    const grantAt = at(0.3);
    const engineer = supportEngineer(rng, 'Priya', 'Raman');
    const net = externalNetPoint(rng, SUPPORT_ORIGIN, 'support:okta');
    const agent = agentOf(COMPUTER_AGENTS.mac[0] as (typeof COMPUTER_AGENTS.mac)[number], 'Computer', 'support:okta');
    const initiateAt = grantAt + Math.min(span * 0.1, 2 * HOUR);
    const events = recorder.record(() => {
      const { session, t } = sim.signIn(admin, grantAt, 'laptop');
      grantEvent(sim, session, t + 30 * SECOND, 'grant');
      impersonationSession(sim, engineer, admin, net, agent, initiateAt, Math.min(span * 0.1, 2 * HOUR), false, () => {
        // The admin extends the grant while the engineer is still working.
        grantEvent(sim, session, initiateAt + Math.min(span * 0.05, HOUR), 'extend');
      });
    });
    const support = events.filter((e) => e.eventType.startsWith('user.session.impersonation') || e.eventType === 'user.session.access_admin_app');
    nearMisses.push({
      kind: 'granted-support-access',
      uuids: uuids(support),
      actor: engineer.alternateId,
      target: admin.login,
      sessionId: support.find((e) => e.eventType === 'user.session.impersonation.initiate')?.authenticationContext?.externalSessionId,
      at: iso(support),
      description:
        `The super admin ${admin.login} grants Okta Support access (user.session.impersonation.grant); ` +
        `${engineer.alternateId} initiates an impersonation session within the grant, the admin extends the grant, the engineer ends the session.`,
    });
  }

  if (options.nearMisses) {
    // ---------------------------------------------------------------- a mistyped password
    {
      const t = at(0.33);
      const user = pickUser(t);
      const events = recorder.record(() => sim.signIn(user, t, 'laptop', { wrongPassword: true }));
      nearMisses.push({
        kind: 'password-typo',
        uuids: uuids(events),
        actor: user.login,
        target: user.login,
        sessionId: events.find((e) => e.eventType === 'user.session.start' && e.outcome?.result === 'SUCCESS')?.authenticationContext?.externalSessionId,
        at: iso(events),
        description:
          'A mistyped password: user.authentication.auth_via_mfa FAILURE with debugData.factor PASSWORD_AS_FACTOR (legacyEventType core.user.factor.attempt_fail) ' +
          'and user.session.start FAILURE, then a normal sign-in. Not a push: a push-bombing rule must look at debugData.factor.',
      });
    }
    // ---------------------------------------------------------------- one denied push, then approval
    {
      const t = at(0.38);
      const user = pickUser(t, (u) => pushUser(u) && u.pushDevices === 1);
      const events = recorder.record(() => sim.signIn(user, t, 'laptop', { denyFirstPush: true, pushDevices: 1, mfa: true }));
      nearMisses.push({
        kind: 'push-denied-once',
        uuids: uuids(events),
        actor: user.login,
        target: user.login,
        sessionId: events[0]?.authenticationContext?.externalSessionId,
        at: iso(events),
        description: 'A person taps "No" on one Okta Verify push and approves the next: 2 pushes, 1 failure, in one session (fewer than 3 pushes).',
      });
    }
    // ---------------------------------------------------------------- own password change
    {
      const t = at(0.42);
      const user = pickUser(t);
      let own: OktaEvent[] = [];
      recorder.record(() => {
        own = sim.changeOwnPassword(user, t).events;
      });
      nearMisses.push({
        kind: 'self-password-change',
        uuids: uuids(own),
        actor: user.login,
        target: user.login,
        at: iso(own),
        description: 'A person changes their own password (user.account.update_password, actor = the user, with browser and geography).',
      });
    }
    // ---------------------------------------------------------------- admin resets someone's password
    {
      const t = at(0.46);
      const subject = pickUser(t);
      let reset: OktaEvent[] = [];
      recorder.record(() => {
        reset = sim.adminResetPassword(admin, subject, t).events.filter((e) => e.eventType === 'user.account.reset_password');
      });
      nearMisses.push({
        kind: 'admin-password-reset',
        uuids: uuids(reset),
        actor: admin.login,
        target: subject.login,
        at: iso(reset),
        description: `The customer admin ${admin.login} resets ${subject.login}'s password from the Admin Console (actor is a User with browser and geography, real transaction id).`,
      });
    }
    // ---------------------------------------------------------------- password synchronised by system@okta.com
    {
      const t = at(0.5);
      const subject = pickUser(t);
      const events = recorder.record(() => sim.systemPasswordSync(subject, t));
      nearMisses.push({
        kind: 'system-password-sync',
        uuids: uuids(events),
        actor: 'system@okta.com',
        target: subject.login,
        at: iso(events),
        description:
          'system@okta.com (SystemPrincipal) writes a password synchronised from the directory: user.account.update_password with null client fields, ' +
          'but transaction.type JOB and a real transaction id (not "unknown").',
      });
    }
    // ---------------------------------------------------------------- an import job
    {
      const t = at(0.52);
      const events = recorder.record(() => sim.systemWork(t, 'import'));
      nearMisses.push({
        kind: 'system-import-job',
        uuids: uuids(events),
        actor: 'system@okta.com',
        at: iso(events),
        description: 'A directory import run by system@okta.com: system.import.start, profile updates (and sometimes a new user), system.import.complete; JOB transaction, null client.',
      });
    }
    // ---------------------------------------------------------------- 3 pushes with a failure, but spread over more than 10 minutes
    {
      const t = at(0.55);
      const user = pickUser(t, (u) => pushUser(u) && u.pushDevices === 1);
      let session: Session | undefined;
      const events = recorder.record(() => {
        const signIn = sim.signIn(user, t, 'laptop', { denyFirstPush: true, pushDevices: 1, mfa: true });
        session = signIn.session;
        const authn = rng.requestId();
        const lastPush = session.pushTimes[session.pushTimes.length - 1] as number;
        let t2 = lastPush + rng.int(11 * 60, 13 * 60) * SECOND;
        sim.policyEvaluation(session, t2 - 800, CHALLENGE, org.apps.find((a) => a.spec.stepUp) ?? org.apps[0]);
        t2 = sim.sendPush(session, t2, authn, undefined, 1);
        sim.pushAnswer(session, t2 + rng.int(4, 12) * SECOND, 'approve', authn);
      });
      const pushes = events.filter((e) => e.eventType === 'user.authentication.auth_via_mfa' && e.debugContext?.debugData?.factor === 'OKTA_VERIFY_PUSH');
      nearMisses.push({
        kind: 'push-failures-spread-out',
        uuids: uuids(pushes),
        actor: user.login,
        target: user.login,
        sessionId: session?.id,
        at: iso(pushes),
        description: '3 pushes and 1 denial in one session, but the third push comes more than 11 minutes after the second: no 10-minute window holds 3 pushes.',
      });
    }
  }

  // ------------------------------------------------------------------ attack 2: password and factors reset by "Okta support"
  if (options.attacks.includes('support-password-reset')) {
    const t = at(0.6);
    const victim = pickUser(t);
    victims.add(victim);
    const events = recorder.record(() => supportReset(sim, victim, t));
    planted.push({
      kind: 'support-password-reset',
      uuids: uuids(events),
      actor: 'system@okta.com',
      target: victim.login,
      at: iso(events),
      description:
        `system@okta.com (SystemPrincipal) resets the password of ${victim.login} (user.account.reset_password) and then all their factors ` +
        '(user.mfa.factor.reset_all): transaction.id "unknown", no user agent, no geography, no IP — the mark of an action taken through Okta support tooling.',
    });
  }

  if (options.nearMisses) {
    // ---------------------------------------------------------------- several approvals in 10 minutes, no failure
    {
      const t = at(0.66);
      const user = pickUser(t, (u) => pushUser(u) && u.pushDevices === 1);
      let session: Session | undefined;
      const events = recorder.record(() => {
        const signIn = sim.signIn(user, t, 'laptop', { pushDevices: 1, mfa: true });
        session = signIn.session;
        let t2 = signIn.t;
        const stepUpApps = org.apps.filter((a) => a.spec.stepUp);
        for (let i = 0; i < 3; i++) {
          t2 += rng.int(60, 140) * SECOND;
          t2 = sim.stepUp(session, t2, stepUpApps[i % stepUpApps.length] ?? (org.apps[0] as (typeof org.apps)[number]));
        }
      });
      const pushes = events.filter((e) => e.eventType === 'user.authentication.auth_via_mfa' && e.debugContext?.debugData?.factor === 'OKTA_VERIFY_PUSH');
      nearMisses.push({
        kind: 'push-approvals-only',
        uuids: uuids(pushes),
        actor: user.login,
        target: user.login,
        sessionId: session?.id,
        at: iso(pushes),
        description: `${pushes.length} Okta Verify pushes within 10 minutes in one session (sign-in, then step-up MFA for AWS and Workday), all approved: no failure.`,
      });
    }
    // ---------------------------------------------------------------- two enrolled devices
    {
      const t = at(0.7);
      const user = pickUser(t, pushUser);
      let session: Session | undefined;
      const events = recorder.record(() => {
        session = sim.signIn(user, t, 'laptop', { denyFirstPush: true, pushDevices: 2, mfa: true }).session;
      });
      const pushEvents = events.filter(
        (e) => e.eventType === 'system.push.send_factor_verify_push' || (e.eventType === 'user.authentication.auth_via_mfa' && e.debugContext?.debugData?.factor === 'OKTA_VERIFY_PUSH'),
      );
      nearMisses.push({
        kind: 'push-two-devices',
        uuids: uuids(pushEvents),
        actor: user.login,
        target: user.login,
        sessionId: session?.id,
        at: iso(pushEvents),
        description:
          'Okta Verify on two devices: each challenge logs two system.push.send_factor_verify_push events less than a second apart (one push, not two), ' +
          'one denial then an approval: 4 push sends but only 2 pushes.',
      });
    }
  }

  // ------------------------------------------------------------------ attack 3: MFA push bombing
  if (options.attacks.includes('mfa-push-bombing')) {
    const t = at(0.75);
    const victim = pickUser(t, pushUser);
    victims.add(victim);
    const origin = ATTACKER_ORIGINS[1];
    const net = externalNetPoint(rng, origin, 'attacker:push');
    const agent = agentOf(COMPUTER_AGENTS.windows[1] as (typeof COMPUTER_AGENTS.windows)[number], 'Computer', 'attacker:push');
    let session: Session | undefined;
    const events = recorder.record(() => {
      session = pushBombing(sim, victim, net, agent, t);
    });
    planted.push({
      kind: 'mfa-push-bombing',
      uuids: uuids(events),
      actor: victim.login,
      target: victim.login,
      sessionId: session?.id,
      at: iso(events),
      description:
        `With ${victim.login}'s password, an attacker in ${net.geo.city}, ${net.geo.country} (${net.ip}) sends 6 Okta Verify pushes in one session within ` +
        'about 6 minutes, more than 20 s apart: 5 denied (auth_via_mfa FAILURE INVALID_CREDENTIALS, 3 with OV_RESPONSE_DENY, 2 with user.mfa.okta_verify.deny_push), ' +
        'the 6th approved, followed by user.session.start and SSO.',
    });
  }

  // ------------------------------------------------------------------ attack 4: help-desk factor reset, then account takeover
  if (options.attacks.includes('mfa-reset-takeover')) {
    const t = at(0.64);
    const victim = pickUser(t);
    victims.add(victim);
    const origin = ATTACKER_ORIGINS[2];
    const net = externalNetPoint(rng, origin, 'attacker:takeover');
    const agent = agentOf(COMPUTER_AGENTS.windows[3] as (typeof COMPUTER_AGENTS.windows)[number], 'Computer', 'attacker:takeover');
    // The victim's own morning: a sign-in from their usual place a few hours before the call.
    const usual = sim.signIn(victim, t - Math.min(rng.int(120, 240) * MINUTE, span * 0.5), 'laptop').session;
    // A caller posing as the victim talks the help desk into clearing all factors.
    const reset = lastOf(sim.adminResetFactors(helpDesk, victim, t).events);
    const signInAt = Date.parse(reset.published) + Math.min(rng.int(6, 18) * MINUTE, span * 0.06);
    let session: Session | undefined;
    const takeover = recorder.record(() => {
      session = sim.newSession(victim, signInAt, net, agent, rng.hex(64));
      signInWithEnrolment(sim, session, signInAt, true);
    });
    const minutes = Math.round((signInAt - Date.parse(reset.published)) / MINUTE);
    planted.push({
      kind: 'mfa-reset-takeover',
      uuids: [reset.uuid, ...uuids(takeover)],
      actor: victim.login,
      target: victim.login,
      sessionId: session?.id,
      at: reset.published,
      description:
        `The help-desk admin ${helpDesk.login} resets all factors of ${victim.login} (user.mfa.factor.reset_all from the Admin Console) for a caller posing as them; ` +
        `${minutes} minutes later an attacker signs in as ${victim.login} with the password from a rented server in ${net.geo.city}, ${net.geo.country} ` +
        `(${net.ip}, ${origin.network.isp}) and enrols their own Okta Verify (user.mfa.factor.activate). ` +
        `${victim.login} had signed in from ${usual.net.geo.city} (${usual.net.ip}) earlier that day and has never used that address or country.`,
    });
  }

  // ------------------------------------------------------------------ near miss: help-desk factor reset, then the user's own enrolment
  if (options.nearMisses) {
    const t = at(0.8);
    // Someone who works from home: their laptop is always on one network, their phone on another.
    const user = pickUser(t, (u) => !victims.has(u) && !(u.office !== undefined && u.officeBased));
    // Earlier that day they signed in on the phone and on the laptop, as every day.
    sim.signIn(user, t - Math.min(rng.int(100, 180) * MINUTE, span * 0.4), 'phone');
    const before = sim.signIn(user, t - Math.min(rng.int(20, 90) * MINUTE, span * 0.2), 'laptop').session;
    const reset = lastOf(sim.adminResetFactors(helpDesk, user, t).events);
    // The user, at the same desk, signs in again and sets up Okta Verify on the new phone.
    const signInAt = Date.parse(reset.published) + Math.min(rng.int(5, 25) * MINUTE, span * 0.05);
    let own: Session | undefined;
    const events = recorder.record(() => {
      own = sim.newSession(user, signInAt, before.net, user.laptop, user.dtHash);
      signInWithEnrolment(sim, own, signInAt, false);
    });
    nearMisses.push({
      kind: 'help-desk-factor-reset',
      uuids: [reset.uuid, ...uuids(events)],
      actor: user.login,
      target: user.login,
      sessionId: own?.id,
      at: reset.published,
      description:
        `The help-desk admin ${helpDesk.login} resets all factors of ${user.login} (user.mfa.factor.reset_all); ${user.login} then signs in ` +
        `from ${before.net.ip}, the address of their laptop's sign-in earlier that day, and enrols Okta Verify again: a factor reset followed by a sign-in from a known place.`,
    });
  }

  recorder.events.sort((a, b) => a.t - b.t);
  return { events: recorder.events, planted, nearMisses };
}

function lastOf(events: readonly OktaEvent[]): OktaEvent {
  return events[events.length - 1] as OktaEvent;
}

// ---------------------------------------------------------------------------------------------

const IMPERSONATION = {
  grant: ['user.session.impersonation.grant', 'core.user.impersonation.grant.enabled', 'Enable impersonation grant'],
  extend: ['user.session.impersonation.extend', 'core.user.impersonation.grant.extended', 'Extend impersonation grant'],
  initiate: ['user.session.impersonation.initiate', 'core.user.impersonation.session.initiated', 'Initiate impersonation session'],
  end: ['user.session.impersonation.end', 'core.user.impersonation.session.ended', 'End impersonation session'],
} as const;

/** The customer admin grants (or extends) Okta Support access from the Admin Console. */
function grantEvent(sim: OrgSim, session: Session, t: number, kind: 'grant' | 'extend'): OktaEvent {
  const [eventType, legacyEventType, displayMessage] = IMPERSONATION[kind];
  return sim.emit(
    t,
    requestSpec(session, sim.req('/api/internal/orgs/settings/support-access'), { eventType, legacyEventType, displayMessage, target: null }),
    false,
  );
}

/**
 * A support engineer's impersonation session: initiate, the Admin Console opened as the impersonated
 * admin (debugData.originalPrincipal names the engineer), end.
 */
function impersonationSession(
  sim: OrgSim,
  engineer: OktaActor,
  admin: SimUser,
  net: NetPoint,
  agent: Agent,
  t: number,
  duration: number,
  anomalous: boolean,
  during?: () => void,
): number {
  const rng = sim.rng;
  const sessionId = rng.sessionId();
  const asEngineer: Requester = {
    actor: engineer,
    net,
    client: sim.client(net, agent),
    auth: authContext({ externalSessionId: sessionId, rootSessionId: sessionId }),
  };
  const spec = (kind: 'initiate' | 'end', path: string): EventSpec => {
    const [eventType, legacyEventType, displayMessage] = IMPERSONATION[kind];
    return requestSpec(asEngineer, sim.req(path), {
      eventType,
      legacyEventType,
      displayMessage,
      target: [admin.target],
      debug: { behaviors: anomalous ? BEHAVIORS_ANOMALOUS : BEHAVIORS_NORMAL, risk: anomalous ? RISK_HIGH : RISK_LOW },
    });
  };
  sim.emit(t, spec('initiate', '/api/internal/support/impersonation/initiate'), false);
  // Requests made inside the session run as the admin; Okta names the engineer in originalPrincipal.
  const asAdmin = sim.newSession(admin, t, net, agent, rng.hex(64), sessionId);
  sim.accessAdminApp(asAdmin, t + rng.int(8, 40) * SECOND, { originalPrincipal: { ...engineer } });
  during?.();
  const end = t + duration;
  sim.emit(end, spec('end', '/api/internal/support/impersonation/end'), false);
  return end;
}

/** Password and factors reset through Okta's support tooling: no client, no geography, transaction "unknown". */
function supportReset(sim: OrgSim, victim: SimUser, t: number): void {
  const unknownTx: OktaTransaction = Object.freeze({ type: 'WEB', id: 'unknown', detail: Object.freeze({}) });
  const actor = sim.org.systemActor;
  const target = [victim.target];
  sim.emit(
    t,
    systemEventSpec(actor, {
      eventType: 'user.account.reset_password',
      legacyEventType: 'core.user.config.user_status.password_reset',
      displayMessage: "Fired when the user's Okta password is reset",
      target,
      transaction: unknownTx,
      client: NULL_CLIENT,
    }),
    false,
  );
  sim.emit(
    t + sim.rng.int(8, 40) * SECOND,
    systemEventSpec(actor, {
      eventType: 'user.mfa.factor.reset_all',
      legacyEventType: 'core.user.factor.reset_all',
      displayMessage: 'Reset all factors for user',
      target,
      transaction: unknownTx,
      client: EMPTY_CLIENT,
    }),
    false,
  );
}

/**
 * A sign-in by someone whose factors were all reset: the password, then Okta has them set up an
 * authenticator before the session starts (Okta Verify enrolled: `user.mfa.factor.activate`, the
 * person as actor and the new enrolment as target), then the dashboard and one app. Returns the
 * time of the last event.
 */
function signInWithEnrolment(sim: OrgSim, session: Session, t: number, anomalous: boolean): number {
  const rng = sim.rng;
  const authn = rng.requestId();
  const risk = anomalous ? { behaviors: BEHAVIORS_ANOMALOUS, risk: RISK_HIGH } : { behaviors: BEHAVIORS_NORMAL, risk: RISK_LOW };
  sim.policyEvaluation(session, t, CHALLENGE, undefined, anomalous);
  let at = t + rng.int(4, 12) * SECOND;
  sim.password(session, at, true, authn);
  // Scanning the QR code with Okta Verify on a phone.
  at += rng.int(30, 90) * SECOND;
  const enrolment: OktaTarget = {
    id: rng.oktaId('pfd'),
    type: 'AuthenticatorEnrollment',
    alternateId: 'unknown',
    displayName: 'Okta Verify',
    detailEntry: { methodTypeUsed: 'Get a push notification' },
  };
  sim.emit(
    at,
    requestSpec(session, sim.req('/idp/idx/credential/enroll'), {
      eventType: 'user.mfa.factor.activate',
      legacyEventType: 'core.user.factor.activate',
      displayMessage: 'Activate factor or authenticator',
      target: [session.user.target, enrolment],
      authenticationContext: session.factorAuth,
      debug: { authnRequestId: authn, factor: 'OKTA_VERIFY_PUSH', factorIntent: 'ENROLLMENT', ...risk },
    }),
    false,
  );
  at += rng.int(300, 2000);
  sim.emit(
    at,
    requestSpec(session, sim.req('/idp/idx/authenticators/poll'), {
      eventType: 'user.session.start',
      legacyEventType: 'core.user_auth.login_success',
      displayMessage: 'User login to Okta',
      target: null,
      debug: { authnRequestId: authn, ...risk, ...(anomalous ? { logOnlySecurityData: LOG_ONLY_ANOMALOUS } : {}) },
    }),
    false,
  );
  at += rng.int(1, 4) * SECOND;
  sim.sso(session, at, sim.org.dashboard);
  at += rng.int(20, 60) * SECOND;
  sim.sso(session, at, rng.pick(session.user.apps));
  return at;
}

/** Push bombing from the attacker's browser, ending with the victim giving in. */
function pushBombing(sim: OrgSim, victim: SimUser, net: NetPoint, agent: Agent, t: number): Session {
  const rng = sim.rng;
  const session = sim.newSession(victim, t, net, agent, rng.hex(64));
  const authn = rng.requestId();
  const risk = { behaviors: BEHAVIORS_ANOMALOUS, risk: RISK_HIGH };
  sim.policyEvaluation(session, t, CHALLENGE, undefined, true);
  let at = t + rng.int(4, 9) * SECOND;
  sim.password(session, at, true, authn);
  const answers = ['deny', 'deny', 'deny-classic', 'deny', 'deny-classic', 'approve'] as const;
  for (const [i, answer] of answers.entries()) {
    at += i === 0 ? rng.int(1, 3) * SECOND : rng.int(20, 45) * SECOND;
    at = sim.sendPush(session, at, authn, BEHAVIORS_ANOMALOUS, 1);
    at += rng.int(6, 20) * SECOND;
    at = sim.pushAnswer(session, at, answer, authn, risk).t;
  }
  const req = sim.req('/idp/idx/authenticators/poll');
  at += rng.int(50, 300);
  sim.emit(
    at,
    requestSpec(session, req, {
      eventType: 'user.session.start',
      legacyEventType: 'core.user_auth.login_success',
      displayMessage: 'User login to Okta',
      target: null,
      debug: { authnRequestId: authn, behaviors: BEHAVIORS_ANOMALOUS, risk: RISK_HIGH, logOnlySecurityData: LOG_ONLY_ANOMALOUS },
    }),
    false,
  );
  at += rng.int(1, 4) * SECOND;
  sim.sso(session, at, sim.org.dashboard);
  at += rng.int(20, 90) * SECOND;
  sim.sso(session, at, sim.org.apps.find((a) => a.spec.label === 'Salesforce.com') ?? (sim.org.apps[0] as (typeof sim.org.apps)[number]));
  return session;
}
