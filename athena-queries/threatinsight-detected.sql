-- id: threatinsight-detected
-- title: Okta ThreatInsight detected a threat
-- kind: detection
-- severity: medium
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1110
-- finding_key: org, src_ip
-- description: Okta ThreatInsight flagged requests from an address as part of a credential-based
--   attack against Okta orgs (security.threat.detected), one finding per address. In log-only
--   mode these requests were still processed.
-- runbook: Check whether any user signed in successfully from the address (ip-activity hunt). If
--   ThreatInsight is in log-only mode, consider "Log and enforce" in Security > General.
SELECT
  org,
  client.ipAddress AS src_ip,
  count(*) AS events,
  min(published) AS first_seen,
  max(published) AS last_seen,
  array_join(array_sort(array_agg(DISTINCT outcome.reason) FILTER (WHERE outcome.reason IS NOT NULL)), ', ') AS reasons,
  min(securityContext.asOrg) AS as_org,
  min(client.geographicalContext.country) AS country,
  'ThreatInsight flagged ' || coalesce(client.ipAddress, 'an unknown address') || ' ' || CAST(count(*) AS varchar)
    || ' time(s): ' || coalesce(array_join(array_sort(array_agg(DISTINCT outcome.reason) FILTER (WHERE outcome.reason IS NOT NULL)), ', '), 'no reason given') AS summary
FROM okta_system_log
WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
  AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
  AND published >= current_timestamp - INTERVAL '1' HOUR
  AND published <= current_timestamp
  AND eventType = 'security.threat.detected'
GROUP BY org, client.ipAddress
ORDER BY min(published)
