-- A contract's state at a past date, from what raw.customers holds today: the one definition the
-- features (through marts.int_contract_as_of below), the CTA outcomes, the cohort and churn marts read.
--
-- marts.arr_as_of(arr, arr_changes_after): ARR at a date is today's ARR (a churned account's last
-- ARR) less the subscription changes dated after it — the caller sums those, in whatever join
-- shape it has — and never below 0 (a row of changes can outweigh a small contract).
-- marts.days_to_renewal(renewal_date, as_of): days from `as_of` to the next anniversary of the
-- contract's renewal date (contracts renew yearly; 0 = renews that day), so a renewal date the
-- CRM has already moved on still gives the right distance for any past date.
CREATE OR REPLACE MACRO marts.arr_as_of(arr, arr_changes_after) AS
  greatest(arr - coalesce(arr_changes_after, 0), 0);

CREATE OR REPLACE MACRO marts.days_to_renewal(renewal_date, as_of) AS
  CAST(((renewal_date - as_of) % 365 + 365) % 365 AS INTEGER);

-- marts.int_contract_as_of(as_of): every account's contract at the end of day `as_of` — ARR and
-- seats rolled back through the changes after it (seats at least 1), and days to renewal.
CREATE OR REPLACE MACRO marts.int_contract_as_of(as_of) AS TABLE
SELECT c.customer_id,
       marts.arr_as_of(c.arr, lc.arr_after) AS arr,
       greatest(c.seats_purchased - coalesce(lc.seats_after, 0), 1) AS seats,
       marts.days_to_renewal(c.renewal_date, as_of) AS days_to_renewal
FROM raw.customers c
LEFT JOIN (
  SELECT customer_id, sum(arr_delta) AS arr_after, CAST(sum(coalesce(seats_delta, 0)) AS BIGINT) AS seats_after
  FROM raw.subscription_changes WHERE change_date > as_of GROUP BY customer_id
) lc USING (customer_id);
