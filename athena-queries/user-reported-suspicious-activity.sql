-- id: user-reported-suspicious-activity
-- title: User reported suspicious activity
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1078.004
-- finding_key: org, event_uuid
-- description: A user reported an Okta event they did not recognise, from the e-mail Okta sends
--   about a new sign-in, factor or password change (user.account.report_suspicious_activity_by_enduser).
--   The user's own "this was not me" is one of the most reliable signals there is.
-- runbook: Open the reported event (reported_event_id) and the user's timeline. Unless it has an
--   innocent explanation, end the user's sessions, reset the password and factors, and look for
--   the same source address on other users (ip-activity hunt).
SELECT
  org,
  uuid AS event_uuid,
  published AS event_time,
  actor.alternateId AS user_login,
  element_at(debugContext.debugData, 'suspiciousActivityEventType') AS reported_event_type,
  element_at(debugContext.debugData, 'suspiciousActivityEventId') AS reported_event_id,
  element_at(debugContext.debugData, 'suspiciousActivityEventIp') AS reported_event_ip,
  client.ipAddress AS src_ip,
  coalesce(actor.alternateId, 'a user') || ' reported suspicious activity: '
    || coalesce(element_at(debugContext.debugData, 'suspiciousActivityEventType'), 'event type not given') AS summary
FROM okta_system_log
WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
  AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
  AND published >= current_timestamp - INTERVAL '1' HOUR
  AND published <= current_timestamp
  AND eventType = 'user.account.report_suspicious_activity_by_enduser'
ORDER BY published
