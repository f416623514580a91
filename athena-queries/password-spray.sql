-- id: password-spray
-- title: Password spray from one address
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1110.003
-- finding_key: org, src_ip
-- description: One IP address failed to sign in (user.session.start, outcome FAILURE) as at least 10
--   different users within an hour, and failures outnumber the users who signed in successfully from
--   it at least three to one. The ratio keeps busy office and carrier addresses, where many people
--   sign in and a few mistype, from firing.
-- runbook: Block the address (a blocklist network zone) unless it is yours. Check whether any of
--   the targeted users signed in successfully from it (the success-after-credential-attack
--   detection, the ip-activity hunt); reset those users' passwords and end their sessions.
WITH attempts AS (
  SELECT
    org,
    client.ipAddress AS src_ip,
    actor.alternateId AS user_login,
    outcome.result AS result,
    published,
    securityContext.asOrg AS as_org,
    client.geographicalContext.country AS country
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType = 'user.session.start'
    AND client.ipAddress IS NOT NULL
    AND client.ipAddress <> 'null'
),
by_ip AS (
  SELECT
    org,
    src_ip,
    count(DISTINCT CASE WHEN result = 'FAILURE' THEN user_login END) AS failed_users,
    count(DISTINCT CASE WHEN result = 'SUCCESS' THEN user_login END) AS succeeded_users,
    count_if(result = 'FAILURE') AS failures,
    min(published) FILTER (WHERE result = 'FAILURE') AS first_failure,
    max(published) FILTER (WHERE result = 'FAILURE') AS last_failure,
    min(as_org) AS as_org,
    min(country) AS country,
    array_join(array_sort(array_agg(DISTINCT user_login) FILTER (WHERE result = 'FAILURE' AND user_login IS NOT NULL)), ', ') AS users
  FROM attempts
  GROUP BY org, src_ip
)
SELECT
  org,
  src_ip,
  failed_users,
  succeeded_users,
  failures,
  first_failure,
  last_failure,
  as_org,
  country,
  users,
  CAST(failures AS varchar) || ' failed sign-ins for ' || CAST(failed_users AS varchar) || ' users from ' || src_ip
    || ' (' || coalesce(as_org, 'unknown network') || ', ' || coalesce(country, 'unknown country') || ')' AS summary
FROM by_ip
WHERE failed_users >= 10
  AND failed_users >= 3 * succeeded_users
ORDER BY first_failure
