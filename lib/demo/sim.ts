/**
 * Builds System Log events for the simulated org and plays the everyday episodes people and Okta
 * itself produce: sign-ins (policy evaluation, password, second factor, session start), single
 * sign-on into apps, OAuth token grants, step-up MFA, sign-outs, self-service changes, admin work
 * and the routine jobs of `system@okta.com`.
 *
 * Episodes are emitted in time order per person; the caller sorts across people.
 */

import { ALLOW, appUserEntry, authContext, CHALLENGE, EMPTY_CLIENT, FAILURE_INVALID, NO_IPS, NO_SECURITY, NO_SESSION, NULL_CLIENT, PUSH_REJECTED, requestSpec, SUCCESS, systemEventSpec } from './build';
import type { DebugData, EventNames, EventSpec, Req, Requester, RequestEventFields } from './build';
import type { OktaActor, OktaAuthenticationContext, OktaClient, OktaEvent, OktaIpAddress, OktaOutcome, OktaTarget, OktaTransaction } from './event';
import type { NetPoint } from './net-point';
import { clientOf, type Agent, type AppInstance, type SimOrg, type SimUser } from './org';
import type { Rng } from './random';
import { HOUR, MINUTE, SECOND } from '../core/time';

export type Emit = (t: number, event: OktaEvent) => void;

export const BEHAVIORS_NORMAL =
  '{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}';
const BEHAVIORS_NEW_IP =
  '{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=POSITIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}';
export const BEHAVIORS_ANOMALOUS =
  '{New Geo-Location=POSITIVE, New Device=POSITIVE, New IP=POSITIVE, New State=POSITIVE, New Country=POSITIVE, Velocity=POSITIVE, New City=POSITIVE}';
export const RISK_LOW = '{level=LOW}';
export const RISK_HIGH = '{reasons=Anomalous Location, Anomalous Device, level=HIGH}';
const LOG_ONLY_NORMAL =
  '{"risk":{"level":"LOW"},"behaviors":{"New Geo-Location":"NEGATIVE","New Device":"NEGATIVE","New IP":"NEGATIVE","New State":"NEGATIVE","New Country":"NEGATIVE","Velocity":"NEGATIVE","New City":"NEGATIVE"}}';
export const LOG_ONLY_ANOMALOUS =
  '{"risk":{"reasons":"Anomalous Location, Anomalous Device","level":"HIGH"},"behaviors":{"New Geo-Location":"POSITIVE","New Device":"POSITIVE","New IP":"POSITIVE","New State":"POSITIVE","New Country":"POSITIVE","Velocity":"POSITIVE","New City":"POSITIVE"}}';

const EMPTY_DETAIL = Object.freeze({});

const SYSTEM_WORK_KINDS = ['import', 'group-rule', 'provision', 'password-sync'] as const;
export type SystemWorkKind = (typeof SYSTEM_WORK_KINDS)[number];

/** A signed-in browser or phone: the requester of the events of its requests. */
export interface Session extends Requester {
  readonly id: string;
  readonly user: SimUser;
  readonly net: NetPoint;
  readonly agent: Agent;
  readonly dtHash: string;
  readonly startedAt: number;
  /** Context of plain session events (providers null). */
  readonly auth: OktaAuthenticationContext;
  /** Context of factor verifications. */
  readonly factorAuth: OktaAuthenticationContext;
  /** Context of the password step. */
  readonly passwordAuth: OktaAuthenticationContext;
  /** When a push in this session was last denied (-Infinity if never). */
  lastPushFailureAt: number;
  /** Times of the pushes answered in this session. */
  readonly pushTimes: number[];
}

type Channel = 'laptop' | 'phone';

interface UserState {
  laptop?: Session;
  phone?: Session;
  busyUntil: number;
}

/** The names and outcome of a `user.authentication.auth_via_mfa` event: the factor was accepted or not. */
function factorAttempt(ok: boolean): Pick<RequestEventFields, 'eventType' | 'legacyEventType' | 'displayMessage' | 'outcome'> {
  return {
    eventType: 'user.authentication.auth_via_mfa',
    legacyEventType: ok ? 'core.user.factor.attempt_success' : 'core.user.factor.attempt_fail',
    displayMessage: 'Authentication of user via MFA',
    outcome: ok ? SUCCESS : FAILURE_INVALID,
  };
}

/** The value under `key`, made by `make` the first time. */
function cached<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Local hour (0..23, fractional) and day of week (0 = Sunday) of `t` for a person. */
export function localTime(user: SimUser, t: number): { hour: number; day: number } {
  const local = t + user.utcOffsetMs;
  const hour = (((local % 86_400_000) + 86_400_000) % 86_400_000) / HOUR;
  const day = (((Math.floor(local / 86_400_000) + 4) % 7) + 7) % 7;
  return { hour, day };
}

const HOUR_WEIGHTS = [
  0.03, 0.02, 0.02, 0.02, 0.03, 0.06, 0.15, 0.45, 0.9, 1, 1, 1, 0.75, 0.95, 1, 1, 0.95, 0.7, 0.4, 0.25, 0.2, 0.15, 0.1, 0.05,
];

