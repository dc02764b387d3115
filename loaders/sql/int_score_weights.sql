-- marts.int_score_weights: the weights the health score and the expansion proxy score with
-- tonight. An input whose evidence this installation has no rows of (marts.int_data_coverage)
-- is not measured: weight 0, and the configured weights of the measured inputs are scaled up
-- to sum to 1 — "left out, its weight spread over the rest". The pages show both weights.
-- `segment` is NULL for the global weights; a segment of src/rules/health-score.json that was
-- fitted its own weights (cfg.health_segment_weights) has its own rows, used for its accounts
-- unless none of its weighted components can be measured here.
CREATE OR REPLACE TABLE marts.int_score_weights AS
WITH inputs AS (
  SELECT 'health' AS score, NULL::VARCHAR AS segment, component_id AS input, label, feature, needs, weight AS configured_weight
  FROM cfg.health_components
  UNION ALL
  SELECT 'health', s.segment, h.component_id, h.label, h.feature, h.needs, s.weight
  FROM cfg.health_segment_weights s JOIN cfg.health_components h USING (component_id)
  UNION ALL
  SELECT 'expansion', NULL, feature, feature, feature, needs, weight FROM cfg.expansion_inputs
),
measured AS (
  SELECT i.*, i.needs IS NULL OR coalesce(c."rows", 0) > 0 AS measured
  FROM inputs i LEFT JOIN marts.int_data_coverage c ON c.evidence = i.needs
),
usable AS (
  -- summed in a fixed order (by input), so the weights are the same to the last bit every night:
  -- the next night's refresh compares them (refresh.ts)
  SELECT *, sum(configured_weight) FILTER (WHERE measured) OVER (
           PARTITION BY score, segment ORDER BY input ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS measured_total
  FROM measured
)
SELECT score, segment, input, label, feature, needs, measured, configured_weight,
  CASE WHEN measured THEN configured_weight / measured_total ELSE 0 END AS weight
FROM usable
WHERE segment IS NULL OR measured_total > 0
ORDER BY score, segment NULLS FIRST, input;
