-- Open ticket: the one definition the features, the escalations, Customer 360 and the API read.
-- A support ticket is open at the end of day `as_of` when it was opened on or before that day
-- and was not resolved by then (no resolution, or resolved on a later day). Days, not
-- timestamps: the build's cutoff is a day, and a ticket resolved later that same day counts as
-- resolved, as in every other daily fact.
--
-- marts.is_open_ticket(opened_at, resolved_at, as_of) is the rule as a predicate;
-- marts.int_open_tickets_as_of(as_of) the raw.support_tickets rows open at `as_of`.
CREATE OR REPLACE MACRO marts.is_open_ticket(opened_at, resolved_at, as_of) AS
  CAST(opened_at AS DATE) <= as_of AND (resolved_at IS NULL OR CAST(resolved_at AS DATE) > as_of);

CREATE OR REPLACE MACRO marts.int_open_tickets_as_of(as_of) AS TABLE
SELECT * FROM raw.support_tickets WHERE marts.is_open_ticket(opened_at, resolved_at, as_of);