/** How likely a person is to be active at `t`, 0..1 (working hours of their time zone, weekdays). */
export function activityWeight(user: SimUser, t: number): number {
  const { hour, day } = localTime(user, t);
  const w = HOUR_WEIGHTS[Math.floor(hour)] as number;
  return day === 0 || day === 6 ? w * 0.12 : w;
}

export interface SimOptions {
  /** Add the rare imperfections real exports have ("null" addresses, missing geography, empty debugContext). */
  readonly messy: boolean;
}

export class OrgSim {
  private readonly state: UserState[];
  private readonly clients = new Map<NetPoint, Map<Agent, Map<string | null, OktaClient>>>();
  private readonly ssoTargets = new Map<SimUser, Map<AppInstance, readonly OktaTarget[]>>();
  private readonly policyTargets = new Map<AppInstance | undefined, Map<OktaTarget, readonly OktaTarget[]>>();
  private readonly clientActors = new Map<AppInstance, OktaActor>();
  private readonly requests = new WeakMap<readonly OktaIpAddress[], { readonly ipChain: readonly OktaIpAddress[] }>();

  constructor(
    readonly org: SimOrg,
    readonly rng: Rng,
    private readonly emitFn: Emit,
    private readonly options: SimOptions,
  ) {
    this.state = org.users.map(() => ({ busyUntil: -Infinity }));
  }

  // ---------------------------------------------------------------- event building

  event(t: number, spec: EventSpec, messy = this.options.messy): OktaEvent {
    const rng = this.rng;
    const uuid = rng.uuidV1(t, rng.pick(this.org.nodes));
    let client = spec.client;
    let ipChain = spec.ipChain;
    let request = this.requests.get(ipChain);
    if (!request) {
      request = Object.freeze({ ipChain });
      this.requests.set(ipChain, request);
    }
    let debugContext: OktaEvent['debugContext'] = spec.debugData === undefined ? {} : { debugData: spec.debugData };
    let securityContext = spec.securityContext;
    if (messy && ipChain.length > 0) {
      const r = rng.next();
      if (r < 0.002 && client) client = { ...client, ipAddress: 'null' };
      else if (r < 0.007 && client) {
        client = { ...client, geographicalContext: null };
        ipChain = ipChain.map((hop) => ({ ...hop, geographicalContext: null }));
        request = { ipChain };
      } else if (r < 0.01) request = { ipChain: NO_IPS };
      else if (r < 0.013) debugContext = {};
      else if (r < 0.0135) debugContext = null;
      else if (r < 0.02) securityContext = NO_SECURITY;
    }
    return {
      actor: spec.actor,
      client,
      device: spec.device ?? null,
      authenticationContext: spec.authenticationContext,
      displayMessage: spec.displayMessage,
      eventType: spec.eventType,
      outcome: spec.outcome,
      published: new Date(t).toISOString(),
      securityContext,
      severity: spec.severity ?? 'INFO',
      debugContext,
      legacyEventType: spec.legacyEventType,
      transaction: spec.transaction,
      uuid,
      version: '0',
      request,
      target: spec.target,
    };
  }

  emit(t: number, spec: EventSpec, messy?: boolean): OktaEvent {
    const ev = this.event(Math.round(t), spec, messy);
    this.emitFn(Math.round(t), ev);
    return ev;
  }

  req(uri: string, query = ''): Req {
    const id = this.rng.requestId();
    return { id, uri, url: `${uri}?${query}`, transaction: Object.freeze({ type: 'WEB', id, detail: EMPTY_DETAIL }) };
  }

  job(): OktaTransaction {
    return Object.freeze({ type: 'JOB', id: this.rng.requestId(), detail: EMPTY_DETAIL });
  }

  /** The (shared, frozen) client part of requests from `net` by `agent` on behalf of OAuth client `clientId`. */
  client(net: NetPoint, agent: Agent, clientId: string | null = null): OktaClient {
    const byAgent = cached(this.clients, net, () => new Map<Agent, Map<string | null, OktaClient>>());
    const byClient = cached(byAgent, agent, () => new Map<string | null, OktaClient>());
    return cached(byClient, clientId, () => Object.freeze(clientOf(net, agent, clientId)));
  }

  /** `subject`'s account in `app` as a target (a new id where the person has none there). */
  private appUser(subject: SimUser, app: AppInstance): OktaTarget {
    return appUserEntry(subject, subject.appUserIds.get(app.id) ?? this.rng.oktaId('0ua'));
  }

  private behaviors(net: NetPoint): string {
    return net.key.startsWith('mobile') && this.rng.chance(0.3) ? BEHAVIORS_NEW_IP : BEHAVIORS_NORMAL;
  }

