-- id: fastpass-phishing-declined
-- title: FastPass declined a phishing attempt
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1566
-- finding_key: org, event_uuid
-- description: Okta FastPass refused to sign a user in because the sign-in page was not Okta's
--   (outcome reason 'FastPass declined phishing attempt'). The user was lured to a phishing site
--   that relays to Okta; FastPass stopped it, but the user and the site are now known targets.
-- runbook: Tell the user their sign-in was a phishing attempt and find the lure (e-mail, SMS).
--   Block the phishing domain, search for other users who received it, and check whether any of
--   them use a factor that is not phishing-resistant.
SELECT
  org,
  uuid AS event_uuid,
  published AS event_time,
  eventType AS event_type,
  actor.alternateId AS user_login,
  client.ipAddress AS src_ip,
  client.userAgent.rawUserAgent AS user_agent,
  'FastPass declined a phishing attempt against ' || coalesce(actor.alternateId, 'an unknown user') AS summary
FROM okta_system_log
WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
  AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
  AND published >= current_timestamp - INTERVAL '1' HOUR
  AND published <= current_timestamp
  AND outcome.reason = 'FastPass declined phishing attempt'
ORDER BY published
