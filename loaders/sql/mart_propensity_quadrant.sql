-- The propensity quadrant: churn risk × expansion proxy, with who was contacted — on two churn
-- axes, side by side, because they answer different questions and can disagree:
--   health_quadrant  churn risk = the rule-based health score's risk read as a share
--                    (health_risk = risk_score / 100). Transparent: a CSM can see which
--                    components moved it. The Propensity Quadrant page shows this by default.
--   model_quadrant   churn risk = the churn model's calibrated P(churn in 90 days)
--                    (churn_probability). The API's `is_flight_risk` is this quadrant.
-- and on two expansion axes: the rule-based proxy (upgrade_propensity_proxy, config.expansion)
-- and the expansion model's calibrated P(expansion in 90 days) (expansion_probability,
-- marts.model_expansion_scores). health_quadrant and model_quadrant read the proxy; the
-- *_by_expansion_model columns read the model.
-- All use the same thresholds and labels (config.quadrant), through marts.int_quadrant_of.
CREATE OR REPLACE MACRO marts.int_quadrant_of(churn, expansion) AS
  CASE
    WHEN churn >= getvariable('q_high_churn') AND expansion >= getvariable('q_high_expansion') THEN getvariable('q_label_flight_risk')
    WHEN churn < getvariable('q_low_churn') AND expansion >= getvariable('q_high_expansion') THEN getvariable('q_label_growth_engine')
    WHEN churn >= getvariable('q_high_churn') AND expansion < getvariable('q_low_expansion') THEN getvariable('q_label_churn_candidate')
    ELSE getvariable('q_label_stable_base')
  END;

CREATE OR REPLACE TABLE marts.mart_propensity_quadrant AS
SELECT
  r.customer_id,
  r.plan_tier,
  r.industry,
  r.arr,
  r.risk_score / 100 AS health_risk,
  marts.int_quadrant_of(r.risk_score / 100, e.upgrade_propensity_proxy) AS health_quadrant,
  r.churn_probability,
  marts.int_quadrant_of(r.churn_probability, e.upgrade_propensity_proxy) AS model_quadrant,
  e.upgrade_propensity_proxy,
  round(r.arr * e.upgrade_propensity_proxy * getvariable('expected_uplift_share'), 2) AS expected_arr_uplift_proxy,
  x.expansion_probability,
  x.expected_expansion_arr,
  marts.int_quadrant_of(r.risk_score / 100, x.expansion_probability) AS health_quadrant_by_expansion_model,
  marts.int_quadrant_of(r.churn_probability, x.expansion_probability) AS model_quadrant_by_expansion_model,
  coalesce(f.days_since_last_outreach <= getvariable('contacted_within_days'), false) AS was_contacted,
  f.days_since_last_outreach
FROM marts.mart_customer_risk_scores r
JOIN marts.mart_customer_expansion_features e USING (customer_id)
JOIN marts.mart_customer_churn_features f USING (customer_id)
JOIN marts.model_expansion_scores x USING (customer_id)
ORDER BY expected_arr_uplift_proxy DESC, customer_id;
