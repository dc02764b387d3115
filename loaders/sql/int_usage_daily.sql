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
-- * it is built in slices by customer id (quantiles of raw.customers), one run of this file per
--   slice (getvariable('part') of getvariable('parts'), CUSTOMERS_PER_USAGE_SLICE in steps.ts):
--   the whole pivot's hash table outgrows the build's DuckDB memory cap and spills to disk, a
--   slice does not. Raw usage is usually stored in customer order (the generator writes customer
--   batches), so each slice's scan also skips most row groups. Each slice is appended in day order.
--
-- A nightly refresh aggregates only the days from getvariable('usage_from') on (NULL: every day):
-- the days before it had the same raw rows last night (marts.int_usage_days), and
-- loaders/refresh.ts appends their rows from the previous warehouse after this file has run.
CREATE OR REPLACE MACRO marts.int_usage_daily_slice(lo, hi) AS TABLE
WITH signals AS (
  SELECT customer_id, event_date, marts.usage_signal(event_type) AS signal, event_count
  FROM raw.usage_events
  WHERE (lo IS NULL OR customer_id >= lo) AND (hi IS NULL OR customer_id < hi)
    AND (getvariable('usage_from') IS NULL OR event_date >= CAST(getvariable('usage_from') AS DATE))
)
SELECT customer_id, event_date,
  CAST(coalesce(sum(event_count) FILTER (WHERE list_contains(getvariable('engagement_signals'), signal)), 0) AS INTEGER) AS eng,
  CAST(coalesce(sum(event_count) FILTER (WHERE signal = 'login'), 0) AS INTEGER) AS logins,
  CAST(coalesce(sum(event_count) FILTER (WHERE signal = 'feature_use'), 0) AS INTEGER) AS feature_uses,
  CAST(coalesce(sum(event_count) FILTER (WHERE signal = 'api_call'), 0) AS INTEGER) AS api_calls,
  CAST(coalesce(sum(event_count) FILTER (WHERE signal = 'export'), 0) AS INTEGER) AS report_exports,
  CAST(coalesce(sum(event_count) FILTER (WHERE signal = 'integration'), 0) AS INTEGER) AS integrations,
  CAST(coalesce(sum(event_count) FILTER (WHERE signal = 'premium_trial'), 0) AS INTEGER) AS premium_trials,
  CAST(coalesce(sum(event_count) FILTER (WHERE signal = 'limit_hit'), 0) AS INTEGER) AS limit_hits,
  -- distinct users are not additive across names: the largest count of the day
  CAST(coalesce(max(event_count) FILTER (WHERE signal = 'active_users'), 0) AS INTEGER) AS active_users
FROM signals
GROUP BY customer_id, event_date;

-- the slice's bounds: NULL below the first and above the last (every id, NULL excepted, is in one slice)
SET VARIABLE usage_slice_bounds = (
  SELECT quantile_disc(customer_id, list_transform(range(1, getvariable('parts')), k -> k / getvariable('parts')))
  FROM raw.customers
);
CREATE OR REPLACE TABLE marts.int_usage_daily AS
FROM marts.int_usage_daily_slice(getvariable('usage_slice_bounds')[getvariable('part')],
                                 getvariable('usage_slice_bounds')[getvariable('part') + 1])
ORDER BY event_date;
DROP MACRO TABLE marts.int_usage_daily_slice;
