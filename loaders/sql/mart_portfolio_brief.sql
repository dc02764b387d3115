-- The executive brief's facts, one row per period (loaders/brief/ then writes the brief's text
-- into the same row):
--   build  what changed since the previous build
--   week   what changed since the last weekly digest; digest_due: tonight's build sends it
-- Without a baseline (the first build, a backfill) the comparison columns are NULL and the brief
-- says so; tonight's figures are always there. Money is in whole dollars and every change is
-- the difference of the rounded figures, so the numbers a reader sees add up.
-- The digest is due with the first build on or after config.brief.digestWeekday in a week with no
-- digest yet: the last digest (marts.mart_brief_digests, carried) went out before this week's
-- digest day. A re-run of a digest night finds tonight's digest already carried, so it is not
-- raised twice (and the outbox ignores a message id it already holds).
CREATE OR REPLACE TABLE marts.mart_portfolio_brief AS
WITH periods AS (
  SELECT * FROM (VALUES ('build', 1), ('week', 2)) AS p(period, period_order)
),
tonight AS (
  SELECT count(*) AS accounts, round(sum(arr)) AS total_arr, round(sum(arr_at_risk)) AS arr_at_risk,
         count(*) FILTER (WHERE list_contains(getvariable('at_risk_tiers'), risk_tier)) AS at_risk_accounts,
         coalesce(round(sum(arr) FILTER (WHERE list_contains(getvariable('at_risk_tiers'), risk_tier))), 0) AS at_risk_arr,
         count(*) FILTER (WHERE days_to_renewal <= getvariable('brief_renewal_window_days')) AS renewals_in_window,
         coalesce(round(sum(arr) FILTER (WHERE days_to_renewal <= getvariable('brief_renewal_window_days'))), 0) AS renewals_in_window_arr
  FROM marts.mart_customer_risk_scores
),
entered_by_tier AS (
  SELECT period, list({'tier': risk_tier, 'accounts': n} ORDER BY tier_rank DESC) AS entered_by_tier
  FROM (SELECT period, risk_tier, any_value(tier_rank) AS tier_rank, count(*) AS n FROM int_brief_comparison WHERE entered_at_risk GROUP BY ALL)
  GROUP BY period
),
compared AS (
  SELECT period, any_value(baseline_as_of) AS baseline_as_of,
         count(*) FILTER (WHERE in_baseline) AS baseline_accounts,
         round(sum(baseline_arr_at_risk)) AS baseline_arr_at_risk,
         count(*) FILTER (WHERE baseline_at_risk) AS baseline_at_risk_accounts,
         count(*) FILTER (WHERE entered_at_risk) AS entered_at_risk_accounts,
         coalesce(round(sum(arr) FILTER (WHERE entered_at_risk)), 0) AS entered_at_risk_arr,
         count(*) FILTER (WHERE active_now AND in_baseline AND baseline_at_risk AND NOT at_risk) AS left_at_risk_accounts,
         count(*) FILTER (WHERE active_now AND NOT in_baseline) AS joined_accounts,
         count(*) FILTER (WHERE in_baseline AND NOT active_now) AS left_accounts,
         coalesce(round(sum(baseline_arr) FILTER (WHERE in_baseline AND NOT active_now)), 0) AS left_arr,
         count(*) FILTER (WHERE entered_renewal_window) AS renewals_entering,
         coalesce(round(sum(arr) FILTER (WHERE entered_renewal_window)), 0) AS renewals_entering_arr,
         count(*) FILTER (WHERE entered_renewal_window AND at_risk) AS renewals_entering_at_risk,
         count(*) FILTER (WHERE entered_renewal_window AND NOT has_open_renewal_opp) AS renewals_entering_without_opportunity,
         count(*) FILTER (WHERE active_now AND in_baseline AND arr_at_risk_change > 0) AS accounts_worse,
         count(*) FILTER (WHERE active_now AND in_baseline AND arr_at_risk_change < 0) AS accounts_better
  FROM int_brief_comparison GROUP BY period
),
last_digest AS (SELECT max(as_of_date) AS as_of_date FROM prev_brief_digests)
SELECT
  p.period, p.period_order,
  getvariable('as_of') AS as_of_date,
  c.baseline_as_of,
  c.baseline_as_of IS NOT NULL AS has_baseline,
  CAST(getvariable('as_of') - c.baseline_as_of AS INTEGER) AS days_covered,
  t.accounts, t.total_arr, t.arr_at_risk, t.at_risk_accounts, t.at_risk_arr,
  getvariable('brief_renewal_window_days') AS renewal_window_days, t.renewals_in_window, t.renewals_in_window_arr,
  c.baseline_accounts, c.baseline_arr_at_risk, c.baseline_at_risk_accounts,
  t.arr_at_risk - c.baseline_arr_at_risk AS arr_at_risk_change,
  c.entered_at_risk_accounts, coalesce(e.entered_by_tier, []) AS entered_by_tier, c.entered_at_risk_arr,
  c.left_at_risk_accounts, c.joined_accounts, c.left_accounts, c.left_arr,
  c.renewals_entering, c.renewals_entering_arr, c.renewals_entering_at_risk, c.renewals_entering_without_opportunity,
  c.accounts_worse, c.accounts_better,
  -- the week's digest day on or before tonight, and whether a digest already went out since then
  p.period = 'week' AND c.baseline_as_of IS NOT NULL
    AND coalesce((SELECT as_of_date FROM last_digest), DATE '0001-01-01')
        < getvariable('as_of') - CAST((isodow(getvariable('as_of')) - getvariable('brief_digest_weekday') + 7) % 7 AS INTEGER)
    AS digest_due,
  -- the brief itself, written by loaders/brief/ (built-in generator or language model)
  NULL::VARCHAR AS headline, NULL::VARCHAR AS summary, NULL::VARCHAR[] AS key_points, NULL::VARCHAR[] AS recommended_actions,
  NULL::VARCHAR AS text, NULL::VARCHAR AS generator, NULL::VARCHAR AS llm_model, NULL::BOOLEAN AS guardrail_passed,
  NULL::VARCHAR AS fallback_reason, NULL::VARCHAR AS watermark
FROM periods p
CROSS JOIN tonight t
LEFT JOIN compared c USING (period)
LEFT JOIN entered_by_tier e USING (period)
ORDER BY p.period_order;
