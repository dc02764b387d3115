-- A contract's state at a past date, from what raw.customers holds today: the one definition the
-- features, the CTA outcomes, the cohort and churn marts read.
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
