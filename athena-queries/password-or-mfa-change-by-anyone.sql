-- id: password-or-mfa-change-by-anyone
-- title: Password or MFA changes by anyone
-- kind: hunt
-- severity: info
-- schedule: none
-- lookback: 7d
-- mitre: T1098, T1556.006
-- finding_key: org, event_uuid
-- description: Every password reset or change and every MFA factor change, reset, deactivation or
--   bypass of the last 7 days, by anyone: users themselves, admins, Okta's jobs and Okta support.
--   The seed's broad query; the okta-support-password-mfa-reset detection is its alerting subset.
-- runbook: Look for changes by unexpected actors, clusters of changes by one admin, and changes
--   shortly before a sign-in from an unusual place.
WITH changes AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    actor.type AS actor_type,
    transaction.id AS transaction_id,
    client.ipAddress AS src_ip,
    client.userAgent.rawUserAgent AS user_agent,
    outcome.result AS result,
    element_at(filter(target, x -> x.type = 'User'), 1) AS target_user
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
    AND published >= current_timestamp - INTERVAL '7' DAY
    AND published <= current_timestamp
    AND eventType IN (
      'user.account.reset_password',
      'user.account.update_password',
      'user.mfa.factor.update',
      'user.mfa.factor.activate',
      'user.mfa.factor.deactivate',
      'system.mfa.factor.deactivate',
      'user.mfa.attempt_bypass',
      'user.mfa.factor.reset_all'
    )
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  result,
  actor_login,
  actor_type,
  target_user.alternateId AS target_user,
  transaction_id,
  src_ip,
  user_agent
FROM changes
ORDER BY published
