-- Monthly logo and ARR churn over the history, for trend charts.
CREATE OR REPLACE TABLE marts.mart_churn_monthly AS
SELECT
  CAST(date_trunc('month', churn_date) AS DATE) AS month,
  count(*) AS churned_customers,
  sum(arr_lost) AS churned_arr
FROM raw.churn_events
WHERE churn_date <= getvariable('as_of')
GROUP BY ALL
ORDER BY month;
