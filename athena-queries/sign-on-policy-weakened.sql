-- id: sign-on-policy-weakened
-- title: Sign-on policy or rule deactivated or deleted
-- kind: detection
-- severity: medium
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1556.006, T1562
-- finding_key: org, event_uuid
-- description: A policy or a policy rule was deactivated or deleted (policy.lifecycle.deactivate,
--   policy.lifecycle.delete, policy.rule.deactivate, policy.rule.delete). Removing a sign-on,
--   MFA or password rule is how an attacker with admin rights lowers the bar for the accounts they
--   want. Updates are not reported: the System Log does not say what changed, so they cannot be
--   told apart from routine edits; review them with the event-type-overview hunt.
-- runbook: Check with the admin (actor_login) that the change was planned. If not, reactivate or
--   recreate the policy or rule (policy_type says which kind), and review the admin's activity
--   and the sign-ins that the missing rule let through.
WITH changes AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(filter(target, x -> x.type = 'PolicyEntity'), 1) AS policy,
    element_at(filter(target, x -> x.type = 'PolicyRule'), 1) AS rule
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType IN ('policy.lifecycle.deactivate', 'policy.lifecycle.delete', 'policy.rule.deactivate', 'policy.rule.delete')
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  actor_login,
  policy.displayName AS policy_name,
  element_at(policy.detailEntry, 'policyType') AS policy_type,
  rule.displayName AS rule_name,
  src_ip,
  event_type || ' of ' || coalesce('rule ' || rule.displayName || ' in ', '') || 'policy '
    || coalesce(policy.displayName, '(unnamed)') || ' by ' || coalesce(actor_login, 'unknown actor') AS summary
FROM changes
ORDER BY published
