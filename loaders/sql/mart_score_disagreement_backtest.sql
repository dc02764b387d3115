-- Which view was right, historically: on the back-test cutoffs (marts.model_backtest_predictions:
-- the score and the model as they stood at each cutoff, with the 90-day outcome since), how many
-- accounts each disagreement group held and how many of them churned, beside the rest of the
-- accounts and all of them.
CREATE OR REPLACE TABLE marts.mart_score_disagreement_backtest AS
WITH tiered AS (
  SELECT b.cutoff_date, b.label, coalesce(marts.int_score_disagreement(t.tier, mt.tier), 'rest') AS disagreement
  FROM marts.model_backtest_predictions b
  ASOF JOIN cfg.risk_tiers t ON b.risk_score >= t.min_score
  ASOF JOIN cfg.model_tiers mt ON b.probability >= mt.min_probability
)
SELECT disagreement,
       count(*)::INTEGER AS accounts,
       count(*) FILTER (WHERE label)::INTEGER AS churned,
       avg(label::INTEGER) AS churn_rate,
       min(cutoff_date) AS first_cutoff,
       max(cutoff_date) AS last_cutoff
FROM (SELECT * FROM tiered UNION ALL SELECT cutoff_date, label, 'all' FROM tiered)
GROUP BY disagreement
ORDER BY CASE disagreement WHEN 'watermelon' THEN 1 WHEN 'false_alarm' THEN 2 WHEN 'rest' THEN 3 ELSE 4 END;
