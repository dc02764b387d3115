-- The accounts tonight on which the health score and the churn model disagree
-- (marts.int_score_disagreement), with both views side by side: the score, its tier and the
-- components that cost it the most points; the model's probability, its tier and its top
-- TreeSHAP drivers. Largest expected loss first.
CREATE OR REPLACE TABLE marts.mart_score_disagreements AS
SELECT
  customer_id, company_name, csm_owner, plan_tier, arr,
  marts.int_score_disagreement(risk_tier, model_tier) AS disagreement,
  health_score, risk_tier, health_colour, top_risk_drivers,
  churn_probability, model_tier, model_top_drivers, expected_arr_loss_90d
FROM marts.mart_customer_risk_scores
WHERE marts.int_score_disagreement(risk_tier, model_tier) IS NOT NULL
ORDER BY disagreement DESC, expected_arr_loss_90d DESC, customer_id;
