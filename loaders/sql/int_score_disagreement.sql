-- marts.int_score_disagreement(risk_tier, model_tier): where the transparent health score and the
-- churn model tell an account's story differently — the one home of the "watermelon" rule.
--   'watermelon'  healthy by the score (a Green tier) but at risk by the model (an at-risk tier):
--                 green outside, red inside, the accounts a health score alone lets churn;
--   'false_alarm' at risk by the score but in the model's lowest tier.
-- NULL when the two views agree (or sit in between).
CREATE OR REPLACE MACRO marts.int_score_disagreement(risk_tier, model_tier) AS
  CASE
    WHEN risk_tier IN (SELECT tier FROM cfg.risk_tiers WHERE colour = 'Green')
         AND list_contains(getvariable('at_risk_tiers'), model_tier) THEN 'watermelon'
    WHEN list_contains(getvariable('at_risk_tiers'), risk_tier)
         AND model_tier = (SELECT tier FROM cfg.model_tiers ORDER BY min_probability LIMIT 1) THEN 'false_alarm'
  END;
