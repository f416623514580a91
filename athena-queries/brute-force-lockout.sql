-- id: brute-force-lockout
-- title: Brute force or account lockout
-- kind: detection
-- severity: medium
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1110.001
-- finding_key: org, user_login
-- description: One user failed to sign in (user.session.start, outcome FAILURE) at least 10 times
--   within an hour, or the account was locked out (user.account.lock) after too many failed
--   attempts. Guessing one account's password trips both.
-- runbook: Ask the user whether they were locked out by their own attempts. If the failures come
--   from addresses they do not use (src_ips), keep the account locked, reset its password, and
--   block the addresses. Check for a later successful sign-in (success-after-credential-attack).
WITH attempts AS (
  SELECT
    org,
    published,
    eventType AS event_type,
    client.ipAddress AS src_ip,
    CASE
      WHEN eventType = 'user.account.lock'
        THEN coalesce(element_at(filter(target, x -> x.type = 'User'), 1).alternateId, actor.alternateId)
      ELSE actor.alternateId
    END AS user_login
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND (eventType = 'user.account.lock' OR (eventType = 'user.session.start' AND outcome.result = 'FAILURE'))
),
by_user AS (
  SELECT
    org,
    user_login,
    count_if(event_type = 'user.session.start') AS failures,
    count_if(event_type = 'user.account.lock') AS lockouts,
    count(DISTINCT src_ip) AS distinct_ips,
    min(published) AS first_seen,
    max(published) AS last_seen,
    array_join(array_sort(array_agg(DISTINCT src_ip) FILTER (WHERE src_ip IS NOT NULL)), ', ') AS src_ips
  FROM attempts
  WHERE user_login IS NOT NULL
  GROUP BY org, user_login
)
SELECT
  org,
  user_login,
  failures,
  lockouts,
  distinct_ips,
  first_seen,
  last_seen,
  src_ips,
  CAST(failures AS varchar) || ' failed sign-ins and ' || CAST(lockouts AS varchar) || ' lockouts of ' || user_login
    || ' from ' || CAST(distinct_ips AS varchar) || ' addresses' AS summary
FROM by_user
WHERE failures >= 10 OR lockouts >= 1
ORDER BY first_seen
