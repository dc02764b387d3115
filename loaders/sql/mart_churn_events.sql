-- One row per account that churned on or before the as-of date: who it was (segment and owner,
-- no contact data), when it left, after how long, why, the ARR lost, and where in its contract
-- term it left — for the Churn timing and reasons report.
--
-- reason: the stated reason as the source records it (churn reasons are a shown-only vocabulary,
-- src/rules/vocabulary.ts); a missing one is 'not recorded', decided here once. reason_order
-- follows the vocabulary's order, unknown reasons after it and 'not recorded' last.
--
-- days_to_renewal_at_churn: days from the churn date to the next anniversary of the contract's
-- renewal date (marts.days_to_renewal, int_contract_as_of.sql).
-- 0 = the account did not renew; more = it cancelled mid-term (monthly plans leave at a month end).
CREATE OR REPLACE TABLE marts.mart_churn_events AS
SELECT
  e.customer_id,
  c.plan_tier, c.industry, c.company_size, c.csm_owner,
  c.signup_date,
  e.churn_date,
  CAST(e.churn_date - c.signup_date AS INTEGER) AS tenure_days,
  -- whole months completed as a customer (a month that ends on its last day is whole: 31 Oct → 30 Nov is one)
  CAST(date_sub('month', c.signup_date, e.churn_date) AS INTEGER) AS tenure_months,
  coalesce(e.reason, 'not recorded') AS reason,
  CAST(CASE WHEN e.reason IS NULL THEN r.known + 2 ELSE coalesce(v.rank, r.known + 1) END AS INTEGER) AS reason_order,
  e.arr_lost,
  marts.days_to_renewal(c.renewal_date, e.churn_date) AS days_to_renewal_at_churn
FROM raw.churn_events e
JOIN raw.customers c USING (customer_id)
LEFT JOIN marts.int_vocabulary('churnReasons') v ON v.value = e.reason
CROSS JOIN (SELECT coalesce(max(rank), 0) AS known FROM marts.int_vocabulary('churnReasons')) r
WHERE e.churn_date <= getvariable('as_of')
ORDER BY e.churn_date, e.customer_id;
