/**
 * Which planted attack of a simulated day (lib/demo/generate.ts) a finding belongs to: the detection
 * that must find each kind, and the values (uuids, people, sessions, addresses) that identify an
 * attack's events in a finding row.
 */
import type { OktaEvent } from '../lib/demo/generate';
import type { AttackKind } from '../lib/demo/scenarios';

/** The detection that must find each planted attack. */
export const FOUND_BY: Readonly<Record<AttackKind, string>> = {
  'support-impersonation': 'okta-support-impersonation',
  'support-password-reset': 'okta-support-password-mfa-reset',
  'mfa-push-bombing': 'mfa-push-bombing',
  'mfa-reset-takeover': 'mfa-reset-then-new-place-sign-in',
};

/** Values that identify a planted attack's events: uuids, people, sessions, addresses. */
export function identifiers(events: readonly OktaEvent[]): Set<string> {
  const ids = new Set<string>();
  for (const e of events) {
    ids.add(e.uuid);
    if (e.actor.alternateId !== 'system@okta.com') ids.add(e.actor.alternateId).add(e.actor.id);
    for (const t of e.target ?? []) if (t.type === 'User') ids.add(t.alternateId).add(t.id);
    const session = e.authenticationContext?.externalSessionId;
    if (session && session !== 'unknown') ids.add(session);
    if (e.client?.ipAddress && e.client.ipAddress !== 'null') ids.add(e.client.ipAddress);
  }
  return ids;
}

/** The text values of a finding row, lists split on ", " as the queries join them. */
export const values = (row: Readonly<Record<string, unknown>>): string[] => Object.values(row).flatMap((v) => (typeof v === 'string' ? [v, ...v.split(', ')] : []));
