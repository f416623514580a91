-- id: event-type-overview
-- title: Event types with counts, first and last seen
-- kind: hunt
-- severity: info
-- schedule: none
-- lookback: 7d
-- mitre: none
-- finding_key: none
-- description: Every event type of the last 7 days per org, how many events it has, and when it was
--   first and last seen. The first query to run on an unfamiliar org: rare types (admin changes,
--   policy and zone edits) stand out at the bottom.
WITH recent AS (
  SELECT org, eventType AS event_type, published
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
    AND published >= current_timestamp - INTERVAL '7' DAY
    AND published <= current_timestamp
)
SELECT
  org,
  event_type,
  count(*) AS events,
  min(published) AS first_seen,
  max(published) AS last_seen
FROM recent
GROUP BY org, event_type
ORDER BY org, count(*) DESC, event_type
