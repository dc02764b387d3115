-- marts.int_expansions_between(after_, through_): the accounts that expanded in the days after
-- `after_` up to and including `through_`, and by how much ARR — the expansion model's label
-- (a won expansion opportunity or an upgrade, the one definition its training and back-test read).
-- An upgrade or seat addition is the contract change; a won expansion opportunity whose change the
-- billing data does not hold counts its amount instead (the CRM's word for what was added).
CREATE OR REPLACE MACRO marts.int_expansions_between(after_, through_) AS TABLE
WITH changes AS (
  SELECT customer_id, sum(greatest(arr_delta, 0)) AS arr
  FROM raw.subscription_changes
  WHERE change_date > after_ AND change_date <= through_ AND marts.change_kind(change_type) IN ('upgrade', 'seat_add')
  GROUP BY customer_id
),
won AS (
  SELECT customer_id, sum(amount) AS amount
  FROM raw.gtm_opportunities
  WHERE close_date > after_ AND close_date <= through_
    AND marts.opportunity_kind(opportunity_type) = 'expansion' AND marts.opportunity_status(stage) = 'won'
  GROUP BY customer_id
)
SELECT customer_id, coalesce(nullif(c.arr, 0), w.amount, 0) AS expansion_arr
FROM changes c FULL JOIN won w USING (customer_id);
