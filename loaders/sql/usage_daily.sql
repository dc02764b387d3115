-- marts.usage_daily: product usage per account and day, one column per event type, sorted by
-- day. The feature macro reads 90-day windows of it at every cutoff; the day order lets DuckDB
-- skip row groups outside the window, and one row per day replaces one per event type.
--
-- Counts are stored as INTEGER: sum() of an INTEGER is a HUGEINT, and DuckDB scans a stored
-- HUGEINT column about 50x slower than an INTEGER one (measured at 100k customers: 6 s vs
-- 0.1 s per 90-day window), which dominated every feature cutoff.
--
-- Built in four slices by customer id (quartiles of raw.customers): at 100k customers the whole
-- pivot is ~36M (account, day) groups, whose hash table outgrows the build's DuckDB memory cap
-- and spills to disk; a quarter of it does not. Raw usage is usually stored in customer order
-- (the generator writes it in customer batches), so each slice's scan also skips most row
-- groups. Each slice is appended in day order, so windows still skip by day.
CREATE OR REPLACE MACRO marts.usage_daily_slice(lo, hi) AS TABLE
SELECT customer_id, event_date,
  CAST(coalesce(sum(event_count) FILTER (WHERE list_contains(getvariable('engagement_event_types'), event_type)), 0) AS INTEGER) AS eng,
  CAST(coalesce(sum(event_count) FILTER (WHERE event_type = 'login'), 0) AS INTEGER) AS logins,
  CAST(coalesce(sum(event_count) FILTER (WHERE event_type = 'feature_use'), 0) AS INTEGER) AS feature_uses,
  CAST(coalesce(sum(event_count) FILTER (WHERE event_type = 'api_call'), 0) AS INTEGER) AS api_calls,
  CAST(coalesce(sum(event_count) FILTER (WHERE event_type = 'report_export'), 0) AS INTEGER) AS report_exports,
  CAST(coalesce(sum(event_count) FILTER (WHERE event_type = 'integration_connect'), 0) AS INTEGER) AS integrations,
  CAST(coalesce(sum(event_count) FILTER (WHERE event_type = 'premium_feature_trial'), 0) AS INTEGER) AS premium_trials,
  CAST(coalesce(sum(event_count) FILTER (WHERE event_type = 'feature_limit_hit'), 0) AS INTEGER) AS limit_hits,
  CAST(coalesce(sum(event_count) FILTER (WHERE event_type = 'active_users'), 0) AS INTEGER) AS active_users
FROM raw.usage_events
WHERE (lo IS NULL OR customer_id >= lo) AND (hi IS NULL OR customer_id < hi)
GROUP BY customer_id, event_date;

SET VARIABLE usage_slice_bounds = (SELECT quantile_disc(customer_id, [0.25, 0.5, 0.75]) FROM raw.customers);
CREATE OR REPLACE TABLE marts.usage_daily AS
FROM marts.usage_daily_slice(NULL, getvariable('usage_slice_bounds')[1]) ORDER BY event_date;
INSERT INTO marts.usage_daily
FROM marts.usage_daily_slice(getvariable('usage_slice_bounds')[1], getvariable('usage_slice_bounds')[2]) ORDER BY event_date;
INSERT INTO marts.usage_daily
FROM marts.usage_daily_slice(getvariable('usage_slice_bounds')[2], getvariable('usage_slice_bounds')[3]) ORDER BY event_date;
INSERT INTO marts.usage_daily
FROM marts.usage_daily_slice(getvariable('usage_slice_bounds')[3], NULL) ORDER BY event_date;
DROP MACRO TABLE marts.usage_daily_slice;