  newSession(user: SimUser, t: number, net: NetPoint, agent: Agent, dtHash: string, id = this.rng.sessionId()): Session {
    const ctx = (authenticationProvider: string | null, credentialProvider: string | null, credentialType: string | null): OktaAuthenticationContext =>
      Object.freeze(authContext({ authenticationProvider, credentialProvider, credentialType, externalSessionId: id, rootSessionId: id }));
    return {
      id,
      user,
      actor: user.actor,
      net,
      agent,
      client: this.client(net, agent),
      dtHash,
      startedAt: t,
      auth: ctx(null, null, null),
      factorAuth: ctx('FACTOR_PROVIDER', 'OKTA_CREDENTIAL_PROVIDER', null),
      passwordAuth: ctx('OKTA_AUTHENTICATION_PROVIDER', 'OKTA_CREDENTIAL_PROVIDER', 'PASSWORD'),
      lastPushFailureAt: -Infinity,
      pushTimes: [],
    };
  }

  // ---------------------------------------------------------------- building blocks of episodes

  policyEvaluation(session: Session, t: number, result: OktaOutcome, app?: AppInstance, anomalous = false): void {
    const req = this.req(app ? `/app/${app.spec.name}/${app.ssoKey}/sso/saml` : '/idp/idx/identify');
    const policy = app ? this.org.appPolicy : this.org.globalSessionPolicy;
    const rule = result === CHALLENGE || app ? (policy.rules[0] as OktaTarget) : (policy.rules[policy.rules.length - 1] as OktaTarget);
    this.emit(
      t,
      requestSpec(session, req, {
        eventType: 'policy.evaluate_sign_on',
        displayMessage: 'Evaluation of sign-on policy',
        outcome: result,
        target: cached(cached(this.policyTargets, app, () => new Map<OktaTarget, readonly OktaTarget[]>()), rule, () =>
          Object.freeze(app ? [policy.policy, rule, app.target] : [policy.policy, rule]),
        ),
        debug: {
          behaviors: anomalous ? BEHAVIORS_ANOMALOUS : this.behaviors(session.net),
          risk: anomalous ? RISK_HIGH : RISK_LOW,
          logOnlySecurityData: anomalous ? LOG_ONLY_ANOMALOUS : LOG_ONLY_NORMAL,
          deviceFingerprint: session.user.deviceFingerprint,
        },
      }),
    );
  }

  password(session: Session, t: number, ok: boolean, authnRequestId: string): void {
    const req = this.req('/idp/idx/challenge/answer');
    this.emit(
      t,
      requestSpec(session, req, {
        ...factorAttempt(ok),
        target: session.user.targets.password,
        authenticationContext: session.passwordAuth,
        debug: { authnRequestId, factor: 'PASSWORD_AS_FACTOR', factorIntent: 'AUTHENTICATION', behaviors: BEHAVIORS_NORMAL, risk: RISK_LOW },
      }),
    );
  }

  /** Okta sends a push: one `system.push.send_factor_verify_push` per enrolled device (within a second). */
  sendPush(session: Session, t: number, authnRequestId: string, behaviors = BEHAVIORS_NORMAL, devices = session.user.pushDevices): number {
    const req = this.req('/idp/idx/challenge');
    let at = t;
    for (let i = 0; i < devices; i++) {
      this.emit(
        at,
        requestSpec(session, req, {
          eventType: 'system.push.send_factor_verify_push',
          displayMessage: 'Push notification sent for verification',
          target: session.user.targets.pushSend,
          debug: { authnRequestId, behaviors },
        }),
      );
      at += this.rng.int(40, 700);
    }
    return at;
  }

  /**
   * The answer to a push: `approve`, `deny` (auth_via_mfa FAILURE with OV_RESPONSE_DENY) or
   * `deny-classic` (auth_via_mfa FAILURE without a response type, plus `user.mfa.okta_verify.deny_push`).
   */
  pushAnswer(
    session: Session,
    t: number,
    answer: 'approve' | 'deny' | 'deny-classic',
    authnRequestId: string,
    risk = { behaviors: BEHAVIORS_NORMAL, risk: RISK_LOW },
  ): { t: number; events: OktaEvent[] } {
    const req = this.req('/idp/idx/authenticators/poll');
    const ok = answer === 'approve';
    const debug: DebugData = { authnRequestId, factor: 'OKTA_VERIFY_PUSH', factorIntent: 'AUTHENTICATION', behaviors: risk.behaviors, risk: risk.risk };
    if (answer !== 'deny-classic') debug.pushOnlyResponseType = ok ? 'OV_RESPONSE_APPROVE' : 'OV_RESPONSE_DENY';
    const events = [
      this.emit(
        t,
        requestSpec(session, req, {
          ...factorAttempt(ok),
          target: session.user.targets.push,
          authenticationContext: session.factorAuth,
          debug,
        }),
      ),
    ];
    let end = t;
    if (answer === 'deny-classic') {
      end = t + this.rng.int(60, 400);
      events.push(
        this.emit(
          end,
          requestSpec(session, this.req('/api/v1/authn/factors/push/verify'), {
            eventType: 'user.mfa.okta_verify.deny_push',
            displayMessage: 'User rejected Okta push verify',
            outcome: PUSH_REJECTED,
            target: session.user.targets.push,
            authenticationContext: session.factorAuth,
            debug: { authnRequestId, factor: 'OKTA_VERIFY_PUSH' },
          }),
        ),
      );
    }
    session.pushTimes.push(t);
    if (!ok) session.lastPushFailureAt = t;
    return { t: end, events };
  }

