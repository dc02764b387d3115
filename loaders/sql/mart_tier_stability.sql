-- How steady each score's tier is from one monthly cutoff to the next: of the accounts active at
-- both, how many changed tier — for the health score (marts.mart_health_score_history) and the
-- churn model (marts.mart_churn_score_history, tiered by cfg.model_tiers). A tier that flips
-- every month is not trusted either.
CREATE OR REPLACE TABLE marts.mart_tier_stability AS
WITH tiers AS (
  SELECT 'health score' AS score, customer_id, as_of_date, risk_tier AS tier FROM marts.mart_health_score_history
  UNION ALL
  SELECT 'churn model', h.customer_id, h.as_of_date, t.tier
  FROM marts.mart_churn_score_history h ASOF JOIN cfg.model_tiers t ON h.churn_probability >= t.min_probability
),
steps AS (
  SELECT score, as_of_date, tier,
         lag(tier) OVER (PARTITION BY score, customer_id ORDER BY as_of_date) AS previous_tier,
         lag(as_of_date) OVER (PARTITION BY score, customer_id ORDER BY as_of_date) AS previous_date
  FROM tiers
)
SELECT score, as_of_date,
       count(*)::INTEGER AS accounts,
       count(*) FILTER (WHERE tier <> previous_tier)::INTEGER AS changed_tier,
       count(*) FILTER (WHERE tier <> previous_tier) / count(*) AS change_rate
FROM steps
WHERE previous_tier IS NOT NULL
GROUP BY score, as_of_date
ORDER BY score, as_of_date;
