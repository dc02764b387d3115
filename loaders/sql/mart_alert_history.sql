-- Churn alerts, found by comparing tonight's scores with the previous build's:
--   tier_entered     the account entered an alert tier (High or Critical) or a riskier one of them
--   health_drop      the health score fell by at least alerting.healthDropPoints
--   renewal_at_risk  renewal within alerting.renewalAtRiskDays days while in an alert tier,
--                    and this was not already so in the previous build
-- Alerts are edges, not states: an account that stays Critical is alerted once. With no
-- previous build there is nothing to compare with, so the first build raises none (it would
-- otherwise alert on every at-risk account at once).
-- alert_id is stable for one transition (customer, kind, previous build): a build re-run
-- against the same previous warehouse re-raises the same ids, and the outbox ignores ids it
-- already holds. marts.mart_alert_history keeps every alert ever raised.
-- Columns are what a CSM already sees in Customer 360: never the contact e-mail.
CREATE OR REPLACE TABLE marts.mart_alert_history AS
WITH accounts AS (
  -- the health-score tier (risk_tier), not the model's: it is compared with the previous build's,
  -- and a retrained model would move model tiers overnight and alert on the model, not the account
  SELECT * FROM marts.mart_customer_risk_scores
),
compared AS (
  SELECT a.*, p.risk_tier AS previous_risk_tier, p.health_score AS previous_health_score, p.days_to_renewal AS previous_days_to_renewal,
         cur.min_score AS tier_rank, prev_t.min_score AS previous_tier_rank, p.customer_id IS NOT NULL AS seen_before
  FROM accounts a
  JOIN cfg.risk_tiers cur ON cur.tier = a.risk_tier
  LEFT JOIN prev_risk_scores p USING (customer_id)
  LEFT JOIN cfg.risk_tiers prev_t ON prev_t.tier = p.risk_tier
  WHERE getvariable('has_previous')
),
raised AS (
  SELECT *, 'tier_entered' AS kind,
         printf('%s entered %s risk (was %s): health score %.1f, $%s ARR at risk.', company_name, risk_tier,
                coalesce(previous_risk_tier, 'not scored'), health_score, printf('%,.0f', arr_at_risk)) AS summary
  FROM compared
  WHERE list_contains(getvariable('alert_tiers'), risk_tier) AND (previous_tier_rank IS NULL OR previous_tier_rank < tier_rank)
  UNION ALL
  SELECT *, 'health_drop',
         printf('%s health score fell %.1f points, from %.1f to %.1f (%s risk).', company_name, previous_health_score - health_score,
                previous_health_score, health_score, risk_tier)
  FROM compared
  WHERE previous_health_score - health_score >= getvariable('health_drop_points')
  UNION ALL
  SELECT *, 'renewal_at_risk',
         printf('%s renews on %s, in %d days, while at %s risk: $%s ARR at risk.', company_name, renewal_date, days_to_renewal, risk_tier,
                printf('%,.0f', arr_at_risk))
  FROM compared
  WHERE days_to_renewal <= getvariable('renewal_at_risk_days') AND list_contains(getvariable('alert_tiers'), risk_tier)
    AND NOT coalesce(previous_days_to_renewal <= getvariable('renewal_at_risk_days') AND list_contains(getvariable('alert_tiers'), previous_risk_tier), false)
)
SELECT alert_id, raised_on, previous_as_of, kind, customer_id, company_name, csm_owner, plan_tier, risk_tier, previous_risk_tier, risk_score, health_score,
       previous_health_score, health_colour, arr, arr_at_risk, renewal_date, days_to_renewal, top_risk_drivers, recommended_action, summary
FROM prev_alert_history
UNION ALL
SELECT md5(concat_ws('|', r.customer_id, r.kind, getvariable('previous_as_of'))) AS alert_id,
       getvariable('as_of') AS raised_on, getvariable('previous_as_of') AS previous_as_of, r.kind, r.customer_id, r.company_name, r.csm_owner, r.plan_tier,
       r.risk_tier, r.previous_risk_tier, r.risk_score, r.health_score, r.previous_health_score, r.health_colour, r.arr, r.arr_at_risk,
       r.renewal_date, r.days_to_renewal, r.top_risk_drivers, r.recommended_action, r.summary
FROM raised r
WHERE md5(concat_ws('|', r.customer_id, r.kind, getvariable('previous_as_of'))) NOT IN (SELECT alert_id FROM prev_alert_history)
ORDER BY raised_on, alert_id;
