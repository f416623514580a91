-- id: events-per-hour
-- title: Events per hour
-- kind: hunt
-- severity: info
-- schedule: none
-- lookback: 7d
-- mitre: none
-- finding_key: none
-- description: How many events each hour partition (org, dt, hour) holds over the last 7 days: the
--   shape of the day, and gaps that mean ingestion stopped. Reads no data column but published.
SELECT
  org,
  dt,
  hour,
  count(*) AS events
FROM okta_system_log
WHERE dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
  AND published >= current_timestamp - INTERVAL '7' DAY
  AND published <= current_timestamp
GROUP BY org, dt, hour
ORDER BY org, dt, hour
