-- What became of every CTA whose churn horizon has passed (raised at least churn_horizon_days
-- before the as-of date): did the account churn within the horizon after the raise, and how much
-- of its ARR was left at the horizon's end. marts.mart_playbook_effectiveness compares these
-- between the CTAs CSMs worked and the ones held out at raise.
--
-- Churn is the churn model's label (loaders/model/train.ts): a churn date in raw.churn_events
-- within the horizon after the day, for an account active on the day (marts.is_active_customer)
-- — so an account that left on the very day a CTA was raised is no outcome of that CTA.
CREATE OR REPLACE TEMP TABLE int_cta_outcomes AS
WITH matured AS (
  SELECT h.cta_id, h.customer_id, h.playbook_id, h.play_tier, h.segment, h.created_date, h.arr_at_raise, h.holdout,
         -- worked: not held out, and a person acted on it
         NOT h.holdout AND h.first_action_date IS NOT NULL AS worked,
         CAST(h.created_date + getvariable('churn_horizon_days') AS DATE) AS horizon_end,
         ch.churn_date, c.arr
  FROM marts.mart_cta_history h
  JOIN raw.customers c USING (customer_id)
  LEFT JOIN raw.churn_events ch USING (customer_id)
  WHERE h.created_date + getvariable('churn_horizon_days') <= getvariable('as_of')
    AND marts.is_active_customer(c.signup_date, ch.churn_date, h.created_date)
),
later_changes AS (
  -- ARR at the horizon's end is today's ARR rolled back through the changes after it (marts.arr_as_of)
  SELECT m.cta_id, sum(s.arr_delta) AS arr_after
  FROM matured m JOIN raw.subscription_changes s ON s.customer_id = m.customer_id AND s.change_date > m.horizon_end
  GROUP BY m.cta_id
),
outcomes AS (
  SELECT m.*, coalesce(m.churn_date <= m.horizon_end, false) AS churned, l.arr_after
  FROM matured m LEFT JOIN later_changes l USING (cta_id)
)
SELECT cta_id, customer_id, playbook_id, play_tier, segment, created_date, holdout, worked, churned, arr_at_raise,
       CASE WHEN churned THEN 0 ELSE round(marts.arr_as_of(arr, arr_after), 2) END AS arr_at_horizon,
       -- the share of the ARR at raise still there at the horizon's end (0 when churned; an account
       -- that paid nothing at raise and stayed kept all it had)
       CASE WHEN churned THEN 0 WHEN arr_at_raise > 0 THEN marts.arr_as_of(arr, arr_after) / arr_at_raise ELSE 1 END AS arr_retention
FROM outcomes;
