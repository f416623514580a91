/**
 * Reference versions (plain TypeScript, no SQL) of the three seed detections, as docs/detections.md
 * states them, and of mfa-reset-then-new-place-sign-in (the rule in its SQL header). The demo tests use them to prove the generated day holds exactly the planted attacks
 * and that every near miss stays below the rules' thresholds.
 */

import type { OktaEvent } from '../../lib/demo/generate';
import { HOUR, MINUTE } from '../../lib/core/time';

const time = (e: OktaEvent): number => Date.parse(e.published);
const debug = (e: OktaEvent, key: string): unknown => e.debugContext?.debugData?.[key];

export const isPush = (e: OktaEvent): boolean => e.eventType === 'user.authentication.auth_via_mfa' && debug(e, 'factor') === 'OKTA_VERIFY_PUSH';

const isPushFailure = (e: OktaEvent): boolean =>
  e.eventType === 'user.mfa.okta_verify.deny_push' ||
  (isPush(e) && (e.outcome?.result === 'FAILURE' || e.outcome?.reason === 'INVALID_CREDENTIALS' || debug(e, 'pushOnlyResponseType') === 'OV_RESPONSE_DENY'));

/**
 * Sessions (`externalSessionId|actor.id`) with, inside some 10-minute window, at least `minPushes`
 * pushes (pushes under 2 s apart count once) and at least one failure.
 */
export function pushBombingSessions(events: readonly OktaEvent[], minPushes = 3): Set<string> {
  const bySession = new Map<string, OktaEvent[]>();
  for (const e of events) {
    if (!isPush(e) && e.eventType !== 'user.mfa.okta_verify.deny_push') continue;
    const key = `${e.authenticationContext?.externalSessionId}|${e.actor.id}`;
    const list = bySession.get(key) ?? [];
    list.push(e);
    bySession.set(key, list);
  }
  const flagged = new Set<string>();
  for (const [key, list] of bySession) {
    list.sort((a, b) => time(a) - time(b));
    const pushes: number[] = [];
    for (const e of list) if (isPush(e) && (pushes.length === 0 || time(e) - (pushes[pushes.length - 1] as number) >= 2000)) pushes.push(time(e));
    const failures = list.filter(isPushFailure).map(time);
    for (const start of pushes) {
      const inWindow = pushes.filter((t) => t >= start && t < start + 10 * MINUTE).length;
      const failed = failures.some((t) => t >= start && t < start + 10 * MINUTE);
      if (inWindow >= minPushes && failed) flagged.add(key);
    }
  }
  return flagged;
}

/** `user.session.impersonation.initiate` events with no grant in the 8 hours before them. */
export function ungrantedImpersonations(events: readonly OktaEvent[]): OktaEvent[] {
  const grants = events.filter((e) => e.eventType === 'user.session.impersonation.grant').map(time);
  return events.filter((e) => e.eventType === 'user.session.impersonation.initiate' && !grants.some((g) => g <= time(e) && time(e) - g <= 8 * HOUR));
}

export const SUPPORT_RESET_TYPES = new Set([
  'user.account.reset_password',
  'user.account.update_password',
  'user.mfa.factor.update',
  'system.mfa.factor.deactivate',
  'user.mfa.attempt_bypass',
  'user.mfa.factor.reset_all',
]);

/** Password or factor changes by `system@okta.com` through support tooling (transaction id "unknown"). */
export function supportResets(events: readonly OktaEvent[]): OktaEvent[] {
  return events.filter(
    (e) =>
      SUPPORT_RESET_TYPES.has(e.eventType) &&
      e.actor.alternateId === 'system@okta.com' &&
      e.transaction?.id === 'unknown' &&
      (e.client?.userAgent?.rawUserAgent ?? null) === null &&
      (e.client?.geographicalContext?.country ?? null) === null,
  );
}

const FACTOR_RESET_TYPES = new Set(['user.mfa.factor.reset_all', 'user.mfa.factor.deactivate', 'system.mfa.factor.deactivate']);

/** A sign-in or factor enrolment from a new address after a factor reset, as `user|reset uuid|address`. */
export type ResetFollowUp = `${string}|${string}|${string}`;

/**
 * MFA factors reset (the User target's, else the actor's), then within the hour a successful
 * sign-in or factor enrolment by that user from an address they did not sign in from in the 21 hours
 * before the reset. Each follow-up belongs to the user's latest reset before it. A reset the user
 * made themselves counts only when they signed in at all in those 21 hours.
 */
export function resetThenNewPlace(events: readonly OktaEvent[]): Set<ResetFollowUp> {
  const ok = events.filter((e) => e.outcome?.result === 'SUCCESS');
  const isReset = (e: OktaEvent): boolean => FACTOR_RESET_TYPES.has(e.eventType);
  const owner = (e: OktaEvent): string =>
    (isReset(e) ? (e.target?.find((t) => t.type === 'User')?.alternateId ?? e.actor.alternateId) : e.actor.alternateId).toLowerCase();
  const resets = ok.filter(isReset);
  const signIns = ok.filter((e) => e.eventType === 'user.session.start');
  const followUps = ok.filter((e) => e.eventType === 'user.session.start' || e.eventType === 'user.mfa.factor.activate');
  const found = new Set<ResetFollowUp>();
  for (const e of followUps) {
    const user = owner(e);
    const ip = e.client?.ipAddress;
    if (!ip || ip === 'null') continue;
    const reset = resets.filter((r) => owner(r) === user && time(r) < time(e)).sort((a, b) => time(b) - time(a))[0];
    if (!reset || time(e) - time(reset) > HOUR) continue;
    const known = signIns.filter((s) => owner(s) === user && time(s) < time(reset) && time(s) >= time(reset) - 21 * HOUR);
    if (known.some((s) => s.client?.ipAddress === ip)) continue;
    const bySomeoneElse = reset.actor.alternateId.toLowerCase() !== user;
    if (bySomeoneElse || known.length > 0) found.add(`${user}|${reset.uuid}|${ip}`);
  }
  return found;
}
