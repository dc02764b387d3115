-- Seed 002's propensity quadrant: churn risk × expansion proxy, with who was contacted.
-- Churn risk here is the rule-based score read as a probability (risk_score / 100).
CREATE OR REPLACE TABLE marts.mart_propensity_quadrant AS
SELECT
  r.customer_id,
  r.plan_tier,
  r.industry,
  r.arr,
  r.risk_score / 100 AS churn_probability,
  e.upgrade_propensity_proxy,
  CASE
    WHEN r.risk_score / 100 >= getvariable('q_high_churn') AND e.upgrade_propensity_proxy >= getvariable('q_high_expansion') THEN getvariable('q_label_flight_risk')
    WHEN r.risk_score / 100 < getvariable('q_low_churn') AND e.upgrade_propensity_proxy >= getvariable('q_high_expansion') THEN getvariable('q_label_growth_engine')
    WHEN r.risk_score / 100 >= getvariable('q_high_churn') AND e.upgrade_propensity_proxy < getvariable('q_low_expansion') THEN getvariable('q_label_churn_candidate')
    ELSE getvariable('q_label_stable_base')
  END AS quadrant_label,
  round(r.arr * e.upgrade_propensity_proxy * getvariable('expected_uplift_share'), 2) AS expected_arr_uplift_proxy,
  coalesce(f.days_since_last_outreach <= getvariable('contacted_within_days'), false) AS was_contacted,
  f.days_since_last_outreach
FROM marts.mart_customer_risk_scores r
JOIN marts.mart_customer_expansion_features e USING (customer_id)
JOIN marts.mart_customer_churn_features f USING (customer_id)
ORDER BY expected_arr_uplift_proxy DESC, customer_id;
