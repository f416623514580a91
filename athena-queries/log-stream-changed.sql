-- id: log-stream-changed
-- title: Log stream changed
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1562.008
-- finding_key: org, event_uuid
-- description: A System Log stream (to AWS EventBridge or Splunk Cloud) was created, changed,
--   activated, deactivated or deleted (system.log_stream.lifecycle.*). Turning off or redirecting
--   the log stream blinds the tools that watch it; an attacker does it before the noisy part.
-- runbook: Confirm the change with the admin (actor_login) and the team that owns the SIEM. If
--   unplanned, restore the stream, check the SIEM for the gap, and review the admin's activity.
WITH changes AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(filter(target, x -> x.type = 'LogStream'), 1) AS stream
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType LIKE 'system.log\_stream.lifecycle.%' ESCAPE '\'
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  actor_login,
  stream.displayName AS stream_name,
  stream.id AS stream_id,
  src_ip,
  event_type || ' of log stream ' || coalesce(stream.displayName, stream.id, '(unnamed)')
    || ' by ' || coalesce(actor_login, 'unknown actor') AS summary
FROM changes
ORDER BY published
