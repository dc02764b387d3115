-- One row of portfolio headline numbers as of the build date. Retention is measured on the
-- accounts active a year earlier: ARR then (rolled back through subscription changes) against
-- the same accounts' ARR now (0 if churned). GRR caps each account at its starting ARR.
CREATE OR REPLACE TABLE marts.mart_portfolio_kpis AS
WITH
then_active AS (SELECT customer_id, arr AS arr_then FROM marts.int_customer_features_as_of(getvariable('as_of') - 365)),
now_active AS (SELECT customer_id, arr AS arr_now FROM marts.mart_customer_churn_features),
cohort AS (
  SELECT t.customer_id, t.arr_then, coalesce(n.arr_now, 0) AS arr_now
  FROM then_active t LEFT JOIN now_active n USING (customer_id)
),
retention AS (
  SELECT count(*) AS cohort_customers,
         count(*) FILTER (WHERE arr_now = 0) AS cohort_churned,
         sum(arr_then) AS cohort_arr_then,
         sum(arr_now) AS cohort_arr_now,
         sum(least(arr_now, arr_then)) AS cohort_arr_retained
  FROM cohort
),
portfolio AS (
  SELECT count(*) AS active_customers,
         sum(arr) AS total_arr,
         sum(arr_at_risk) AS arr_at_risk,
         count(*) FILTER (WHERE list_contains(getvariable('at_risk_tiers'), risk_tier)) AS high_critical_customers,
         coalesce(sum(arr) FILTER (WHERE list_contains(getvariable('at_risk_tiers'), risk_tier)), 0) AS high_critical_arr,
         round(avg(health_score), 1) AS avg_health_score
  FROM marts.mart_customer_risk_scores
)
SELECT
  CAST(getvariable('as_of') AS DATE) AS as_of_date,
  p.*,
  r.cohort_customers AS customers_12m_ago,
  round(r.cohort_churned / nullif(r.cohort_customers, 0), 4) AS logo_churn_rate_12m,
  round(r.cohort_arr_retained / nullif(r.cohort_arr_then, 0), 4) AS grr_12m,
  round(r.cohort_arr_now / nullif(r.cohort_arr_then, 0), 4) AS nrr_12m
FROM portfolio p CROSS JOIN retention r;