  /** A second factor other than push (FastPass, WebAuthn, TOTP), always successful here. */
  otherFactor(session: Session, t: number, authnRequestId: string): void {
    const user = session.user;
    const req = this.req(user.factor === 'SIGNED_NONCE' ? '/idp/authenticators/okta_verify/challenge' : '/idp/idx/challenge/answer');
    this.emit(
      t,
      requestSpec(session, req, {
        ...factorAttempt(true),
        target: user.targets.factor,
        authenticationContext: session.factorAuth,
        device: user.factor === 'SIGNED_NONCE' && session.agent === user.laptop ? user.fastPassDevice : null,
        debug: {
          authnRequestId,
          factor: user.factor,
          factorIntent: 'AUTHENTICATION',
          behaviors: BEHAVIORS_NORMAL,
          risk: RISK_LOW,
          promptingPolicyTypes: '[OKTA_SIGN_ON]',
        },
      }),
    );
  }

  sso(session: Session, t: number, app: AppInstance): void {
    const oidc = app.spec.signOnMode === 'OPENID_CONNECT';
    const uri = oidc
      ? `/oauth2/${app.authServerId}/v1/authorize`
      : app.spec.signOnMode === 'WS_FEDERATION'
        ? `/app/${app.spec.name}/${app.ssoKey}/sso/wsfed/passive`
        : `/app/${app.spec.name}/${app.ssoKey}/sso/saml`;
    const req = this.req(uri, oidc ? `client_id=${app.id}&response_type=code&scope=openid%20profile%20email` : '');
    const user = session.user;
    const target = cached(cached(this.ssoTargets, user, () => new Map<AppInstance, readonly OktaTarget[]>()), app, () =>
      Object.freeze([
        app.target,
        Object.freeze(appUserEntry(user, user.appUserIds.get(app.id) ?? app.id)),
      ]),
    );
    this.emit(
      t,
      requestSpec(session, req, {
        eventType: 'user.authentication.sso',
        legacyEventType: 'app.auth.sso',
        displayMessage: 'User single sign on to app',
        target,
        debug: {
          initiationType: this.rng.chance(0.6) ? 'SP_INITIATED' : 'IDP_INITIATED',
          signOnMode: oidc ? 'OpenID Connect' : app.spec.signOnMode === 'WS_FEDERATION' ? 'WS-Federation' : 'SAML 2.0',
        },
      }),
    );
  }

  /** The authorization code an OIDC app receives for the signed-in person (actor: the person). */
  authorizationCode(session: Session, t: number, app: AppInstance): void {
    const rng = this.rng;
    const req = this.req(`/oauth2/${app.authServerId}/v1/authorize`, `client_id=${app.id}&response_type=code&scope=openid%20profile%20email&state=${rng.base62(12)}`);
    this.emit(
      t,
      requestSpec(session, req, {
        eventType: 'app.oauth2.as.authorize.code',
        displayMessage: 'OAuth2 authorization code request',
        target: [
          {
            id: rng.base62(24),
            type: 'code',
            alternateId: 'Authorization Code',
            displayName: 'Authorization Code',
            detailEntry: { expires: new Date(t + 5 * MINUTE).toISOString(), subject: session.user.id, hash: rng.base62(22) },
          },
        ],
        client: this.client(session.net, session.agent, app.id),
        debug: { grantedScopes: 'openid, profile, email', responseType: 'code', responseMode: 'query', clientId: app.id },
      }),
    );
  }

  /** OAuth 2.0 token grants by an OIDC client (actor: the client app). */
  tokenGrant(
    user: SimUser,
    net: NetPoint,
    agent: Agent,
    t: number,
    app: AppInstance,
    kind: 'access_token' | 'id_token' | 'refresh_token',
    grantType: string,
    auth: OktaAuthenticationContext = NO_SESSION,
  ): void {
    const rng = this.rng;
    const req = this.req(`/oauth2/${app.authServerId}/v1/token`);
    const label = { access_token: 'Access Token', id_token: 'ID Token', refresh_token: 'Refresh Token' }[kind];
    const prefix = { access_token: 'AT.', id_token: 'ID.', refresh_token: 'oar' }[kind];
    const lifetime = kind === 'refresh_token' ? 90 * 24 * HOUR : HOUR;
    const display = kind === 'id_token' ? 'OIDC id token is granted' : kind === 'refresh_token' ? 'OAuth2 refresh token is granted' : 'OAuth2 access token is granted';
    const clientApp: Requester = {
      actor: cached(this.clientActors, app, () =>
        Object.freeze({ id: app.id, type: 'PublicClientApp', alternateId: app.id, displayName: app.spec.label, detailEntry: null }),
      ),
      net,
      client: this.client(net, agent, app.id),
      auth,
    };
    this.emit(
      t,
      requestSpec(clientApp, req, {
        eventType: `app.oauth2.as.token.grant.${kind}`,
        displayMessage: display,
        target: [
          {
            id: prefix + rng.base62(kind === 'refresh_token' ? 17 : 40),
            type: kind,
            alternateId: label,
            displayName: label,
            detailEntry: { expires: new Date(t + lifetime).toISOString(), subject: user.id, hash: rng.base62(22) },
          },
        ],
        debug: {
          grantType,
          grantedScopes: kind === 'refresh_token' ? 'offline_access, openid, profile, email' : 'openid, profile, email, offline_access',
          clientAuthType: 'none',
          tokenLifetimeSeconds: String(lifetime / 1000),
        },
      }),
    );
  }

