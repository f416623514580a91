/**
 * Reference versions (plain TypeScript, no SQL) of the three seed detections, as the shared notes
 * define them. The demo tests use them to prove the generated day holds exactly the planted attacks
 * and that every near miss stays below the rules' thresholds.
 */

import type { OktaEvent } from '../../lib/demo/generate';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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
