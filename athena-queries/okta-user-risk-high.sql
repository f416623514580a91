-- id: okta-user-risk-high
-- title: Okta raised a user's risk to high
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1078.004
-- finding_key: org, event_uuid
-- description: Okta Identity Threat Protection raised a user's entity risk to HIGH (user.risk.detect
--   or user.risk.change whose risk level is HIGH and was not HIGH before), in
--   securityContext.risk or, as Okta documents the event, in the risk text of debugData
--   ("{previousLevel=LOW, level=HIGH, detectionName=..., reasons=..., issuer=OKTA}"). Okta sets
--   HIGH for a user who reported an event as not theirs, for Okta Threat Intelligence matches
--   (phishing infrastructure used against the account), an admin's report, or a critical action
--   from a high-threat address (detection_name says which).
-- runbook: Check detection_name and reasons. Unless the entity risk policy already did, end the
--   user's sessions (Universal Logout), reset the password and factors, and review the user's
--   recent activity (user-timeline hunt) and the address the risk came from.
-- sources: Okta's detection catalog, okta/customer-detections detections/itp_user_risk_changed_to_high.yml
--   (user.risk.detect with debugContext.debugData.risk containing " level=HIGH");
--   developer.okta.com/docs/reference/api/itp-et (user.risk.change, its Risk key-value pair);
--   help.okta.com ITP "Detections" (which detections set HIGH); LogRisk in okta-sdk-nodejs
--   oas-spec/management.yaml.
WITH risk_events AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    element_at(filter(target, x -> x.type = 'User'), 1).alternateId AS target_login,
    client.ipAddress AS src_ip,
    securityContext.risk.level AS level,
    securityContext.risk.previousLevel AS previous_level,
    securityContext.risk.detectionName AS detection_name,
    array_join(securityContext.risk.reasons, '; ') AS reasons,
    element_at(debugContext.debugData, 'risk') AS risk_text
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType IN ('user.risk.detect', 'user.risk.change')
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  coalesce(target_login, actor_login) AS user_login,
  coalesce(previous_level, 'unknown') AS previous_level,
  detection_name,
  coalesce(reasons, risk_text) AS reasons,
  src_ip,
  'Okta raised the risk of ' || coalesce(target_login, actor_login, 'an unknown user') || ' from '
    || coalesce(previous_level, 'unknown') || ' to HIGH' || coalesce(': ' || detection_name, '') AS summary
FROM risk_events
WHERE (level = 'HIGH' AND coalesce(previous_level, '') <> 'HIGH')
  OR (level IS NULL
    AND (risk_text LIKE '% level=HIGH%' OR risk_text LIKE '{level=HIGH%')
    AND risk_text NOT LIKE '%previousLevel=HIGH%')
ORDER BY published
