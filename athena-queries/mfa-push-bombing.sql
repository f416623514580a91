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
    min(actor_login) AS actor_login,
    min(src_ip) AS src_ip,
    min(published) AS push_at,
    max(denied) AS denied,
    max(approved) AS approved
  FROM numbered
  GROUP BY org, session_id, actor_id, kind, push_no
),
-- Every push opens a 10-minute window: what it holds is counted with a RANGE frame, so the table
-- is read once (a self-join would read it again in Athena, which bills each read).
windows AS (
  SELECT
    *,
    sum(CASE WHEN kind = 'sent' THEN 1 ELSE 0 END) OVER (
      PARTITION BY org, session_id, actor_id ORDER BY push_at
      RANGE BETWEEN CURRENT ROW AND INTERVAL '10' MINUTE FOLLOWING
    ) AS sent_in_window,
    sum(CASE WHEN kind = 'answer' THEN 1 ELSE 0 END) OVER (
      PARTITION BY org, session_id, actor_id ORDER BY push_at
      RANGE BETWEEN CURRENT ROW AND INTERVAL '10' MINUTE FOLLOWING
    ) AS answered_in_window,
    sum(CASE WHEN kind = 'answer' AND denied = 1 THEN 1 ELSE 0 END) OVER (
      PARTITION BY org, session_id, actor_id ORDER BY push_at
      RANGE BETWEEN CURRENT ROW AND INTERVAL '10' MINUTE FOLLOWING
    ) AS denied_in_window
  FROM pushes
),
qualified AS (
  SELECT
    *,
    CASE WHEN denied_in_window >= 1 AND (sent_in_window >= 3 OR answered_in_window >= 3) THEN 1 ELSE 0 END AS opens_burst
  FROM windows
),
bursts AS (
  SELECT
    *,
    min(CASE WHEN opens_burst = 1 THEN push_at END) OVER (PARTITION BY org, session_id, actor_id) AS burst_start
  FROM qualified
),
denials AS (
  SELECT
    *,
    min(CASE WHEN kind = 'answer' AND denied = 1 AND push_at >= burst_start THEN push_at END)
      OVER (PARTITION BY org, session_id, actor_id) AS first_denial_at
  FROM bursts
  WHERE burst_start IS NOT NULL
),
findings AS (
  SELECT
    org,
    session_id,
    actor_id,
    min(actor_login) AS actor_login,
    min(burst_start) AS burst_start,
    max(CASE WHEN push_at >= burst_start THEN push_at END) AS burst_end,
    max(CASE
      WHEN opens_burst = 0 THEN 0
      WHEN sent_in_window >= answered_in_window THEN sent_in_window
      ELSE answered_in_window
    END) AS pushes,
    max(CASE WHEN opens_burst = 1 THEN denied_in_window ELSE 0 END) AS denials,
    min(CASE WHEN kind = 'answer' AND approved = 1 AND push_at > first_denial_at THEN push_at END) AS approved_at,
    array_join(array_sort(array_agg(DISTINCT src_ip) FILTER (WHERE src_ip IS NOT NULL AND push_at >= burst_start)), ', ') AS src_ips
  FROM denials
  GROUP BY org, session_id, actor_id
)
SELECT
  org,
  session_id,
  actor_id,
  actor_login,
  CASE WHEN approved_at IS NULL THEN 'high' ELSE 'critical' END AS severity,
  burst_start,
  burst_end,
  pushes,
  denials,
  approved_at,
  src_ips,
  CAST(pushes AS varchar) || ' Okta Verify pushes within 10 minutes to ' || coalesce(actor_login, actor_id)
    || ', ' || CAST(denials AS varchar) || ' denied'
    || CASE WHEN approved_at IS NULL THEN '' ELSE ', then approved: the attacker is probably signed in' END AS summary
FROM findings
ORDER BY burst_start
