-- id: okta-support-impersonation
-- title: Okta support impersonation without a grant
-- kind: detection
-- severity: critical
-- schedule: rate(1 hour)
-- lookback: 10h
-- mitre: T1199, T1078.004
-- finding_key: org, actor_id, initiated_at
-- description: An Okta support impersonation session was initiated (user.session.impersonation.initiate)
--   with no grant of support access (user.session.impersonation.grant) in the 8 hours before it,
--   the default length of a grant. Support access is normally granted by one of your admins first;
--   an initiation without a grant is how the 2022-2023 attacks on Okta's support systems looked.
--   Initiations of the last 2 hours are reported; grants are searched 8 hours further back.
-- runbook: Ask your Okta admins whether anyone opened a support case and granted access. If not,
--   revoke support access (Settings > Account > Okta Support access), end the impersonated user's
--   sessions, review what the impersonating session did (hunt okta-support-access-review and the
--   user-timeline hunt for the impersonated user), and open a security case with Okta.
WITH impersonation AS (
  SELECT
    org,
    published,
    eventType AS event_type,
    actor.id AS actor_id,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(filter(target, x -> x.type = 'User'), 1) AS target_user
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '10' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '10' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '10' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '10' HOUR
    AND published <= current_timestamp
    AND eventType IN ('user.session.impersonation.grant', 'user.session.impersonation.initiate')
),
-- The last grant at or before each event, by a running maximum (one read of the table).
checked AS (
  SELECT
    *,
    max(CASE WHEN event_type = 'user.session.impersonation.grant' THEN published END)
      OVER (PARTITION BY org ORDER BY published) AS last_grant_at
  FROM impersonation
)
SELECT
  org,
  published AS initiated_at,
  actor_id,
  actor_login,
  target_user.alternateId AS impersonated_user,
  src_ip,
  last_grant_at,
  'Okta support impersonation by ' || coalesce(actor_login, 'unknown actor')
    || ' of ' || coalesce(target_user.alternateId, 'an unknown user')
    || ' with no support access granted in the 8 hours before' AS summary
FROM checked
WHERE event_type = 'user.session.impersonation.initiate'
  AND published >= current_timestamp - INTERVAL '2' HOUR
  AND (last_grant_at IS NULL OR last_grant_at < published - INTERVAL '8' HOUR)
ORDER BY published
