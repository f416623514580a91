-- id: mfa-push-bombing
-- title: MFA push bombing (Okta Verify fatigue)
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1621, T1110
-- finding_key: org, session_id, actor_id, severity
-- description: At least 3 Okta Verify pushes to one user in one session (externalSessionId) within
--   10 minutes, at least one of them denied. Pushes less than 2 seconds apart count as one (Okta
--   sends one push per enrolled device). A push is a system.push.send_factor_verify_push event, or
--   when those are missing, an answer (user.authentication.auth_via_mfa with debugData factor
--   OKTA_VERIFY_PUSH). A denial is any of its three forms: user.mfa.okta_verify.deny_push, an
--   answer with outcome reason INVALID_CREDENTIALS, or debugData pushOnlyResponseType
--   OV_RESPONSE_DENY. An approval after the first denial raises the severity to critical: the
--   user probably gave in and the attacker is signed in.
-- runbook: Call the user on a known number (not by e-mail or chat). If they did not sign in at that
--   time, reset their password (the attacker has it), end all their sessions, and review the
--   session's activity (user-timeline hunt). If it escalated to critical, treat the account as
--   taken over. Consider number challenge for Okta Verify and phishing-resistant factors.
WITH push_events AS (
  SELECT
    org,
    coalesce(authenticationContext.externalSessionId, 'unknown') AS session_id,
    coalesce(actor.id, 'unknown') AS actor_id,
    actor.alternateId AS actor_login,
    published,
    client.ipAddress AS src_ip,
    CASE WHEN eventType = 'system.push.send_factor_verify_push' THEN 'sent' ELSE 'answer' END AS kind,
    CASE
      WHEN eventType = 'user.mfa.okta_verify.deny_push' THEN 1
      WHEN outcome.reason = 'INVALID_CREDENTIALS' THEN 1
      WHEN element_at(debugContext.debugData, 'pushOnlyResponseType') = 'OV_RESPONSE_DENY' THEN 1
      ELSE 0
    END AS denied,
    CASE WHEN eventType = 'user.authentication.auth_via_mfa' AND outcome.result = 'SUCCESS' THEN 1 ELSE 0 END AS approved
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND (
      eventType IN ('system.push.send_factor_verify_push', 'user.mfa.okta_verify.deny_push')
      OR (eventType = 'user.authentication.auth_via_mfa'
        AND element_at(debugContext.debugData, 'factor') = 'OKTA_VERIFY_PUSH')
    )
),
marked AS (
  SELECT
    *,
    CASE
      WHEN lag(published) OVER (PARTITION BY org, session_id, actor_id, kind ORDER BY published) IS NULL THEN 1
      WHEN published > lag(published) OVER (PARTITION BY org, session_id, actor_id, kind ORDER BY published)
        + INTERVAL '2' SECOND THEN 1
      ELSE 0
    END AS new_push
  FROM push_events
),
numbered AS (
  SELECT
    *,
    sum(new_push) OVER (
      PARTITION BY org, session_id, actor_id, kind ORDER BY published
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS push_no
  FROM marked
),
pushes AS (
  SELECT org, session_id, actor_id, kind, push_no,
    min(published) AS push_at,
    max(denied) AS denied,
    max(approved) AS approved
  FROM numbered
  GROUP BY org, session_id, actor_id, kind, push_no
),
windows AS (
  SELECT a.org, a.session_id, a.actor_id, a.push_at AS window_start,
    count_if(b.kind = 'sent') AS sent,
    count_if(b.kind = 'answer') AS answered,
    count_if(b.kind = 'answer' AND b.denied = 1) AS denials
  FROM pushes a
  JOIN pushes b
    ON b.org = a.org
    AND b.session_id = a.session_id
    AND b.actor_id = a.actor_id
    AND b.push_at >= a.push_at
    AND b.push_at < a.push_at + INTERVAL '10' MINUTE
  GROUP BY a.org, a.session_id, a.actor_id, a.kind, a.push_at
),
bursts AS (
  SELECT org, session_id, actor_id,
    min(window_start) AS burst_start,
    max(CASE WHEN sent >= answered THEN sent ELSE answered END) AS pushes,
    max(denials) AS denials
  FROM windows
  WHERE denials >= 1 AND (sent >= 3 OR answered >= 3)
  GROUP BY org, session_id, actor_id
),
extent AS (
  SELECT b.org, b.session_id, b.actor_id,
    min(CASE WHEN p.kind = 'answer' AND p.denied = 1 THEN p.push_at END) AS first_denial_at,
    max(p.push_at) AS last_push_at
  FROM bursts b
  JOIN pushes p
    ON p.org = b.org AND p.session_id = b.session_id AND p.actor_id = b.actor_id
    AND p.push_at >= b.burst_start
  GROUP BY b.org, b.session_id, b.actor_id
),
approvals AS (
  SELECT e.org, e.session_id, e.actor_id, min(p.push_at) AS approved_at
  FROM extent e
  JOIN pushes p
    ON p.org = e.org AND p.session_id = e.session_id AND p.actor_id = e.actor_id
    AND p.kind = 'answer' AND p.approved = 1
    AND p.push_at > e.first_denial_at
  GROUP BY e.org, e.session_id, e.actor_id
),
who AS (
  SELECT org, session_id, actor_id,
    min(actor_login) AS actor_login,
    array_join(array_sort(array_agg(DISTINCT src_ip) FILTER (WHERE src_ip IS NOT NULL)), ', ') AS src_ips
  FROM push_events
  GROUP BY org, session_id, actor_id
)
SELECT
  b.org,
  b.session_id,
  b.actor_id,
  w.actor_login,
  CASE WHEN a.approved_at IS NULL THEN 'high' ELSE 'critical' END AS severity,
  b.burst_start,
  e.last_push_at AS burst_end,
  b.pushes,
  b.denials,
  a.approved_at,
  w.src_ips,
  CAST(b.pushes AS varchar) || ' Okta Verify pushes within 10 minutes to ' || coalesce(w.actor_login, b.actor_id)
    || ', ' || CAST(b.denials AS varchar) || ' denied'
    || CASE WHEN a.approved_at IS NULL THEN '' ELSE ', then approved: the attacker is probably signed in' END AS summary
FROM bursts b
JOIN extent e ON e.org = b.org AND e.session_id = b.session_id AND e.actor_id = b.actor_id
JOIN who w ON w.org = b.org AND w.session_id = b.session_id AND w.actor_id = b.actor_id
LEFT JOIN approvals a ON a.org = b.org AND a.session_id = b.session_id AND a.actor_id = b.actor_id
ORDER BY b.burst_start
