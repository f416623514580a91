-- id: admin-role-granted
-- title: Admin role granted
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1098.003
-- finding_key: org, event_uuid
-- description: An administrator role was granted to a user (user.account.privilege.grant) or to a
--   group (group.privilege.grant). Attackers who take over an admin account give admin roles to
--   accounts they control so they keep access after the first one is cleaned up.
-- runbook: Check with the granting admin (actor_login) that the grant was planned (a ticket, a
--   change request). If not, revoke the role, suspend the actor's account and the grantee's, and
--   review both accounts' activity with the user-timeline hunt.
WITH grants AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(debugContext.debugData, 'privilegeGranted') AS privilege,
    element_at(filter(target, x -> x.type = 'User'), 1) AS target_user,
    element_at(filter(target, x -> x.type = 'UserGroup'), 1) AS target_group
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType IN ('user.account.privilege.grant', 'group.privilege.grant')
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  actor_login,
  target_user.alternateId AS target_user,
  target_group.displayName AS target_group,
  privilege,
  src_ip,
  coalesce(actor_login, 'unknown actor') || ' granted ' || coalesce(privilege, 'an admin role') || ' to '
    || coalesce(target_user.alternateId, 'group ' || target_group.displayName, 'an unknown target') AS summary
FROM grants
ORDER BY published
