-- marts.usage_daily: product usage per account and day, one column per event type, sorted by
-- day. The feature macro reads 90-day windows of it at every cutoff; the day order lets DuckDB
-- skip row groups outside the window, and one row per day replaces one per event type.
CREATE OR REPLACE TABLE marts.usage_daily AS
SELECT customer_id, event_date,
  coalesce(sum(event_count) FILTER (WHERE list_contains(getvariable('engagement_event_types'), event_type)), 0) AS eng,
  coalesce(sum(event_count) FILTER (WHERE event_type = 'login'), 0) AS logins,
  coalesce(sum(event_count) FILTER (WHERE event_type = 'feature_use'), 0) AS feature_uses,
  coalesce(sum(event_count) FILTER (WHERE event_type = 'api_call'), 0) AS api_calls,
  coalesce(sum(event_count) FILTER (WHERE event_type = 'report_export'), 0) AS report_exports,
  coalesce(sum(event_count) FILTER (WHERE event_type = 'integration_connect'), 0) AS integrations,
  coalesce(sum(event_count) FILTER (WHERE event_type = 'premium_feature_trial'), 0) AS premium_trials,
  coalesce(sum(event_count) FILTER (WHERE event_type = 'feature_limit_hit'), 0) AS limit_hits,
  coalesce(sum(event_count) FILTER (WHERE event_type = 'active_users'), 0) AS active_users
FROM raw.usage_events
GROUP BY customer_id, event_date
ORDER BY event_date, customer_id;
