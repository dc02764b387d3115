-- Three risk findings, measured on history instead of quoted: churn in the 90 days
-- after monthly cutoffs (whose outcome window has fully elapsed), by usage level and by support
-- load at the cutoff, and first-90-day churn of new accounts by integrations connected in
-- their first 30 days. One row per analysis and bucket; `in_signal` marks the buckets that make
-- up the risk group (thresholds from config.flags), so pages compute the multipliers.
CREATE OR REPLACE TABLE marts.mart_risk_signals AS
WITH
cutoffs AS (
  SELECT CAST(c AS DATE) AS cutoff
  FROM range(date_trunc('month', getvariable('as_of') - 90 - 365), getvariable('as_of') - 90 + 1, INTERVAL 1 MONTH) t(c)
  WHERE CAST(c AS DATE) >= (SELECT min(signup_date) FROM raw.customers) + 30
),
active AS (
  SELECT k.cutoff, c.customer_id, ch.churn_date
  FROM cutoffs k
  JOIN raw.customers c ON c.signup_date <= k.cutoff
  LEFT JOIN raw.churn_events ch USING (customer_id)
  WHERE marts.is_active_customer(c.signup_date, ch.churn_date, k.cutoff)
),
daily AS (
  SELECT customer_id, event_date, eng AS n
  FROM marts.int_usage_daily
  -- constant bounds (the cutoffs' span), so DuckDB skips row groups of the day-sorted table
  WHERE event_date > CAST(date_trunc('month', getvariable('as_of') - 90 - 365) AS DATE) - 30
    AND event_date <= getvariable('as_of') - 90
    AND eng > 0
),
-- each active day counts toward the cutoffs whose 30-day window (cutoff − 30, cutoff] holds it:
-- the first month start on or after the day, and the next one when it is still < day + 30
-- (an equi-join instead of a range join: linear in the number of days)
events AS (
  SELECT d.customer_id, k.cutoff, sum(d.n) AS events_30d
  FROM (
    SELECT customer_id, n, event_date,
           unnest([c1, CAST(c1 + INTERVAL 1 MONTH AS DATE)]) AS cutoff
    FROM (SELECT *, CAST(CASE WHEN day(event_date) = 1 THEN event_date ELSE date_trunc('month', event_date) + INTERVAL 1 MONTH END AS DATE) AS c1 FROM daily)
  ) d
  JOIN cutoffs k ON k.cutoff = d.cutoff
  WHERE d.cutoff < d.event_date + 30
  GROUP BY ALL
),
tickets AS (
  SELECT k.cutoff, t.customer_id, count(*) AS hp_tickets_30d
  FROM raw.support_tickets t JOIN cutoffs k ON CAST(t.opened_at AS DATE) > k.cutoff - 30 AND CAST(t.opened_at AS DATE) <= k.cutoff
  WHERE marts.is_high_severity(t.priority)
  GROUP BY ALL
),
snap AS (
  SELECT a.cutoff, a.customer_id,
         coalesce(e.events_30d, 0) AS events_30d,
         coalesce(t.hp_tickets_30d, 0) AS hp_tickets_30d,
         a.churn_date IS NOT NULL AND a.churn_date <= a.cutoff + 90 AS churned_90d
  FROM active a
  LEFT JOIN events e USING (cutoff, customer_id)
  LEFT JOIN tickets t USING (cutoff, customer_id)
),
low AS (SELECT getvariable('low_events_threshold') AS t),
usage_buckets AS (
  SELECT 'usage_decay' AS analysis,
         CASE WHEN events_30d = 0 THEN 0 WHEN events_30d < (SELECT t FROM low) THEN 1 WHEN events_30d < 25 THEN 2 WHEN events_30d < 100 THEN 3 ELSE 4 END AS bucket_order,
         events_30d < (SELECT t FROM low) AS in_signal,
         churned_90d
  FROM snap
),
support_buckets AS (
  SELECT 'support_load' AS analysis, least(hp_tickets_30d, 3) AS bucket_order,
         hp_tickets_30d >= getvariable('support_overload_high_tickets') AS in_signal, churned_90d
  FROM snap
),
new_accounts AS (
  SELECT c.customer_id,
         coalesce(sum(u.integrations), 0) AS integrations_first_30d,
         any_value(ch.churn_date IS NOT NULL AND ch.churn_date <= c.signup_date + 90) AS churned_first_90d
  FROM raw.customers c
  LEFT JOIN raw.churn_events ch USING (customer_id)
  LEFT JOIN marts.int_usage_daily u
    ON u.customer_id = c.customer_id AND u.integrations > 0
   AND u.event_date >= c.signup_date AND u.event_date < c.signup_date + 30
  WHERE c.signup_date <= getvariable('as_of') - 90
    AND c.signup_date >= (SELECT min(event_date) FROM marts.int_usage_daily)
  GROUP BY c.customer_id
),
activation_buckets AS (
  SELECT 'activation_gate' AS analysis, least(integrations_first_30d, 3)::BIGINT AS bucket_order,
         integrations_first_30d < getvariable('activation_gate_integrations') AS in_signal,
         churned_first_90d AS churned_90d
  FROM new_accounts
),
all_buckets AS (
  SELECT * FROM usage_buckets UNION ALL SELECT * FROM support_buckets UNION ALL SELECT * FROM activation_buckets
)
SELECT
  analysis,
  CAST(bucket_order AS INTEGER) AS bucket_order,
  CASE analysis
    WHEN 'usage_decay' THEN ['0 events', '1–' || ((SELECT t FROM low) - 1) || ' events', (SELECT t FROM low) || '–24 events', '25–99 events', '100+ events'][bucket_order + 1]
    WHEN 'support_load' THEN ['0', '1', '2', '3+'][bucket_order + 1] || ' high-priority tickets'
    ELSE ['0', '1', '2', '3+'][bucket_order + 1] || ' integrations'
  END AS bucket,
  bool_and(in_signal) AS in_signal,
  count(*)::INTEGER AS observations,
  count(*) FILTER (WHERE churned_90d)::INTEGER AS churned,
  count(*) FILTER (WHERE churned_90d) / count(*) AS churn_rate,
  (SELECT min(cutoff) FROM cutoffs) AS first_cutoff,
  (SELECT max(cutoff) FROM cutoffs) AS last_cutoff
FROM all_buckets
GROUP BY analysis, bucket_order
ORDER BY analysis, bucket_order;
