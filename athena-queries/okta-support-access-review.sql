-- id: okta-support-access-review
-- title: Okta support access: grants and impersonation sessions
-- kind: hunt
-- severity: info
-- schedule: none
-- lookback: 30d
-- mitre: T1199
-- finding_key: none
-- description: Every grant, revocation and impersonation session event of Okta support access of
--   the last 30 days (user.session.impersonation.*), oldest first, each initiation marked with
--   whether a grant preceded it within 8 hours. For reviewing what support did, and when.
WITH support AS (
  SELECT
    org,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(filter(target, x -> x.type = 'User'), 1).alternateId AS target_user
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '30' DAY, '%Y-%m-%d')
    AND published >= current_timestamp - INTERVAL '30' DAY
    AND published <= current_timestamp
    AND eventType LIKE 'user.session.impersonation.%'
),
grant_checks AS (
  SELECT s.org, s.published, s.event_type, s.actor_login, s.src_ip, s.target_user,
    count(g.published) AS grants_in_8h_before
  FROM support s
  LEFT JOIN support g
    ON g.org = s.org
    AND g.event_type = 'user.session.impersonation.grant'
    AND s.event_type = 'user.session.impersonation.initiate'
    AND g.published <= s.published
    AND g.published >= s.published - INTERVAL '8' HOUR
  GROUP BY s.org, s.published, s.event_type, s.actor_login, s.src_ip, s.target_user
)
SELECT
  org,
  published AS event_time,
  event_type,
  actor_login,
  target_user,
  src_ip,
  CASE
    WHEN event_type <> 'user.session.impersonation.initiate' THEN NULL
    WHEN grants_in_8h_before > 0 THEN 'yes'
    ELSE 'NO'
  END AS granted_before
FROM grant_checks
ORDER BY published
