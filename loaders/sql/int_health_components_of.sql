-- marts.int_health_components_of(features_table): the transparent health score's components for
-- every account of a features table (tonight's mart_customer_churn_features, or a past
-- cutoff's snapshot for the back-test) — one row per account and component of
-- config.healthScore: the feature value, the 0–100 component score and the weighted points it
-- costs the account. One macro, so tonight's score and the back-test use the same formula.
-- Components this installation cannot measure are left out, with the weights of
-- marts.int_score_weights (the configured weights of the measured ones, scaled to sum to 1).
-- An account whose segment (health-score.json's segmentBy, e.g. its plan tier) was fitted its
-- own weights scores with those; every other account with the global weights.
CREATE OR REPLACE MACRO marts.int_health_components_of(features_table) AS TABLE
WITH wide AS (
  SELECT customer_id,
         COLUMNS(c -> c = getvariable('health_segment_by'))::VARCHAR AS segment_value,
         COLUMNS(c -> list_contains(getvariable('health_features'), c))::DOUBLE
  FROM query_table(features_table)
),
long AS (FROM wide UNPIVOT INCLUDE NULLS (value FOR feature IN (COLUMNS(* EXCLUDE (customer_id, segment_value))))),
own AS (SELECT DISTINCT segment FROM marts.int_score_weights WHERE score = 'health' AND segment IS NOT NULL)
SELECT
  l.customer_id,
  h.component_id,
  h.label,
  h.feature,
  l.value,
  w.weight,
  -- the segment whose own weights scored the account; NULL = the global weights
  w.segment AS weights_of,
  -- linear from `worst` (0 points) to `best` (100 points), clamped; missing data gets `when_missing`
  100 * greatest(0, least(1, (coalesce(l.value, h.when_missing) - h.worst) / (h.best - h.worst))) AS component_score,
  w.weight * (100 - 100 * greatest(0, least(1, (coalesce(l.value, h.when_missing) - h.worst) / (h.best - h.worst)))) AS points_lost
FROM long l
JOIN cfg.health_components h USING (feature)
LEFT JOIN own o ON o.segment = l.segment_value
JOIN marts.int_score_weights w
  ON w.score = 'health' AND w.input = h.component_id AND w.measured AND w.segment IS NOT DISTINCT FROM o.segment;

-- marts.int_health_scores_of(components_table): health score (0–100), risk score (100 − health)
-- and the components that cost the most points, per account, from a table of components
-- (tonight's mart_health_components, or a past cutoff's for the back-test).
CREATE OR REPLACE MACRO marts.int_health_scores_of(components_table) AS TABLE
SELECT customer_id,
       round(sum(weight * component_score) / sum(weight), 1) AS health_score,
       round(100 - round(sum(weight * component_score) / sum(weight), 1), 1) AS risk_score,
       list(component_id ORDER BY points_lost DESC, component_id) FILTER (WHERE points_lost >= 1) AS drivers
FROM query_table(components_table)
GROUP BY customer_id;
