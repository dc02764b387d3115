-- marts.int_retention_between(from_, to_): every account active at the end of day `from_`, with
-- its ARR then and at the end of day `to_` (0 when it churned in between; ARR rolled back through
-- the subscription changes, marts.int_contract_as_of): what gross and net revenue retention
-- measure. GRR = Σ least(arr_end, arr_start) / Σ arr_start; NRR = Σ arr_end / Σ arr_start. The
-- retention forecast's rates of expansion and contraction and its record of what happened read it.
CREATE OR REPLACE MACRO marts.int_retention_between(from_, to_) AS TABLE
WITH starting AS (
  SELECT k.customer_id, k.arr FROM marts.int_contract_as_of(from_) k
  SEMI JOIN marts.int_active_customers_as_of(from_) a USING (customer_id)
),
ending AS (
  SELECT k.customer_id, k.arr FROM marts.int_contract_as_of(to_) k
  SEMI JOIN marts.int_active_customers_as_of(to_) a USING (customer_id)
)
SELECT s.customer_id, s.arr AS arr_start, coalesce(e.arr, 0) AS arr_end, e.customer_id IS NULL AS churned
FROM starting s LEFT JOIN ending e USING (customer_id);
