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
initiations AS (
  SELECT *
  FROM impersonation
  WHERE event_type = 'user.session.impersonation.initiate'
    AND published >= current_timestamp - INTERVAL '2' HOUR
),
grants AS (
  SELECT org, published
  FROM impersonation
  WHERE event_type = 'user.session.impersonation.grant'
)
SELECT
  i.org,
  i.published AS initiated_at,
  i.actor_id,
  i.actor_login,
  i.target_user.alternateId AS impersonated_user,
  i.src_ip,
  'Okta support impersonation by ' || coalesce(i.actor_login, 'unknown actor')
    || ' of ' || coalesce(i.target_user.alternateId, 'an unknown user')
    || ' with no support access granted in the 8 hours before' AS summary
FROM initiations i
LEFT JOIN grants g
  ON g.org = i.org
  AND g.published <= i.published
  AND g.published >= i.published - INTERVAL '8' HOUR
WHERE g.published IS NULL
ORDER BY i.published
