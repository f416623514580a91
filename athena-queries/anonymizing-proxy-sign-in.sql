-- id: anonymizing-proxy-sign-in
-- title: Sign-in through an anonymizing proxy
-- kind: detection
-- severity: medium
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1090
-- finding_key: org, user_login, src_ip
-- description: A sign-in (user.session.start, any outcome) came from an address Okta classifies as
--   an anonymizing proxy or VPN service (securityContext.isProxy = true). Attackers hide behind
--   such services; employees rarely need them to reach Okta.
-- runbook: Ask the user whether they use a VPN or privacy relay. If not and the sign-in succeeded,
--   end the user's sessions and reset the password. Consider a policy rule that denies or steps up
--   sign-ins from anonymizers (dynamic zone with proxy type Tor/anonymizer).
SELECT
  org,
  actor.alternateId AS user_login,
  client.ipAddress AS src_ip,
  min(securityContext.asOrg) AS as_org,
  min(client.geographicalContext.country) AS country,
  count(*) AS sign_ins,
  count_if(outcome.result = 'SUCCESS') AS successes,
  min(published) AS first_seen,
  max(published) AS last_seen,
  coalesce(actor.alternateId, 'unknown user') || ': ' || CAST(count(*) AS varchar) || ' sign-in(s) through proxy '
    || coalesce(client.ipAddress, 'unknown address') || ', ' || CAST(count_if(outcome.result = 'SUCCESS') AS varchar)
    || ' successful' AS summary
FROM okta_system_log
WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
  AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
  AND published >= current_timestamp - INTERVAL '1' HOUR
  AND published <= current_timestamp
  AND eventType = 'user.session.start'
  AND securityContext.isProxy = true
GROUP BY org, actor.alternateId, client.ipAddress
ORDER BY min(published)
