-- id: user-timeline
-- title: One user's timeline
-- kind: hunt
-- severity: info
-- schedule: none
-- lookback: 30d
-- mitre: none
-- finding_key: none
-- parameters: user
-- description: Every event of the last 30 days in which the user (their login, e.g.
--   jane.doe@example.com, compared without case) is the actor or one of the targets, oldest first,
--   with where it came from and in which session.
WITH params AS (
  SELECT lower(CAST(? AS varchar)) AS login
)
SELECT
  l.org,
  l.published AS event_time,
  l.eventType AS event_type,
  l.displayMessage AS display_message,
  l.outcome.result AS result,
  l.outcome.reason AS reason,
  l.actor.alternateId AS actor_login,
  element_at(filter(l.target, x -> x.type = 'User'), 1).alternateId AS target_user,
  l.client.ipAddress AS src_ip,
  l.client.geographicalContext.city AS city,
  l.client.geographicalContext.country AS country,
  l.authenticationContext.externalSessionId AS session_id,
  l.uuid AS event_uuid
FROM okta_system_log l
CROSS JOIN params p
WHERE l.dt >= date_format(current_timestamp - INTERVAL '30' DAY, '%Y-%m-%d')
  AND l.published >= current_timestamp - INTERVAL '30' DAY
  AND l.published <= current_timestamp
  AND (
    lower(l.actor.alternateId) = p.login
    OR cardinality(filter(l.target, x -> lower(x.alternateId) = p.login)) > 0
  )
ORDER BY l.published
