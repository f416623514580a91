-- id: session-roaming
-- title: One session used from several networks
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1539
-- finding_key: org, session_id
-- description: Events of one Okta session (authenticationContext.externalSessionId) came from at
--   least two different networks (securityContext.asNumber) within an hour, or Okta Identity Threat
--   Protection flagged the session as hijacked: an event of the session whose risk
--   (securityContext.risk, or the risk text of debugData) has the detection
--   "Session Influenced User Risk" or a reason saying the session is suspected to be hijacked (Okta
--   logs that when the session's context changes in a way that matches session hijacking, token
--   theft or token replay). A session cookie stolen by an adversary-in-the-middle kit or malware is
--   replayed from the attacker's network while the user's own browser keeps using it. Address
--   changes inside one network (a phone moving between cells) do not fire.
-- runbook: End the session and all the user's sessions, reset the password and factors, and
--   review what was done from the unfamiliar network (user-timeline hunt). Look for the phishing
--   page or infostealer that took the cookie; consider phishing-resistant factors (FastPass).
--   okta_flagged says whether Okta itself suspected the session.
-- sources: Okta's detection catalog, okta/customer-detections detections/itp_suspected_session_hijacking.yml
--   (user.risk.detect whose risk has "reasons=Associated sessionId is suspected to be hijacked");
--   help.okta.com ITP "Session influenced user risk" (the session id is in the risk event's
--   externalSessionId); LogRisk in okta-sdk-nodejs oas-spec/management.yaml.
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
    client.geographicalContext.country AS country,
    coalesce(securityContext.risk.detectionName = 'Session Influenced User Risk', false)
      OR coalesce(cardinality(filter(securityContext.risk.reasons, r -> lower(r) LIKE '%hijack%')) > 0, false)
      OR coalesce(element_at(debugContext.debugData, 'risk') LIKE '%Session Influenced User Risk%', false)
      OR coalesce(lower(element_at(debugContext.debugData, 'risk')) LIKE '%suspected to be hijacked%', false) AS okta_flagged
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND authenticationContext.externalSessionId IS NOT NULL
    AND authenticationContext.externalSessionId NOT IN ('unknown', '')
)
SELECT
  org,
  session_id,
  array_join(array_sort(array_agg(DISTINCT actor_login) FILTER (WHERE actor_type = 'User' AND actor_login IS NOT NULL)), ', ') AS users,
  count(DISTINCT as_number) AS networks,
  count(DISTINCT src_ip) AS addresses,
  count_if(okta_flagged) > 0 AS okta_flagged,
  array_join(array_sort(array_agg(DISTINCT as_org) FILTER (WHERE as_org IS NOT NULL)), ', ') AS as_orgs,
  array_join(array_sort(array_agg(DISTINCT src_ip) FILTER (WHERE src_ip IS NOT NULL)), ', ') AS src_ips,
  array_join(array_sort(array_agg(DISTINCT country) FILTER (WHERE country IS NOT NULL)), ', ') AS countries,
  min(published) AS first_seen,
  max(published) AS last_seen,
  'session ' || session_id || ' used from ' || CAST(count(DISTINCT as_number) AS varchar) || ' network(s): '
    || coalesce(array_join(array_sort(array_agg(DISTINCT as_org) FILTER (WHERE as_org IS NOT NULL)), ', '), 'unknown')
    || CASE WHEN count_if(okta_flagged) > 0 THEN '; Okta suspects the session is hijacked' ELSE '' END AS summary
FROM session_events
GROUP BY org, session_id
HAVING count(DISTINCT as_number) >= 2 OR count_if(okta_flagged) > 0
ORDER BY min(published)
