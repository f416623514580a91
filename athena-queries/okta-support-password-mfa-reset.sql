-- id: okta-support-password-mfa-reset
-- title: Password or MFA reset by Okta support
-- kind: detection
-- severity: critical
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1199, T1556.006, T1098
-- finding_key: org, event_uuid
-- description: A password or MFA factor of a user was reset, changed or bypassed by Okta itself
--   (actor system@okta.com) in a support action: the transaction id is 'unknown' and there is no
--   user agent. Okta's routine jobs (directory password sync, imports) use the same actor but a
--   real transaction id, so they do not fire. An attacker with access to Okta's support tooling
--   takes over an account exactly this way.
-- runbook: Confirm with your Okta admins whether a support case asked Okta to reset this user's
--   password or factors. If not, treat the account as compromised: suspend it, end its sessions,
--   reset password and factors yourself, review its activity (user-timeline hunt), and open a
--   security case with Okta.
WITH changes AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    transaction.id AS transaction_id,
    element_at(filter(target, x -> x.type = 'User'), 1) AS target_user
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType IN (
      'user.account.reset_password',
      'user.account.update_password',
      'user.mfa.factor.update',
      'system.mfa.factor.deactivate',
      'user.mfa.attempt_bypass',
      'user.mfa.factor.reset_all'
    )
    AND actor.alternateId = 'system@okta.com'
    AND transaction.id = 'unknown'
    AND coalesce(client.userAgent.rawUserAgent, 'unknown') IN ('', 'unknown')
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  target_user.alternateId AS target_user,
  target_user.id AS target_user_id,
  actor_login,
  transaction_id,
  event_type || ' of ' || coalesce(target_user.alternateId, 'an unknown user')
    || ' by Okta support (system@okta.com, no transaction, no user agent)' AS summary
FROM changes
ORDER BY published
