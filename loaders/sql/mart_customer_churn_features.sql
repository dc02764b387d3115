-- Tonight's features: the point-in-time macro evaluated at the build's as-of date.
CREATE OR REPLACE TABLE marts.mart_customer_churn_features AS
SELECT * FROM marts.int_customer_features_as_of(getvariable('as_of'))
ORDER BY customer_id;
