-- Daily engagement events of every active account over the 90 days up to the as-of date
-- (days without activity omitted), for the Customer 360 usage trend.
CREATE OR REPLACE TABLE marts.mart_customer_usage_90d AS
SELECT u.customer_id, u.event_date, CAST(sum(u.event_count) AS INTEGER) AS events
FROM raw.usage_events u
SEMI JOIN marts.mart_customer_risk_scores r USING (customer_id)
WHERE u.event_date > getvariable('as_of') - 90 AND u.event_date <= getvariable('as_of')
  AND list_contains(getvariable('engagement_event_types'), u.event_type)
GROUP BY ALL
ORDER BY u.customer_id, u.event_date;
