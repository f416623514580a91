-- id: impossible-travel
-- title: Impossible travel between sign-ins
-- kind: detection
-- severity: medium
-- schedule: rate(1 hour)
-- lookback: 1d
-- mitre: T1078.004
-- finding_key: org, actor_id, to_time
-- description: Two consecutive successful sign-ins (user.session.start) of one user, within a day,
--   from places at least 500 km apart and further apart than 900 km per hour of time between them
--   (faster than an airliner). Someone else is probably using the account. Geolocation of mobile
--   networks and VPNs can be far off, so this is medium severity.
-- runbook: Compare the two sign-ins (from_* and to_* columns) with where the user is. If one of
--   them is not the user, end all their sessions, reset the password and factors, and review the
--   session from the unexpected place (user-timeline hunt).
WITH sign_ins AS (
  SELECT
    org,
    coalesce(actor.id, actor.alternateId) AS actor_id,
    actor.alternateId AS user_login,
    published,
    client.ipAddress AS src_ip,
    client.geographicalContext.city AS city,
    client.geographicalContext.country AS country,
    client.geographicalContext.geolocation.lat AS lat,
    client.geographicalContext.geolocation.lon AS lon
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' DAY, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' DAY, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' DAY, '%H'))
    AND published >= current_timestamp - INTERVAL '1' DAY
    AND published <= current_timestamp
    AND eventType = 'user.session.start'
    AND outcome.result = 'SUCCESS'
    AND client.geographicalContext.geolocation.lat IS NOT NULL
    AND client.geographicalContext.geolocation.lon IS NOT NULL
),
pairs AS (
  SELECT
    org,
    actor_id,
    user_login,
    lag(published) OVER (PARTITION BY org, actor_id ORDER BY published) AS from_time,
    lag(src_ip) OVER (PARTITION BY org, actor_id ORDER BY published) AS from_ip,
    lag(city) OVER (PARTITION BY org, actor_id ORDER BY published) AS from_city,
    lag(country) OVER (PARTITION BY org, actor_id ORDER BY published) AS from_country,
    lag(lat) OVER (PARTITION BY org, actor_id ORDER BY published) AS from_lat,
    lag(lon) OVER (PARTITION BY org, actor_id ORDER BY published) AS from_lon,
    published AS to_time,
    src_ip AS to_ip,
    city AS to_city,
    country AS to_country,
    lat AS to_lat,
    lon AS to_lon
  FROM sign_ins
),
measured AS (
  SELECT
    *,
    2 * 6371 * asin(sqrt(
      power(sin(radians(to_lat - from_lat) / 2), 2)
      + cos(radians(from_lat)) * cos(radians(to_lat)) * power(sin(radians(to_lon - from_lon) / 2), 2)
    )) AS distance_km,
    (to_unixtime(to_time) - to_unixtime(from_time)) / 3600.0 AS hours
  FROM pairs
  WHERE from_time IS NOT NULL
)
SELECT
  org,
  actor_id,
  user_login,
  from_time,
  from_ip,
  from_city,
  from_country,
  to_time,
  to_ip,
  to_city,
  to_country,
  CAST(round(distance_km) AS bigint) AS distance_km,
  CAST(round(distance_km / CASE WHEN hours < 0.01 THEN 0.01 ELSE hours END) AS bigint) AS speed_kmh,
  coalesce(user_login, actor_id) || ' signed in from ' || coalesce(from_city, '?') || ', ' || coalesce(from_country, '?')
    || ' then ' || coalesce(to_city, '?') || ', ' || coalesce(to_country, '?') || ': '
    || CAST(CAST(round(distance_km) AS bigint) AS varchar) || ' km in '
    || CAST(CAST(round(hours * 60) AS bigint) AS varchar) || ' minutes' AS summary
FROM measured
WHERE distance_km >= 500
  AND distance_km > 900 * hours
ORDER BY to_time
