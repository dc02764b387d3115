-- marts.int_usage_daily: product usage per account and day, one column per event type, sorted by
-- day. The feature macro reads 90-day windows of it at every cutoff; the day order lets DuckDB
-- skip row groups outside the window, and one row per day replaces one per event type.
--
-- Event names are the installation's own: each is read by its usage signal (int_vocabulary.sql),
-- several names may share a signal, and a name the vocabulary does not know counts nowhere.
-- `eng` sums the signals of config.engagementSignals.
--
-- How it is computed is about speed at 100k customers (150M raw rows → 36M account-days):
-- * the signal lookup is a MAP lookup per row (as fast as a hash join with cfg.vocabulary);
-- * counts are stored as INTEGER: a HUGEINT column (what sum() of INTEGERs returns) scans
--   ~50x slower, and it was read at every feature cutoff;
-- * the sums add DOUBLEs under CASE, not INTEGERs under FILTER: measured faster (a quarter of
--   100,000 customers: 16 s against 22 s). Counts are whole numbers far below 2^53, so the sums
--   are exact;
-- * it is built in slices by customer id (quantiles of raw.customers, computed by the first
--   slice), one run of this file per slice (getvariable('part') of getvariable('parts')): a big
--   slice costs more per customer, and beyond the build's memory cap it spills to disk.
--   How many customers a slice holds depends on whether raw usage is stored in customer order
--   (CUSTOMERS_PER_USAGE_SLICE in steps.ts says why). Each slice is appended in day order.
--
-- A nightly refresh aggregates only the days from getvariable('usage_from') on (NULL: every day):
-- the days before it had the same raw rows last night (marts.int_usage_days), and
-- loaders/refresh.ts appends their rows from the previous warehouse after this file has run.
CREATE OR REPLACE MACRO marts.int_usage_daily_slice(lo, hi) AS TABLE
WITH signals AS (
  SELECT customer_id, event_date, marts.usage_signal(event_type) AS signal, event_count, CAST(event_count AS DOUBLE) AS n
  FROM raw.usage_events
  WHERE (lo IS NULL OR customer_id >= lo) AND (hi IS NULL OR customer_id < hi)
    AND (getvariable('usage_from') IS NULL OR event_date >= CAST(getvariable('usage_from') AS DATE))
)
SELECT customer_id, event_date,
  CAST(coalesce(sum(CASE WHEN list_contains(getvariable('engagement_signals'), signal) THEN n END), 0) AS INTEGER) AS eng,
  CAST(coalesce(sum(CASE WHEN signal = 'login' THEN n END), 0) AS INTEGER) AS logins,
  CAST(coalesce(sum(CASE WHEN signal = 'feature_use' THEN n END), 0) AS INTEGER) AS feature_uses,
  CAST(coalesce(sum(CASE WHEN signal = 'api_call' THEN n END), 0) AS INTEGER) AS api_calls,
  CAST(coalesce(sum(CASE WHEN signal = 'export' THEN n END), 0) AS INTEGER) AS report_exports,
  CAST(coalesce(sum(CASE WHEN signal = 'integration' THEN n END), 0) AS INTEGER) AS integrations,
  CAST(coalesce(sum(CASE WHEN signal = 'premium_trial' THEN n END), 0) AS INTEGER) AS premium_trials,
  CAST(coalesce(sum(CASE WHEN signal = 'limit_hit' THEN n END), 0) AS INTEGER) AS limit_hits,
  -- distinct users are not additive across names: the largest count of the day
  CAST(coalesce(max(CASE WHEN signal = 'active_users' THEN event_count END), 0) AS INTEGER) AS active_users
FROM signals
GROUP BY customer_id, event_date;

-- the slice's bounds: NULL below the first and above the last (every id, NULL excepted, is in one slice)
SET VARIABLE usage_slice_bounds = CASE WHEN getvariable('part') = 0 THEN (
  SELECT quantile_disc(customer_id, list_transform(range(1, getvariable('parts')), k -> k / getvariable('parts')))
  FROM raw.customers
) ELSE CAST(getvariable('usage_slice_bounds') AS VARCHAR[]) END;
CREATE OR REPLACE TABLE marts.int_usage_daily AS
FROM marts.int_usage_daily_slice(getvariable('usage_slice_bounds')[getvariable('part')],
                                 getvariable('usage_slice_bounds')[getvariable('part') + 1])
ORDER BY event_date;
DROP MACRO TABLE marts.int_usage_daily_slice;
