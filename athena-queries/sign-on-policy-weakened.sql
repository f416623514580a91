-- id: sign-on-policy-weakened
-- title: Sign-on policy or rule deactivated, deleted or downgraded to one factor
-- kind: detection
-- severity: medium
-- schedule: rate(15 minutes)
-- lookback: 1h
-- mitre: T1556.006, T1562
-- finding_key: org, event_uuid
-- description: A policy or a policy rule was deactivated or deleted (policy.lifecycle.deactivate,
--   policy.lifecycle.delete, policy.rule.deactivate, policy.rule.delete), or a rule update
--   (policy.rule.update, successful) changed the rule's verification from two factors to one: the
--   rule's changeDetails (target[].changeDetails, what Okta logs as changed) show the rule actions'
--   appSignOn.verificationMethod.factorMode going from 2FA to 1FA. Removing or downgrading a
--   sign-on, MFA or password rule is how an attacker with admin rights lowers the bar for the
--   accounts they want (Scattered Spider did it for password managers). Other updates are not
--   reported; review them with the event-type-overview hunt.
-- runbook: Check with the admin (actor_login) that the change was planned. If not, reactivate,
--   recreate or restore the policy or rule (policy_type says which kind; factor_mode_from and
--   factor_mode_to what an update changed), and review the admin's activity and the sign-ins that
--   the missing rule let through.
-- sources: Okta's detection catalog, okta/customer-detections detections/authentication_policy_mfa_downgrade.yml
--   (policy.rule.update, changeDetails.from/to.policyRuleActionJson appSignOn.verificationMethod.factorMode
--   2FA to 1FA); Elastic's prebuilt rule "Attempt to Modify an Okta Policy" (elastic/security-docs,
--   policy.lifecycle.update: weakening MFA requirements); LogTarget.changeDetails in okta-sdk-nodejs
--   oas-spec/management.yaml.
WITH changes AS (
  SELECT
    org,
    uuid AS event_uuid,
    published,
    eventType AS event_type,
    outcome.result AS result,
    actor.alternateId AS actor_login,
    client.ipAddress AS src_ip,
    element_at(filter(target, x -> x.type = 'PolicyEntity'), 1) AS policy,
    element_at(filter(target, x -> x.type = 'PolicyRule'), 1) AS rule
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
    AND (dt > date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
      OR hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%H'))
    AND published >= current_timestamp - INTERVAL '1' HOUR
    AND published <= current_timestamp
    AND eventType IN ('policy.lifecycle.deactivate', 'policy.lifecycle.delete', 'policy.rule.deactivate', 'policy.rule.delete', 'policy.rule.update')
), described AS (
  SELECT
    org,
    event_uuid,
    published,
    event_type,
    result,
    actor_login,
    src_ip,
    policy.displayName AS policy_name,
    element_at(policy.detailEntry, 'policyType') AS policy_type,
    rule.displayName AS rule_name,
    json_extract_scalar(json_extract_scalar(rule.changeDetails."from", '$.policyRuleActionJson'), '$.appSignOn.verificationMethod.factorMode') AS factor_mode_from,
    json_extract_scalar(json_extract_scalar(rule.changeDetails."to", '$.policyRuleActionJson'), '$.appSignOn.verificationMethod.factorMode') AS factor_mode_to
  FROM changes
)
SELECT
  org,
  event_uuid,
  published AS event_time,
  event_type,
  actor_login,
  policy_name,
  policy_type,
  rule_name,
  factor_mode_from,
  factor_mode_to,
  src_ip,
  event_type || ' of ' || coalesce('rule ' || rule_name || ' in ', '') || 'policy '
    || coalesce(policy_name, '(unnamed)') || ' by ' || coalesce(actor_login, 'unknown actor')
    || CASE WHEN event_type = 'policy.rule.update' THEN ': verification ' || factor_mode_from || ' to ' || factor_mode_to ELSE '' END AS summary
FROM described
WHERE event_type <> 'policy.rule.update'
  OR (result = 'SUCCESS' AND factor_mode_from = '2FA' AND factor_mode_to = '1FA')
ORDER BY published