  // ---------------------------------------------------------------- episodes

  private netFor(user: SimUser, t: number, channel: Channel): NetPoint {
    if (channel === 'phone') return user.mobile;
    if (user.office && user.officeBased) {
      const { hour, day } = localTime(user, t);
      if (day >= 1 && day <= 5 && hour >= 8.5 && hour < 17.5) return user.office;
    }
    return user.home;
  }

  private liveSession(user: SimUser, t: number, channel: Channel): Session | undefined {
    const session = this.state[user.index]?.[channel];
    if (!session || t - session.startedAt > 12 * HOUR || session.net !== this.netFor(user, t, channel)) return undefined;
    return session;
  }

  /**
   * A full interactive sign-in: policy evaluation, password, second factor, session start, and the
   * first app. `denyFirstPush` makes the person tap "No" once before approving (two pushes in all).
   */
  signIn(
    user: SimUser,
    t: number,
    channel: Channel,
    opts: { denyFirstPush?: boolean; wrongPassword?: boolean; app?: AppInstance; pushDevices?: 1 | 2; mfa?: boolean } = {},
  ): { session: Session; t: number } {
    const rng = this.rng;
    const agent = channel === 'phone' ? user.phone : user.laptop;
    const net = this.netFor(user, t, channel);
    const session = this.newSession(user, t, net, agent, channel === 'phone' ? user.phoneDtHash : user.dtHash);
    const authn = rng.requestId();
    let at = t;
    if (opts.wrongPassword) {
      // A mistyped password: the factor attempt fails and so does the session start (no session yet).
      this.policyEvaluation(session, at, CHALLENGE);
      at += rng.int(3, 12) * SECOND;
      this.password(session, at, false, authn);
      at += rng.int(20, 300);
      const req = this.req('/idp/idx/challenge/answer');
      this.emit(
        at,
        requestSpec(session, req, {
          eventType: 'user.session.start',
          legacyEventType: 'core.user_auth.login_failed',
          displayMessage: 'User login to Okta',
          severity: 'WARN',
          outcome: FAILURE_INVALID,
          target: null,
          authenticationContext: NO_SESSION,
        }),
      );
      at += rng.int(5, 30) * SECOND;
    }
    const fastPass = user.factor === 'SIGNED_NONCE';
    const inOffice = net.zone !== 'null';
    const mfa = opts.mfa ?? (fastPass || !inOffice || opts.denyFirstPush === true || rng.chance(0.7));
    this.policyEvaluation(session, at, mfa ? CHALLENGE : ALLOW);
    if (!fastPass) {
      at += rng.int(2500, 12000);
      this.password(session, at, true, authn);
    }
    if (mfa) {
      at += rng.int(200, 1500);
      if (user.factor === 'OKTA_VERIFY_PUSH') {
        const devices = opts.pushDevices ?? user.pushDevices;
        at = this.sendPush(session, at, authn, BEHAVIORS_NORMAL, devices);
        if (opts.denyFirstPush) {
          at += rng.int(2, 9) * SECOND;
          at = this.pushAnswer(session, at, 'deny', authn).t;
          at += rng.int(6, 25) * SECOND;
          at = this.sendPush(session, at, authn, BEHAVIORS_NORMAL, devices);
        }
        at += rng.int(3000, 20000);
        at = this.pushAnswer(session, at, 'approve', authn).t;
      } else {
        at += fastPass ? rng.int(300, 2500) : rng.int(3000, 15000);
        this.otherFactor(session, at, authn);
      }
    }
    const finalReq = this.req(mfa ? '/idp/idx/authenticators/poll' : '/idp/idx/challenge/answer');
    if (rng.chance(0.5)) {
      at += rng.int(30, 300);
      this.emit(
        at,
        requestSpec(session, finalReq, {
          eventType: 'user.authentication.verify',
          displayMessage: 'Verify user identity',
          target: null,
          debug: { authnRequestId: authn, behaviors: BEHAVIORS_NORMAL, risk: RISK_LOW },
        }),
      );
    }
    at += rng.int(20, 200);
    this.emit(
      at,
      requestSpec(session, finalReq, {
        eventType: 'user.session.start',
        legacyEventType: 'core.user_auth.login_success',
        displayMessage: 'User login to Okta',
        target: null,
        device: fastPass && agent === user.laptop ? user.fastPassDevice : null,
        debug: { authnRequestId: authn, behaviors: this.behaviors(net), risk: RISK_LOW, deviceFingerprint: user.deviceFingerprint },
      }),
    );
    at += rng.int(400, 3000);
    this.sso(session, at, opts.app ?? (rng.chance(0.65) ? this.org.dashboard : rng.pick(user.apps)));
    const state = this.state[user.index] as UserState;
    state[channel] = session;
    return { session, t: at };
  }

