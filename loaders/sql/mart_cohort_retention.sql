-- Cohort retention: for each signup quarter (cohort) and each quarter end since, up to the as-of
-- date, how many of the cohort's accounts are still active (marts.is_active_customer) and the ARR
-- they hold then, against the cohort's accounts and ARR at signup. Aggregated to one row per
-- cohort and quarter end, so the table stays a few hundred rows at 100,000 customers and the
-- Cohort retention report reads it as is.
--
-- ARR at a date is today's ARR rolled back through the subscription changes dated after it
-- (marts.arr_as_of, int_contract_as_of.sql; a churned account's raw.customers.arr is its ARR when
-- it left, = arr_lost). ARR at signup rolls back through all of them. A churned account holds 0.
-- Quarter ends after the as-of date are not measured yet, so the current quarter is not a point.
--
-- full_history: a cohort that signed up before the warehouse's churn record begins (the quarter
-- of its first recorded churn) lists only the accounts still customers then — the ones that left
-- earlier are not in raw.customers — so its retention is a survivors' figure. Imported CRMs and
-- the synthetic portfolio (two years of history on an older book) both have such cohorts.
CREATE OR REPLACE TABLE marts.mart_cohort_retention AS
WITH
accounts AS (
  SELECT c.customer_id, c.signup_date, ch.churn_date, c.arr,
         CAST(date_trunc('quarter', c.signup_date) AS DATE) AS cohort_quarter
  FROM raw.customers c LEFT JOIN raw.churn_events ch USING (customer_id)
  WHERE c.signup_date <= getvariable('as_of')
),
at_signup AS (
  SELECT a.customer_id,
         marts.arr_as_of(a.arr, sum(s.arr_delta) FILTER (WHERE s.change_date > a.signup_date)) AS arr_start
  FROM accounts a LEFT JOIN raw.subscription_changes s USING (customer_id)
  GROUP BY a.customer_id, a.arr
),
record_start AS (
  SELECT CAST(date_trunc('quarter', min(churn_date)) AS DATE) AS first_quarter
  FROM raw.churn_events WHERE churn_date <= getvariable('as_of')
),
quarter_ends AS (
  SELECT CAST(q + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE) AS quarter_end
  FROM range((SELECT min(cohort_quarter) FROM accounts), CAST(getvariable('as_of') AS DATE), INTERVAL 3 MONTH) t(q)
),
grid AS (
  -- every account at every quarter end from its signup quarter's on
  SELECT a.*, e.quarter_end,
         marts.is_active_customer(a.signup_date, a.churn_date, e.quarter_end) AS active
  FROM accounts a JOIN quarter_ends e ON e.quarter_end >= a.cohort_quarter
  WHERE e.quarter_end <= getvariable('as_of')
),
later_changes AS (
  SELECT g.customer_id, g.quarter_end, sum(s.arr_delta) AS arr_after
  FROM grid g JOIN raw.subscription_changes s ON s.customer_id = g.customer_id AND s.change_date > g.quarter_end
  WHERE g.active
  GROUP BY g.customer_id, g.quarter_end
),
measured AS (
  SELECT g.cohort_quarter, g.quarter_end, g.active, st.arr_start,
         CASE WHEN g.active THEN marts.arr_as_of(g.arr, l.arr_after) ELSE 0 END AS arr_then
  FROM grid g
  JOIN at_signup st USING (customer_id)
  LEFT JOIN later_changes l USING (customer_id, quarter_end)
)
SELECT
  cohort_quarter,
  year(cohort_quarter) || ' Q' || quarter(cohort_quarter) AS cohort,
  -- no churn on record at all: nothing says the record is incomplete
  coalesce(cohort_quarter >= (SELECT first_quarter FROM record_start), true) AS full_history,
  CAST(date_diff('quarter', cohort_quarter, quarter_end) AS INTEGER) AS quarters_since_signup,
  quarter_end,
  CAST(count(*) AS INTEGER) AS logos_start,
  CAST(count(*) FILTER (WHERE active) AS INTEGER) AS logos_retained,
  round(sum(arr_start), 2) AS arr_start,
  round(sum(arr_then), 2) AS arr_retained,
  -- gross: each account counted at most at its signup ARR (expansion does not offset churn)
  round(sum(least(arr_then, arr_start)), 2) AS arr_retained_gross
FROM measured
GROUP BY cohort_quarter, quarter_end
ORDER BY cohort_quarter, quarter_end;
