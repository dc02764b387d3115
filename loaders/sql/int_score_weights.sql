-- marts.int_score_weights: the weights the health score and the expansion proxy score with
-- tonight. An input whose evidence this installation has no rows of (marts.int_data_coverage)
-- is not measured: weight 0, and the configured weights of the measured inputs are scaled up
-- to sum to 1 — "left out, its weight spread over the rest". The pages show both weights.
CREATE OR REPLACE TABLE marts.int_score_weights AS
WITH inputs AS (
  SELECT 'health' AS score, component_id AS input, label, feature, needs, weight AS configured_weight
  FROM cfg.health_components
  UNION ALL
  SELECT 'expansion', feature, feature, feature, needs, weight FROM cfg.expansion_inputs
),
measured AS (
  SELECT i.*, i.needs IS NULL OR coalesce(c."rows", 0) > 0 AS measured
  FROM inputs i LEFT JOIN marts.int_data_coverage c ON c.evidence = i.needs
)
SELECT score, input, label, feature, needs, measured, configured_weight,
  CASE WHEN measured THEN configured_weight / sum(configured_weight) FILTER (WHERE measured) OVER (PARTITION BY score) ELSE 0 END AS weight
FROM measured
ORDER BY score, input;
