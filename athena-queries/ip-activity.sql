-- id: ip-activity
-- title: One address's activity
-- kind: hunt
-- severity: info
-- schedule: none
-- lookback: 30d
-- mitre: none
-- finding_key: none
-- parameters: ip
-- description: Every event of the last 30 days from one client address (client.ipAddress, exactly
--   as Okta logs it), oldest first: who it signed in as, what succeeded, which sessions it used.
-- In the Athena console: enter the address in single quotes as a string, '203.0.113.66' (not
--   "203.0.113.66", which Trino reads as a column name; unquoted, it is not valid SQL). See "Use
--   parameterized queries", https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html
SELECT
  org,
  published AS event_time,
  eventType AS event_type,
  outcome.result AS result,
  outcome.reason AS reason,
  actor.alternateId AS actor_login,
  element_at(filter(target, x -> x.type = 'User'), 1).alternateId AS target_user,
  authenticationContext.externalSessionId AS session_id,
  client.userAgent.rawUserAgent AS user_agent,
  securityContext.asOrg AS as_org,
  securityContext.isProxy AS is_proxy,
  client.geographicalContext.country AS country,
  uuid AS event_uuid
FROM okta_system_log
WHERE dt >= date_format(current_timestamp - INTERVAL '30' DAY, '%Y-%m-%d')
  AND published >= current_timestamp - INTERVAL '30' DAY
  AND published <= current_timestamp
  AND client.ipAddress = ?
ORDER BY published