  private ensureSession(user: SimUser, t: number, channel: Channel): { session: Session; t: number } {
    const live = this.liveSession(user, t, channel);
    return live ? { session: live, t } : this.signIn(user, t, channel);
  }

  /** Opening an app from a live session (signing in first when there is none). */
  appAccess(user: SimUser, t: number): number {
    const rng = this.rng;
    const channel: Channel = rng.chance(0.15) ? 'phone' : 'laptop';
    const { session, t: t0 } = this.ensureSession(user, t, channel);
    let at = t0 + rng.int(1, 40) * SECOND;
    const app = rng.weighted(user.apps, (a) => a.spec.popularity);
    if (app.spec.stepUp) return this.stepUp(session, at, app);
    if (app.spec.signOnMode === 'OPENID_CONNECT') {
      this.sso(session, at, app);
      at += rng.int(5, 60);
      this.authorizationCode(session, at, app);
      at += rng.int(150, 900);
      this.tokenGrant(user, session.net, session.agent, at, app, 'id_token', 'authorization_code', session.auth);
      at += rng.int(2, 40);
      this.tokenGrant(user, session.net, session.agent, at, app, 'access_token', 'authorization_code', session.auth);
      return at;
    }
    if (rng.chance(0.4)) {
      this.policyEvaluation(session, at, ALLOW, app);
      at += rng.int(20, 200);
    }
    this.sso(session, at, app);
    return at;
  }

  /** An app whose policy asks for a second factor again. */
  stepUp(session: Session, t: number, app: AppInstance): number {
    const rng = this.rng;
    const user = session.user;
    let at = t;
    // Never push again within 20 minutes of a denied push in the same session: a real person who
    // just mis-tapped once is not a push-bombing victim, and the simulation must not make one.
    const push = user.factor === 'OKTA_VERIFY_PUSH' && at - session.lastPushFailureAt > 20 * MINUTE;
    if (user.factor === 'OKTA_VERIFY_PUSH' && !push) {
      this.sso(session, at, app);
      return at;
    }
    this.policyEvaluation(session, at, CHALLENGE, app);
    const authn = rng.requestId();
    at += rng.int(300, 1500);
    if (push) {
      at = this.sendPush(session, at, authn);
      at += rng.int(3000, 15000);
      at = this.pushAnswer(session, at, 'approve', authn).t;
    } else {
      at += rng.int(1500, 9000);
      this.otherFactor(session, at, authn);
    }
    at += rng.int(300, 2000);
    this.sso(session, at, app);
    return at;
  }

  /** Background OAuth token refresh by an OIDC or native app. */
  tokenRefresh(user: SimUser, t: number): number {
    const rng = this.rng;
    const app = rng.pick(this.org.oauthApps);
    const native = app.spec.label === 'Acme Mobile';
    const agent = native ? rng.pick(this.org.nativeAgents) : user.laptop;
    const net = native ? user.mobile : this.netFor(user, t, 'laptop');
    this.tokenGrant(user, net, agent, t, app, 'access_token', 'refresh_token');
    if (rng.chance(0.45)) {
      const at = t + rng.int(3, 60);
      this.tokenGrant(user, net, agent, at, app, 'refresh_token', 'refresh_token');
      return at;
    }
    return t;
  }

  signOut(user: SimUser, t: number): number {
    const state = this.state[user.index] as UserState;
    const session = state.laptop;
    if (!session) return this.tokenRefresh(user, t);
    const req = this.req('/login/signout', this.rng.chance(0.5) ? 'message=login_page_messages.session_has_expired' : '');
    this.emit(
      t,
      requestSpec(session, req, {
        eventType: 'user.session.end',
        legacyEventType: 'core.user_auth.logout_success',
        displayMessage: 'User logout from Okta',
        target: null,
      }),
    );
    state.laptop = undefined;
    return t;
  }

  updateProfile(user: SimUser, t: number): number {
    const { session, t: t0 } = this.ensureSession(user, t, 'laptop');
    const at = t0 + this.rng.int(10, 120) * SECOND;
    this.emit(
      at,
      requestSpec(session, this.req('/idp/myaccount/profile'), {
        eventType: 'user.account.update_profile',
        legacyEventType: 'core.user.config.profile_update.success',
        displayMessage: 'Update user profile for Okta',
        target: user.targets.self,
        debug: { changedAttributes: this.rng.pick(['mobilePhone', 'nickName', 'mobilePhone,secondEmail', 'preferredLanguage']) },
      }),
    );
    return at;
  }

  /** The person changes their own password (a near miss for "password reset by Okta support"). */
  changeOwnPassword(user: SimUser, t: number): { t: number; events: OktaEvent[] } {
    const { session, t: t0 } = this.ensureSession(user, t, 'laptop');
    const at = t0 + this.rng.int(10, 90) * SECOND;
    const ev = this.emit(
      at,
      requestSpec(session, this.req('/idp/myaccount/password'), {
        eventType: 'user.account.update_password',
        legacyEventType: 'core.user.config.password_update.success',
        displayMessage: 'User update password for Okta',
        target: user.targets.self,
      }),
    );
    return { t: at, events: [ev] };
  }

