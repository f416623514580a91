-- id: anonymizing-proxy-sign-in
-- title: Sign-in through an anonymizing proxy
-- kind: detection
-- severity: medium
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1090
-- finding_key: org, user_login, src_ip
-- description: A sign-in (user.session.start, any outcome) came from an address Okta classifies as
--   an anonymizer: securityContext.isProxy = true, or an IP service category in
--   securityContext.ipDetails.ipServiceCategories that is Tor, a residential proxy, or marked
--   isAnonymous (an anonymizing VPN or proxy service). Residential proxies, the usual tool of
--   credential stuffing, are home broadband addresses that isProxy does not flag. Attackers hide
--   behind such services; employees rarely need them to reach Okta. A VPN or proxy category that
--   Okta does not mark anonymous (a company's own egress service) does not fire.
-- runbook: Ask the user whether they use a VPN or privacy relay (proxy_type and proxy_operator say
--   which service). If not and the sign-in succeeded, end the user's sessions and reset the
--   password. Consider a policy rule that denies or steps up sign-ins from anonymizers (an enhanced
--   dynamic network zone with IP service categories such as all anonymizers and Tor).
-- sources: Okta's detection catalog, okta/customer-detections hunts/hunt_sign_in_attempts_from_proxies.yml
--   (user.session.start with securityContext.isProxy); Panther, panther-labs/panther-analysis
--   rules/okta_rules/okta_anonymizing_vpn_login.yml (the same); the categories and isAnonymous are
--   LogIpDetails/LogIpServiceCategory in okta-sdk-nodejs oas-spec/management.yaml.
WITH sign_ins AS (
  SELECT
    org,
    actor.alternateId AS user_login,
    client.ipAddress AS src_ip,
    securityContext.asOrg AS as_org,
    client.geographicalContext.country AS country,
    outcome.result AS result,
    published,
    securityContext.isProxy AS is_proxy,
    element_at(filter(securityContext.ipDetails.ipServiceCategories,
      c -> c.type IN ('Tor', 'Residential Proxy') OR c.isAnonymous = true), 1) AS anonymizer
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType = 'user.session.start'
)
SELECT
  org,
  user_login,
  src_ip,
  min(as_org) AS as_org,
  min(country) AS country,
  min(coalesce(anonymizer.type, CASE WHEN is_proxy = true THEN 'Proxy' END)) AS proxy_type,
  min(anonymizer.operator) AS proxy_operator,
  count(*) AS sign_ins,
  count_if(result = 'SUCCESS') AS successes,
  min(published) AS first_seen,
  max(published) AS last_seen,
  coalesce(user_login, 'unknown user') || ': ' || CAST(count(*) AS varchar) || ' sign-in(s) through '
    || coalesce(min(coalesce(anonymizer.type, CASE WHEN is_proxy = true THEN 'Proxy' END)), 'proxy') || ' '
    || coalesce(src_ip, 'unknown address') || ', ' || CAST(count_if(result = 'SUCCESS') AS varchar)
    || ' successful' AS summary
FROM sign_ins
WHERE is_proxy = true OR anonymizer IS NOT NULL
GROUP BY org, user_login, src_ip
ORDER BY min(published)
