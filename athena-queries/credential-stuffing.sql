-- id: credential-stuffing
-- title: Credential stuffing from rotating addresses
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1110.004
-- finding_key: org, as_number
-- description: Failed sign-ins (user.session.start, outcome FAILURE) for at least 10 different
--   usernames from at least 3 addresses of one network (autonomous system) within an hour, with
--   failures outnumbering the users who signed in from that network three to one. Stolen
--   username/password lists are replayed through proxy pools that rotate addresses inside a hosting
--   or proxy provider; usernames that do not exist in the org (reason UNKNOWN_USER) are typical.
-- runbook: Block the network's addresses (ip-activity hunt for each) in a blocklist zone unless it
--   is yours. Find users who then signed in successfully from it (success-after-credential-attack)
--   and reset their passwords. Check whether the usernames come from a known breach.
WITH attempts AS (
  SELECT
    org,
    securityContext.asNumber AS as_number,
    securityContext.asOrg AS as_org,
    client.ipAddress AS src_ip,
    actor.alternateId AS user_login,
    outcome.result AS result,
    outcome.reason AS reason,
    published
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType = 'user.session.start'
    AND securityContext.asNumber IS NOT NULL
),
by_network AS (
  SELECT
    org,
    as_number,
    min(as_org) AS as_org,
    count(DISTINCT CASE WHEN result = 'FAILURE' THEN user_login END) AS failed_users,
    count(DISTINCT CASE WHEN result = 'FAILURE' AND reason = 'UNKNOWN_USER' THEN user_login END) AS unknown_users,
    count(DISTINCT CASE WHEN result = 'FAILURE' THEN src_ip END) AS failing_ips,
    count(DISTINCT CASE WHEN result = 'SUCCESS' THEN user_login END) AS succeeded_users,
    count_if(result = 'FAILURE') AS failures,
    min(published) FILTER (WHERE result = 'FAILURE') AS first_failure,
    max(published) FILTER (WHERE result = 'FAILURE') AS last_failure,
    array_join(array_sort(array_agg(DISTINCT src_ip) FILTER (WHERE result = 'FAILURE' AND src_ip IS NOT NULL)), ', ') AS src_ips
  FROM attempts
  GROUP BY org, as_number
)
SELECT
  org,
  as_number,
  as_org,
  failed_users,
  unknown_users,
  failing_ips,
  succeeded_users,
  failures,
  first_failure,
  last_failure,
  src_ips,
  CAST(failures AS varchar) || ' failed sign-ins for ' || CAST(failed_users AS varchar) || ' usernames ('
    || CAST(unknown_users AS varchar) || ' unknown) from ' || CAST(failing_ips AS varchar) || ' addresses of AS'
    || CAST(as_number AS varchar) || ' ' || coalesce(as_org, '') AS summary
FROM by_network
WHERE failed_users >= 10
  AND failing_ips >= 3
  AND failed_users >= 3 * succeeded_users
ORDER BY first_failure