  /** A customer admin in the Admin Console: opening it, then a membership change. */
  adminWork(admin: SimUser, t: number): number {
    const rng = this.rng;
    const { session, t: t0 } = this.ensureSession(admin, t, 'laptop');
    let at = t0 + rng.int(2, 30) * SECOND;
    this.accessAdminApp(session, at);
    at += rng.int(20, 240) * SECOND;
    const subject = rng.pick(this.org.users);
    if (rng.chance(0.6)) {
      const group = rng.pick(this.org.groups.slice(1));
      this.emit(
        at,
        requestSpec(session, this.req(`/api/v1/groups/${group.id}/users/${subject.id}`), {
          eventType: 'group.user_membership.add',
          legacyEventType: 'core.user_group_member.user_add',
          displayMessage: 'Add user to group membership',
          target: [subject.target, group],
        }),
      );
    } else {
      const app = rng.pick(this.org.apps);
      this.emit(
        at,
        requestSpec(session, this.req(`/api/v1/apps/${app.id}/users`), {
          eventType: 'application.user_membership.add',
          legacyEventType: 'app.generic.provision.assign_user_to_app',
          displayMessage: 'Add user to application membership',
          target: [
            this.appUser(subject, app),
            app.target,
            subject.target,
          ],
        }),
      );
    }
    return at;
  }

  accessAdminApp(session: Session, t: number, debugExtra?: DebugData): OktaEvent {
    return this.emit(
      t,
      requestSpec(session, this.req('/admin/sso/callback'), {
        eventType: 'user.session.access_admin_app',
        displayMessage: 'User accessing Okta admin app',
        target: [this.org.adminConsole.target],
        debug: debugExtra,
      }),
      false,
    );
  }

  /** A customer admin resets someone's password (a near miss for "reset by Okta support"). */
  adminResetPassword(admin: SimUser, subject: SimUser, t: number): { t: number; events: OktaEvent[] } {
    const { session, t: t0 } = this.ensureSession(admin, t, 'laptop');
    let at = t0 + this.rng.int(5, 40) * SECOND;
    const events = [this.accessAdminApp(session, at)];
    at += this.rng.int(30, 180) * SECOND;
    events.push(
      this.emit(
        at,
        requestSpec(session, this.req(`/api/v1/users/${subject.id}/lifecycle/reset_password`, 'sendEmail=true'), {
          eventType: 'user.account.reset_password',
          legacyEventType: 'core.user.config.user_status.password_reset',
          displayMessage: "Fired when the user's Okta password is reset",
          target: subject.targets.self,
        }),
        false,
      ),
    );
    return { t: at, events };
  }

  /**
   * A customer admin resets all of someone's factors from the Admin Console (what a help desk does
   * when a caller says they lost their phone): `user.mfa.factor.reset_all` with the person as target.
   * `events` are the Admin Console access and the reset; the reset is the last one.
   */
  adminResetFactors(admin: SimUser, subject: SimUser, t: number): { t: number; events: OktaEvent[] } {
    const { session, t: t0 } = this.ensureSession(admin, t, 'laptop');
    let at = t0 + this.rng.int(5, 40) * SECOND;
    const events = [this.accessAdminApp(session, at)];
    at += this.rng.int(20, 90) * SECOND;
    events.push(
      this.emit(
        at,
        requestSpec(session, this.req(`/api/v1/users/${subject.id}/lifecycle/reset_factors`), {
          eventType: 'user.mfa.factor.reset_all',
          legacyEventType: 'core.user.factor.reset_all',
          displayMessage: 'Reset all factors for user',
          target: subject.targets.self,
        }),
        false,
      ),
    );
    return { t: at, events };
  }

  // ---------------------------------------------------------------- system@okta.com

  /** A routine event of `system@okta.com`: JOB transaction with a real id, no client, no addresses. */
  systemSpec(transaction: OktaTransaction, fields: EventNames & { debug?: DebugData }): EventSpec {
    const emptyClient = this.rng.chance(0.3);
    const noDebug = this.rng.chance(0.4);
    return systemEventSpec(this.org.systemActor, {
      ...fields,
      transaction,
      client: emptyClient ? EMPTY_CLIENT : NULL_CLIENT,
      debugData: fields.debug ?? (noDebug ? undefined : {}),
    });
  }

