-- Rule-based expansion proxy: each input (config.expansion.inputs) capped to [0,1] and weighted
-- (inputs this installation cannot measure are left out: marts.int_score_weights);
-- mrr_tier_ceiling_pct is ARR as a share of the plan tier's ARR ceiling (the vocabulary's).
CREATE OR REPLACE TABLE marts.mart_customer_expansion_features AS
WITH inputs AS (
  SELECT f.customer_id,
         f.premium_feature_trials_30d,
         f.feature_limit_hits_30d,
         f.feature_request_tickets_90d,
         CAST(f.has_open_expansion_opp AS INTEGER) AS has_open_expansion_opp,
         -- a plan the vocabulary does not list has no ceiling: no room counted
         coalesce(least(f.arr / marts.plan_arr_ceiling(f.plan_tier), 1), 0) AS mrr_tier_ceiling_pct,
         f.seat_utilisation
  FROM marts.mart_customer_churn_features f
),
wide AS (SELECT customer_id, COLUMNS(c -> list_contains(getvariable('expansion_features'), c))::DOUBLE FROM inputs),
long AS (UNPIVOT wide ON COLUMNS(* EXCLUDE customer_id) INTO NAME feature VALUE value),
proxy AS (
  SELECT customer_id, round(sum(w.weight * least(l.value / e.cap, 1)), 4) AS upgrade_propensity_proxy
  FROM long l JOIN cfg.expansion_inputs e USING (feature)
  JOIN marts.int_score_weights w ON w.score = 'expansion' AND w.input = e.feature AND w.measured
  GROUP BY customer_id
)
SELECT i.*, p.upgrade_propensity_proxy
FROM inputs i JOIN proxy p USING (customer_id)
ORDER BY customer_id;
