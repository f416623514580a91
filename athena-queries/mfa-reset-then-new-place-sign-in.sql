-- id: mfa-reset-then-new-place-sign-in
-- title: MFA factors reset, then sign-in from a new place
-- kind: detection
-- severity: high
-- schedule: rate(1 hour)
-- lookback: 1d
-- mitre: T1556.006, T1098.005
-- finding_key: org, user_login, reset_at, src_ip
-- description: A user's MFA factors were reset or removed (user.mfa.factor.reset_all,
--   user.mfa.factor.deactivate, system.mfa.factor.deactivate; the user is the target of type User,
--   or the actor when there is none: a user removing their own factor), and within the hour after
--   it the user signed in (user.session.start, SUCCESS) or enrolled a factor
--   (user.mfa.factor.activate) from an address they had not signed in from in the 21 hours before
--   the reset. A help-desk social-engineering call or a stolen admin session becomes an account
--   takeover this way: the attacker has the factors cleared, then signs in and enrols their own.
--   A user with no sign-in at all in those 21 hours has no known address: every address is new
--   when someone else reset the factors (attackers pick dormant accounts), and nothing fires when
--   the user removed their own factor (their session is older than the lookback, there is nothing
--   to compare with). Severity column critical when system@okta.com did the reset or the new
--   address is an anonymizer, by the test of anonymizing-proxy-sign-in: securityContext.isProxy,
--   or an IP service category (securityContext.ipDetails.ipServiceCategories) that is Tor, a
--   residential proxy or marked isAnonymous; a VPN category Okta does not mark anonymous (a
--   company's own egress) is not one. Resets of the last 3 hours are reported (1 hour for the
--   sign-in, 1 hour between runs, 1 hour of ingestion delay); the 1-day lookback leaves the same
--   21 hours before every reported reset, so a finding does not depend on when a run happens.
-- runbook: Call the user on a number from the HR record (not one given by the caller or in the
--   ticket) and ask whether they asked for the reset and signed in from this place. Ask whoever
--   did the reset (reset_by) how the caller was verified. If it was not the user: suspend the
--   account, end its sessions, remove the factors enrolled after the reset, reset the password,
--   and review what the new session did (user-timeline hunt for the user, ip-activity hunt for
--   src_ip). If an admin account made the reset without a ticket, treat that admin account as
--   compromised too; if system@okta.com made it, open a security case with Okta.
WITH events AS (
  SELECT
    org,
    published,
    eventType AS event_type,
    CASE WHEN eventType = 'user.session.start' THEN 1 ELSE 0 END AS is_sign_in,
    CASE WHEN eventType = 'user.mfa.factor.activate' THEN 1 ELSE 0 END AS is_enrolment,
    CASE WHEN eventType IN ('user.mfa.factor.reset_all', 'user.mfa.factor.deactivate', 'system.mfa.factor.deactivate')
      THEN 1 ELSE 0 END AS is_reset,
    element_at(filter(target, x -> x.type = 'User'), 1).alternateId AS target_login,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    client.geographicalContext.city AS city,
    client.geographicalContext.country AS country,
    -- The anonymizer test of anonymizing-proxy-sign-in.
    CASE WHEN securityContext.isProxy = true
      OR element_at(filter(securityContext.ipDetails.ipServiceCategories,
        c -> c.type IN ('Tor', 'Residential Proxy') OR c.isAnonymous = true), 1) IS NOT NULL
      THEN 1 ELSE 0 END AS is_anonymizer
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' DAY, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' DAY, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' DAY, '%H'))
    AND published >= current_timestamp - INTERVAL '1' DAY
    AND published <= current_timestamp
    AND eventType IN (
      'user.mfa.factor.reset_all',
      'user.mfa.factor.deactivate',
      'system.mfa.factor.deactivate',
      'user.session.start',
      'user.mfa.factor.activate'
    )
    AND outcome.result = 'SUCCESS'
),
-- Whose factors or sign-in each event is: the User target of a reset (the actor when there is
-- none: a user removing their own factor), the actor of a sign-in or enrolment.
per_user AS (
  SELECT
    *,
    lower(CASE WHEN is_reset = 1 THEN coalesce(target_login, actor_login) ELSE actor_login END) AS user_login
  FROM events
),
-- Each user's events split at every reset: reset_seq counts the resets up to each event, so the
-- events after a reset (and before the next) share its number.
sequenced AS (
  SELECT
    *,
    count(CASE WHEN is_reset = 1 THEN 1 END) OVER (
      PARTITION BY org, user_login ORDER BY published, is_reset DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS reset_seq
  FROM per_user
  WHERE user_login IS NOT NULL
),
-- For each event after a reset: the reset, the user's last sign-in before it, and the user's last
-- sign-in from the event's own address before it (RANGE over reset_seq: the earlier segments).
-- Window functions only, so Athena reads the table once.
after_reset AS (
  SELECT
    *,
    max(CASE WHEN is_reset = 1 THEN published END) OVER (PARTITION BY org, user_login, reset_seq) AS reset_at,
    max(CASE WHEN is_reset = 1 THEN event_type END) OVER (PARTITION BY org, user_login, reset_seq) AS reset_type,
    max(CASE WHEN is_reset = 1 THEN actor_login END) OVER (PARTITION BY org, user_login, reset_seq) AS reset_by,
    max(CASE WHEN is_sign_in = 1 THEN published END) OVER (
      PARTITION BY org, user_login ORDER BY reset_seq
      RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS last_sign_in_before,
    max(CASE WHEN is_sign_in = 1 THEN published END) OVER (
      PARTITION BY org, user_login, src_ip ORDER BY reset_seq
      RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS last_sign_in_here_before
  FROM sequenced
),
follow_ups AS (
  SELECT
    *,
    CASE WHEN last_sign_in_before >= reset_at - INTERVAL '21' HOUR THEN last_sign_in_before END AS known_sign_in_at
  FROM after_reset
  WHERE reset_seq > 0
    AND is_reset = 0
    AND reset_at >= current_timestamp - INTERVAL '3' HOUR
    AND published > reset_at
    AND published <= reset_at + INTERVAL '1' HOUR
    AND src_ip IS NOT NULL
    AND src_ip NOT IN ('', 'null')
    AND (last_sign_in_here_before IS NULL OR last_sign_in_here_before < reset_at - INTERVAL '21' HOUR)
)
SELECT
  org,
  user_login,
  reset_at,
  reset_type,
  reset_by,
  src_ip,
  min(CASE WHEN is_sign_in = 1 THEN published END) AS sign_in_at,
  min(CASE WHEN is_enrolment = 1 THEN published END) AS factor_enrolled_at,
  max(city) AS city,
  max(country) AS country,
  CASE WHEN max(is_anonymizer) = 1 THEN 'yes' ELSE 'no' END AS proxy,
  known_sign_in_at AS last_known_sign_in_at,
  CASE WHEN reset_by = 'system@okta.com' OR max(is_anonymizer) = 1 THEN 'critical' ELSE 'high' END AS severity,
  user_login || ': ' || reset_type || ' by ' || coalesce(reset_by, 'unknown')
    || ', then ' || CASE
      WHEN count_if(is_sign_in = 1) > 0 AND count_if(is_enrolment = 1) > 0 THEN 'sign-in and factor enrolment'
      WHEN count_if(is_sign_in = 1) > 0 THEN 'sign-in'
      ELSE 'factor enrolment' END
    || ' from ' || src_ip || ' (' || coalesce(max(city), '?') || ', ' || coalesce(max(country), '?') || ')'
    || CASE WHEN max(is_anonymizer) = 1 THEN ' through an anonymizing proxy' ELSE '' END
    || ' ' || CAST(CAST(round((to_unixtime(min(published)) - to_unixtime(reset_at)) / 60) AS bigint) AS varchar)
    || ' min later, '
    || CASE WHEN known_sign_in_at IS NULL THEN 'and no sign-in of the user in the 21 h before the reset'
      ELSE 'an address not used for sign-in in the 21 h before' END AS summary
FROM follow_ups
WHERE known_sign_in_at IS NOT NULL OR reset_by IS NULL OR lower(reset_by) <> user_login
GROUP BY org, user_login, reset_at, reset_type, reset_by, src_ip, known_sign_in_at
ORDER BY reset_at, min(published)
