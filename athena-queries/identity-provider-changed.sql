-- id: identity-provider-changed
-- title: Identity provider created or changed
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1484.002
-- finding_key: org, event_uuid
-- description: An identity provider was created, changed, activated, deactivated or deleted
--   (system.idp.lifecycle.*). An attacker with admin rights adds an IdP they control (inbound
--   federation) to sign in as any user without their password or MFA.
-- runbook: Confirm the change with the admin (actor_login) and your identity team. If unplanned,
--   deactivate the identity provider, remove its routing rules, and review sign-ins through it
--   (user.authentication.auth_via_IDP events) and the admin's activity.
WITH changes AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(filter(target, x -> x.type = 'IdentityProvider'), 1) AS idp
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType LIKE 'system.idp.lifecycle.%'
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  actor_login,
  idp.displayName AS idp_name,
  idp.id AS idp_id,
  src_ip,
  event_type || ' of identity provider ' || coalesce(idp.displayName, idp.id, '(unnamed)')
    || ' by ' || coalesce(actor_login, 'unknown actor') AS summary
FROM changes
ORDER BY published
