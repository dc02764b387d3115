-- Rule-based expansion proxy: each input (config.expansion.inputs) capped to [0,1]
-- and weighted; mrr_tier_ceiling_pct is ARR as a share of the plan tier's ARR ceiling.
CREATE OR REPLACE TABLE marts.mart_customer_expansion_features AS
WITH inputs AS (
  SELECT f.customer_id,
         f.premium_feature_trials_30d,
         f.feature_limit_hits_30d,
         f.feature_request_tickets_90d,
         CAST(f.has_open_expansion_opp AS INTEGER) AS has_open_expansion_opp,
         least(f.arr / c.arr_ceiling, 1) AS mrr_tier_ceiling_pct,
         f.seat_utilisation
  FROM marts.mart_customer_churn_features f JOIN cfg.tier_arr_ceiling c USING (plan_tier)
),
wide AS (SELECT customer_id, COLUMNS(c -> list_contains(getvariable('expansion_features'), c))::DOUBLE FROM inputs),
long AS (UNPIVOT wide ON COLUMNS(* EXCLUDE customer_id) INTO NAME feature VALUE value),
proxy AS (
  SELECT customer_id, round(sum(e.weight * least(l.value / e.cap, 1)), 4) AS upgrade_propensity_proxy
  FROM long l JOIN cfg.expansion_inputs e USING (feature) GROUP BY customer_id
)
SELECT i.*, p.upgrade_propensity_proxy
FROM inputs i JOIN proxy p USING (customer_id)
ORDER BY customer_id;
