-- The rule-based, explainable risk view of every active account: health score (0–100, higher
-- is healthier), risk score (100 − health), seed 004's risk tier, seed 002's flags and
-- recommended action, and the components that cost the most points.
CREATE OR REPLACE TABLE marts.mart_customer_risk_scores AS
WITH health AS (
  SELECT customer_id,
         round(sum(weight * component_score) / sum(weight), 1) AS health_score,
         list(component_id ORDER BY points_lost DESC, component_id) FILTER (WHERE points_lost >= 1) AS drivers
  FROM marts.mart_health_components GROUP BY customer_id
),
scored AS (
  SELECT f.*, h.health_score, round(100 - h.health_score, 1) AS risk_score, h.drivers
  FROM marts.mart_customer_churn_features f JOIN health h USING (customer_id)
)
SELECT
  s.customer_id,
  c.company_name,
  s.industry, s.company_size, s.plan_tier, s.csm_owner,
  s.arr, s.seats AS seats_purchased,
  CAST(s.as_of_date + s.days_to_renewal AS DATE) AS renewal_date,
  s.days_to_renewal,
  c.lifecycle_stage,
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
  t.recommended_action,
  array_to_string(list_slice(coalesce(s.drivers, []), 1, getvariable('top_drivers')), ', ') AS top_risk_drivers,
  -- rule-based exposure: ARR weighted by the 0–100 risk score read as a percentage (seed 002)
  round(s.arr * s.risk_score / 100, 2) AS arr_at_risk
FROM scored s
JOIN raw.customers c USING (customer_id)
ASOF JOIN cfg.risk_tiers t ON s.risk_score >= t.min_score
ORDER BY s.customer_id;
