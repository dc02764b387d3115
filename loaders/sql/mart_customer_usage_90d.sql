-- Daily engagement events of every active account over the 90 days up to the as-of date
-- (days without activity omitted), for the Customer 360 usage trend. From marts.int_usage_daily.
CREATE OR REPLACE TABLE marts.mart_customer_usage_90d AS
SELECT u.customer_id, u.event_date, CAST(u.eng AS INTEGER) AS events
FROM marts.int_usage_daily u
SEMI JOIN marts.mart_customer_risk_scores r USING (customer_id)
WHERE u.event_date > getvariable('as_of') - 90 AND u.event_date <= getvariable('as_of') AND u.eng > 0
ORDER BY u.customer_id, u.event_date;
