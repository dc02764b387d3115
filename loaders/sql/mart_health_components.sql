-- One row per account and health-score component (config.healthScore.components): the
-- feature value, the 0–100 component score and the weighted points it costs the account.
-- The Customer 360 risk-flag breakdown and `top_risk_drivers` both read this table.
CREATE OR REPLACE TABLE marts.mart_health_components AS
WITH wide AS (
  SELECT customer_id, COLUMNS(c -> list_contains(getvariable('health_features'), c))::DOUBLE
  FROM marts.mart_customer_churn_features
),
long AS (FROM wide UNPIVOT INCLUDE NULLS (value FOR feature IN (COLUMNS(* EXCLUDE customer_id))))
SELECT
  l.customer_id,
  h.component_id,
  h.label,
  h.feature,
  l.value,
  h.weight,
  -- linear from `worst` (0 points) to `best` (100 points), clamped; missing data gets `when_missing`
  100 * greatest(0, least(1, (coalesce(l.value, h.when_missing) - h.worst) / (h.best - h.worst))) AS component_score,
  h.weight * (100 - 100 * greatest(0, least(1, (coalesce(l.value, h.when_missing) - h.worst) / (h.best - h.worst)))) AS points_lost
FROM long l JOIN cfg.health_components h USING (feature)
ORDER BY l.customer_id, h.component_id;
