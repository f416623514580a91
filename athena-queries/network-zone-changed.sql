-- id: network-zone-changed
-- title: Network zone changed
-- kind: detection
-- severity: medium
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1562.007
-- finding_key: org, event_uuid
-- description: A network zone was created, updated, activated, deactivated, deleted or had its
--   blocklist changed (zone.* events). Policies trust or block addresses through zones: adding an
--   attacker's addresses to a trusted zone, or removing a blocklist, quietly disables controls.
-- runbook: Confirm the change with the admin (actor_login). If unplanned, restore the zone's
--   gateways and proxies from your records, and review sign-ins from addresses the change allowed.
WITH changes AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(filter(target, x -> x.type = 'NetworkZone'), 1) AS zone_target
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType LIKE 'zone.%'
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  actor_login,
  zone_target.displayName AS zone_name,
  zone_target.id AS zone_id,
  src_ip,
  event_type || ' of network zone ' || coalesce(zone_target.displayName, zone_target.id, '(unnamed)')
    || ' by ' || coalesce(actor_login, 'unknown actor') AS summary
FROM changes
ORDER BY published
