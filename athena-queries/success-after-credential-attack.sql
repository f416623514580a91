-- id: success-after-credential-attack
-- title: Successful sign-in after a credential attack
-- kind: detection
-- severity: critical
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1110, T1078.004
-- finding_key: org, user_login, src_ip
-- description: A user signed in successfully (user.session.start, SUCCESS) after, within the hour,
--   either the same address failed to sign in as at least 5 different users with failures
--   outnumbering its successful users three to one (a spray source), or the same user failed to
--   sign in at least 10 times (brute force). The attack worked: a password is known to the attacker.
-- runbook: Treat the account as compromised: suspend it or end its sessions, reset its password
--   and factors, and review what the session did (user-timeline hunt). Block the source address
--   and check the other users it targeted (ip-activity hunt).
WITH attempts AS (
  SELECT
    org,
    published,
    actor.alternateId AS user_login,
    client.ipAddress AS src_ip,
    outcome.result AS result
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType = 'user.session.start'
    AND outcome.result IN ('SUCCESS', 'FAILURE')
    AND actor.alternateId IS NOT NULL
),
spray_sources AS (
  SELECT org, src_ip
  FROM attempts
  WHERE src_ip IS NOT NULL AND src_ip <> 'null'
  GROUP BY org, src_ip
  HAVING count(DISTINCT CASE WHEN result = 'FAILURE' THEN user_login END) >= 5
    AND count(DISTINCT CASE WHEN result = 'FAILURE' THEN user_login END)
      >= 3 * count(DISTINCT CASE WHEN result = 'SUCCESS' THEN user_login END)
),
successes AS (
  SELECT s.org, s.user_login, s.src_ip, s.published,
    count_if(f.src_ip = s.src_ip) AS failures_from_ip,
    count_if(f.user_login = s.user_login) AS failures_of_user,
    count(DISTINCT CASE WHEN f.src_ip = s.src_ip THEN f.user_login END) AS users_failed_from_ip
  FROM attempts s
  JOIN attempts f
    ON f.org = s.org
    AND f.result = 'FAILURE'
    AND f.published < s.published
    AND (f.src_ip = s.src_ip OR f.user_login = s.user_login)
  WHERE s.result = 'SUCCESS'
  GROUP BY s.org, s.user_login, s.src_ip, s.published
),
flagged AS (
  SELECT s.*, CASE WHEN src.src_ip IS NULL THEN 0 ELSE 1 END AS from_spray_source
  FROM successes s
  LEFT JOIN spray_sources src ON src.org = s.org AND src.src_ip = s.src_ip
)
SELECT
  org,
  user_login,
  src_ip,
  min(published) AS first_success_at,
  max(users_failed_from_ip) AS users_failed_from_ip,
  max(failures_of_user) AS failures_of_user,
  CASE WHEN max(from_spray_source) = 1 THEN 'password spray' ELSE 'brute force' END AS attack,
  user_login || ' signed in from ' || coalesce(src_ip, 'an unknown address') || ' after '
    || CASE WHEN max(from_spray_source) = 1
         THEN 'that address failed as ' || CAST(max(users_failed_from_ip) AS varchar) || ' users'
         ELSE CAST(max(failures_of_user) AS varchar) || ' failed attempts on the account' END AS summary
FROM flagged
WHERE from_spray_source = 1 OR failures_of_user >= 10
GROUP BY org, user_login, src_ip
ORDER BY min(published)