  /** One piece of the routine work Okta does on its own (imports, group rules, provisioning, password sync). */
  systemWork(t: number, only?: SystemWorkKind): { t: number; events: OktaEvent[] } {
    const rng = this.rng;
    const users = this.org.users;
    const events: OktaEvent[] = [];
    const job = this.job();
    let at = t;
    const kind = only ?? rng.weighted(SYSTEM_WORK_KINDS, (k) => ({ import: 2, 'group-rule': 3, provision: 4, 'password-sync': 1 })[k]);
    const add = (spec: EventSpec): void => {
      events.push(this.emit(at, spec, false));
      at += rng.int(15, 900);
    };
    switch (kind) {
      case 'import': {
        add(this.systemSpec(job, { eventType: 'system.import.start', displayMessage: 'Import started', target: null }));
        const changes = rng.int(1, 4);
        for (let i = 0; i < changes; i++) {
          const subject = rng.pick(users);
          add(
            this.systemSpec(job, {
              eventType: 'user.account.update_profile',
              legacyEventType: 'core.user.config.profile_update.success',
              displayMessage: 'Update user profile for Okta',
              target: subject.targets.self,
              debug: { changedAttributes: rng.pick(['title', 'department', 'manager', 'title,department']) },
            }),
          );
        }
        if (rng.chance(0.3)) {
          const first = rng.pick(['Ana', 'Ben', 'Chidi', 'Dora', 'Emil', 'Farah']);
          const last = rng.pick(['Marsh', 'Ortega', 'Lindqvist', 'Banerjee']);
          const login = `${first}.${last}${rng.int(1, 99)}@${this.org.domain}`.toLowerCase();
          const newcomer: OktaTarget = { id: rng.oktaId('00u'), type: 'User', alternateId: login, displayName: `${first} ${last}`, detailEntry: null };
          add(this.systemSpec(job, { eventType: 'user.lifecycle.create', legacyEventType: 'core.user.config.user_creation.success', displayMessage: 'Create Okta user', target: [newcomer] }));
          add(this.systemSpec(job, { eventType: 'user.lifecycle.activate', legacyEventType: 'core.user.config.user_activated', displayMessage: 'Activate Okta user', target: [newcomer] }));
        }
        add(this.systemSpec(job, { eventType: 'system.import.complete', displayMessage: 'Import completed', target: null }));
        break;
      }
      case 'group-rule': {
        const subject = rng.pick(users);
        add(
          this.systemSpec(job, {
            eventType: 'group.user_membership.add',
            legacyEventType: 'core.user_group_member.user_add',
            displayMessage: 'Add user to group membership',
            target: [subject.target, rng.pick(this.org.groups)],
          }),
        );
        break;
      }
      case 'provision': {
        const subject = rng.pick(users);
        const app = rng.pick(subject.apps);
        add(
          this.systemSpec(job, {
            eventType: 'app.user_management.push_profile_success',
            legacyEventType: 'app.user_management.push_profile_success',
            displayMessage: "Push user's profile to external application",
            target: [
              this.appUser(subject, app),
              app.target,
            ],
          }),
        );
        break;
      }
      case 'password-sync':
        events.push(...this.systemPasswordSync(rng.pick(users), at).events);
        break;
    }
    return { t: at, events };
  }

  /**
   * `system@okta.com` writes a password synchronised from the directory: same actor and event type
   * family as a support reset, but a JOB with a real transaction id (a near miss).
   */
  systemPasswordSync(subject: SimUser, t: number): { t: number; events: OktaEvent[] } {
    const ev = this.emit(
      t,
      this.systemSpec(this.job(), {
        eventType: 'user.account.update_password',
        legacyEventType: 'core.user.config.password_update.success',
        displayMessage: 'User update password for Okta',
        target: subject.targets.self,
      }),
      false,
    );
    return { t, events: [ev] };
  }

  // ---------------------------------------------------------------- the benign mix

  /** Marks a person busy until `t` and returns when they are free at or after `t`. */
  freeAt(user: SimUser, t: number): number {
    const state = this.state[user.index] as UserState;
    return t > state.busyUntil ? t : state.busyUntil + this.rng.int(5, 90) * SECOND;
  }

  /** One everyday episode for `user` starting around `t`. */
  episode(user: SimUser, t: number): void {
    const rng = this.rng;
    const start = this.freeAt(user, t);
    const r = rng.next() * 100;
    let end: number;
    if (user.isAdmin && r < 4) end = this.adminWork(user, start);
    else if (r < 50) end = this.appAccess(user, start);
    else if (r < 76) end = this.tokenRefresh(user, start);
    else if (r < 88) {
      const live = this.liveSession(user, start, 'laptop');
      end = live ? this.appAccess(user, start) : this.signIn(user, start, rng.chance(0.15) ? 'phone' : 'laptop').t;
    } else if (r < 93) end = this.signOut(user, start);
    else if (r < 95) {
      const { session, t: t0 } = this.ensureSession(user, start, 'laptop');
      const app = user.apps.find((a) => a.spec.stepUp) ?? rng.pick(user.apps);
      end = this.stepUp(session, t0 + rng.int(5, 60) * SECOND, app);
    } else if (r < 95.6) end = this.signIn(user, start, 'laptop', { wrongPassword: true }).t;
    else if (r < 97.3 && user.factor === 'OKTA_VERIFY_PUSH') end = this.signIn(user, start, 'laptop', { denyFirstPush: true }).t;
    else if (r < 97.8) end = this.updateProfile(user, start);
    else if (r < 98.1) end = this.changeOwnPassword(user, start).t;
    else end = this.appAccess(user, start);
    (this.state[user.index] as UserState).busyUntil = end;
  }
}

export const TIME = { SECOND, MINUTE, HOUR };
export type { Channel };
