-- The risk view of every active account: the transparent rule-based health score (0–100,
-- higher is healthier), risk score (100 − health), the risk tier, the flags and
-- recommended action and the components that cost the most points — beside the churn model's
-- calibrated P(churn in 90 days), its tier and its top TreeSHAP drivers (marts.model_scores,
-- marts.mart_customer_drivers, written by loaders/score.ts).
CREATE OR REPLACE TABLE marts.mart_customer_risk_scores AS
WITH scored AS (
  SELECT f.*, h.health_score, h.risk_score, h.drivers
  FROM marts.mart_customer_churn_features f
  JOIN marts.int_health_scores_of('marts.mart_health_components') h USING (customer_id)
),
model_drivers AS (
  -- the features pushing the account's risk up the most
  SELECT customer_id, array_to_string(list(feature ORDER BY rank) FILTER (WHERE contribution > 0)[1:getvariable('top_drivers')], ', ') AS model_top_drivers
  FROM marts.mart_customer_drivers GROUP BY customer_id
)
SELECT
  s.customer_id,
  c.company_name,
  s.industry, s.company_size, s.plan_tier, s.csm_owner,
  s.arr, s.seats AS seats_purchased,
  CAST(s.as_of_date + s.days_to_renewal AS DATE) AS renewal_date,
  s.days_to_renewal,
  -- the CRM's stage in its own words when the vocabulary knows it, else derived from tenure
  CASE WHEN marts.lifecycle_meaning(c.lifecycle_stage) IS NOT NULL THEN c.lifecycle_stage ELSE s.lifecycle_stage_at_cutoff END AS lifecycle_stage,
  s.tenure_days,
  s.events_last_30d,
  s.high_priority_tickets_30d,
  s.open_tickets,
  s.integrations_first_30d,
  s.health_score,
  s.risk_score,
  t.tier AS risk_tier,
  t.colour AS health_colour,
  s.events_last_30d < getvariable('low_events_threshold') AS low_events,
  s.high_priority_tickets_30d >= getvariable('support_overload_high_tickets') AS support_overload,
  s.tenure_days < getvariable('onboarding_window_days') AND s.integrations_first_30d < getvariable('activation_gate_integrations') AS onboarding_at_risk,
  s.failed_payments_90d >= getvariable('failed_payments_flag') AS payment_failing,
  coalesce(s.compliance_gap_score >= getvariable('compliance_gap_flag') OR s.vendor_risk_flags >= getvariable('vendor_risk_flag'), false) AS compliance_risk,
  -- licence compliance, and the seats to sell: people active beyond the licence
  s.over_deployed_users,
  s.over_deployed_users > 0 AS over_deployed,
  t.recommended_action,
  array_to_string(list_slice(coalesce(s.drivers, []), 1, getvariable('top_drivers')), ', ') AS top_risk_drivers,
  -- rule-based exposure: ARR weighted by the 0–100 risk score read as a percentage
  round(s.arr * s.risk_score / 100, 2) AS arr_at_risk,
  m.churn_probability,
  mt.tier AS model_tier,
  coalesce(d.model_top_drivers, '') AS model_top_drivers,
  -- the model's expected loss: ARR × P(churn in 90 days)
  round(s.arr * m.churn_probability, 2) AS expected_arr_loss_90d
FROM scored s
JOIN raw.customers c USING (customer_id)
JOIN marts.model_scores m USING (customer_id)
LEFT JOIN model_drivers d USING (customer_id)
ASOF JOIN cfg.risk_tiers t ON s.risk_score >= t.min_score
ASOF JOIN cfg.model_tiers mt ON m.churn_probability >= mt.min_probability
ORDER BY s.customer_id;
