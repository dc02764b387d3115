-- Plan tier × industry risk concentration (the churn heatmap) with trailing-12-month churn.
CREATE OR REPLACE TABLE marts.mart_segment_risk AS
WITH churned AS (
  SELECT c.plan_tier, c.industry, count(*) AS churned_12m
  FROM raw.churn_events ch JOIN raw.customers c USING (customer_id)
  WHERE ch.churn_date > getvariable('as_of') - 365 AND ch.churn_date <= getvariable('as_of')
  GROUP BY ALL
)
SELECT
  r.plan_tier, r.industry,
  count(*) AS customers,
  sum(r.arr) AS arr,
  round(avg(r.risk_score), 1) AS avg_risk_score,
  count(*) FILTER (WHERE list_contains(getvariable('at_risk_tiers'), r.risk_tier)) AS high_critical_customers,
  coalesce(sum(r.arr) FILTER (WHERE list_contains(getvariable('at_risk_tiers'), r.risk_tier)), 0) AS high_critical_arr,
  sum(r.arr_at_risk) AS arr_at_risk,
  coalesce(any_value(ch.churned_12m), 0) AS churned_12m,
  round(coalesce(any_value(ch.churned_12m), 0) / (count(*) + coalesce(any_value(ch.churned_12m), 0)), 4) AS churn_rate_12m
FROM marts.mart_customer_risk_scores r
LEFT JOIN churned ch USING (plan_tier, industry)
GROUP BY r.plan_tier, r.industry
ORDER BY r.plan_tier, r.industry;
