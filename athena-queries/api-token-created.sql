-- id: api-token-created
-- title: API token created
-- kind: detection
-- severity: medium
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1098.001
-- finding_key: org, event_uuid
-- description: An Okta API token was created (system.api_token.create). A token acts with the
--   rights of the admin who made it and outlives that admin's sessions and password changes: a
--   favourite way to keep access after taking over an admin account.
-- runbook: Ask the creating admin (actor_login) what the token is for. If nobody knows it, revoke
--   it (Security > API > Tokens), then review the admin's recent activity (user-timeline hunt).
--   Prefer OAuth service apps with scoped grants over SSWS tokens.
WITH tokens AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(filter(target, x -> x.type = 'Token'), 1) AS token
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType = 'system.api_token.create'
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  actor_login,
  token.displayName AS token_name,
  token.id AS token_id,
  src_ip,
  coalesce(actor_login, 'unknown actor') || ' created API token ' || coalesce(token.displayName, token.id, '(unnamed)') AS summary
FROM tokens
ORDER BY published
