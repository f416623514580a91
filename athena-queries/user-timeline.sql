-- id: user-timeline
-- title: One user's timeline
-- kind: hunt
-- severity: info
-- schedule: none
-- lookback: 30d
-- mitre: none
-- finding_key: none
-- parameters: user, user
-- description: Every event of the last 30 days in which the user (their login, e.g.
--   jane.doe@example.com, compared without case) is the actor or one of the targets, oldest first,
--   with where it came from and in which session.
-- In the Athena console: the query asks for the login twice (two ? placeholders, see the WHERE
--   clause); enter the same login in both boxes, in single quotes as a string:
--   'jane.doe@example.com' (not "jane.doe@example.com", which Trino reads as a column name).
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
WHERE l.dt >= date_format(current_timestamp - INTERVAL '30' DAY, '%Y-%m-%d')
  AND l.published >= current_timestamp - INTERVAL '30' DAY
  AND l.published <= current_timestamp
  -- The login is compared in two places, so it is passed twice: Athena takes a ? placeholder only
  -- in a WHERE clause, not in a SELECT list such as a WITH query holding it once ("Use
  -- parameterized queries", https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html).
  AND (
    lower(l.actor.alternateId) = lower(CAST(? AS varchar))
    OR cardinality(filter(l.target, x -> lower(x.alternateId) = lower(CAST(? AS varchar)))) > 0
  )
ORDER BY l.published
