-- Every account of tonight or of a baseline (marts.mart_brief_baselines), per period of the
-- executive brief, beside what it was then. The definitions are the product's own: "at risk" is
-- config.atRiskTiers; an account "entered" an at-risk tier as an alert's tier_entered does
-- (mart_alert_history.sql: a riskier at-risk tier than before, or newly scored in one); the
-- renewal window is the renewal playbook's stage of config.brief; an open renewal opportunity is
-- the features' has_open_renewal_opp (marts.is_open_opportunity).
CREATE OR REPLACE TEMP TABLE int_brief_comparison AS
WITH tonight AS (
  SELECT r.customer_id, r.company_name, r.risk_tier, r.health_score, r.arr, r.arr_at_risk, r.days_to_renewal, r.renewal_date,
         r.top_risk_drivers, f.has_open_renewal_opp, t.min_score AS tier_rank
  FROM marts.mart_customer_risk_scores r
  JOIN marts.mart_customer_churn_features f USING (customer_id)
  JOIN cfg.risk_tiers t ON t.tier = r.risk_tier
),
periods AS (SELECT DISTINCT period, baseline_as_of FROM marts.mart_brief_baselines),
tonight_per_period AS (SELECT p.period, p.baseline_as_of, n.* FROM periods p CROSS JOIN tonight n),
joined AS (
  SELECT coalesce(n.period, b.period) AS period, coalesce(n.baseline_as_of, b.baseline_as_of) AS baseline_as_of,
         coalesce(n.customer_id, b.customer_id) AS customer_id,
         n.customer_id IS NOT NULL AS active_now, b.customer_id IS NOT NULL AS in_baseline,
         n.company_name, n.risk_tier, b.risk_tier AS baseline_risk_tier, n.tier_rank, bt.min_score AS baseline_tier_rank,
         n.health_score, b.health_score AS baseline_health_score, n.arr, b.arr AS baseline_arr,
         n.arr_at_risk, b.arr_at_risk AS baseline_arr_at_risk,
         n.days_to_renewal, b.days_to_renewal AS baseline_days_to_renewal, n.renewal_date, n.has_open_renewal_opp, n.top_risk_drivers
  FROM tonight_per_period n
  FULL JOIN marts.mart_brief_baselines b ON b.period = n.period AND b.customer_id = n.customer_id
  LEFT JOIN cfg.risk_tiers bt ON bt.tier = b.risk_tier
)
SELECT *,
       coalesce(list_contains(getvariable('at_risk_tiers'), risk_tier), false) AS at_risk,
       coalesce(list_contains(getvariable('at_risk_tiers'), baseline_risk_tier), false) AS baseline_at_risk,
       active_now AND list_contains(getvariable('at_risk_tiers'), risk_tier)
         AND (baseline_tier_rank IS NULL OR baseline_tier_rank < tier_rank) AS entered_at_risk,
       active_now AND in_baseline AND days_to_renewal <= getvariable('brief_renewal_window_days')
         AND baseline_days_to_renewal > getvariable('brief_renewal_window_days') AS entered_renewal_window,
       -- whole dollars, so every change the brief writes is the difference of the figures it writes
       round(arr_at_risk) - round(baseline_arr_at_risk) AS arr_at_risk_change
FROM joined;
