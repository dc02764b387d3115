-- marts.int_churn_periods(as_of, n): the next n months after `as_of` as the churn horizon model
-- reads them, for every account active at the end of that day. Period 1 runs from the day after
-- `as_of` to that month's end (a part month when `as_of` is not a month's first day), period j
-- to the j-th month end after `as_of`: the calendar months a quarter is made of, so a quarter's
-- churn is the sum of its months'. Churn in SaaS falls on a term's end, and a month's last day
-- is in its period, so a part month still holds the decision of its month.
-- renews_in_period: the contract's renewal anniversary (marts.days_to_renewal) falls in the period.
CREATE OR REPLACE MACRO marts.int_churn_periods(as_of, n) AS TABLE
WITH periods AS (
  SELECT CAST(j AS INTEGER) AS months_ahead,
         CASE WHEN j = 1 THEN CAST(as_of AS DATE) ELSE last_day(CAST(as_of AS DATE) + 1 + INTERVAL (j - 2) MONTH) END AS period_after,
         last_day(CAST(as_of AS DATE) + 1 + INTERVAL (j - 1) MONTH) AS period_through
  FROM range(1, n + 1) t(j)
)
SELECT k.customer_id, p.months_ahead, p.period_after, p.period_through,
       CAST(p.period_through - p.period_after AS INTEGER) AS period_days,
       marts.days_to_renewal(CAST(as_of AS DATE) + k.days_to_renewal, p.period_after) AS days_to_renewal_at_period,
       marts.days_to_renewal(CAST(as_of AS DATE) + k.days_to_renewal, p.period_after) BETWEEN 1 AND p.period_through - p.period_after AS renews_in_period
FROM marts.int_contract_as_of(as_of) k
SEMI JOIN marts.int_active_customers_as_of(as_of) a USING (customer_id)
CROSS JOIN periods p;
