-- Tonight's health-score components (see int_health_components_of.sql). The Customer 360
-- risk-flag breakdown reads this table.
CREATE OR REPLACE TABLE marts.mart_health_components AS
SELECT * FROM marts.int_health_components_of('marts.mart_customer_churn_features')
ORDER BY customer_id, component_id;
