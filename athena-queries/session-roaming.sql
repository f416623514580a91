-- id: session-roaming
-- title: One session used from several networks
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1539
-- finding_key: org, session_id
-- description: Events of one Okta session (authenticationContext.externalSessionId) came from at
--   least two different networks (securityContext.asNumber) within an hour. A session cookie
--   stolen by an adversary-in-the-middle kit or malware is replayed from the attacker's network
--   while the user's own browser keeps using it. Address changes inside one network (a phone
--   moving between cells) do not fire.
-- runbook: End the session and all the user's sessions, reset the password and factors, and
--   review what was done from the unfamiliar network (user-timeline hunt). Look for the phishing
--   page or infostealer that took the cookie; consider phishing-resistant factors (FastPass).
WITH session_events AS (
  SELECT
    org,
    authenticationContext.externalSessionId AS session_id,
    actor.alternateId AS actor_login,
    actor.type AS actor_type,
    published,
    client.ipAddress AS src_ip,
    securityContext.asNumber AS as_number,
    securityContext.asOrg AS as_org,
    client.geographicalContext.country AS country
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND authenticationContext.externalSessionId IS NOT NULL
    AND authenticationContext.externalSessionId NOT IN ('unknown', '')
    AND securityContext.asNumber IS NOT NULL
)
SELECT
  org,
  session_id,
  array_join(array_sort(array_agg(DISTINCT actor_login) FILTER (WHERE actor_type = 'User' AND actor_login IS NOT NULL)), ', ') AS users,
  count(DISTINCT as_number) AS networks,
  count(DISTINCT src_ip) AS addresses,
  array_join(array_sort(array_agg(DISTINCT as_org) FILTER (WHERE as_org IS NOT NULL)), ', ') AS as_orgs,
  array_join(array_sort(array_agg(DISTINCT src_ip) FILTER (WHERE src_ip IS NOT NULL)), ', ') AS src_ips,
  array_join(array_sort(array_agg(DISTINCT country) FILTER (WHERE country IS NOT NULL)), ', ') AS countries,
  min(published) AS first_seen,
  max(published) AS last_seen,
  'session ' || session_id || ' used from ' || CAST(count(DISTINCT as_number) AS varchar) || ' networks: '
    || array_join(array_sort(array_agg(DISTINCT as_org) FILTER (WHERE as_org IS NOT NULL)), ', ') AS summary
FROM session_events
GROUP BY org, session_id
HAVING count(DISTINCT as_number) >= 2
ORDER BY min(published)
