-- Open opportunity: the one definition the features, Customer 360 and the API read.
-- An opportunity is open at the end of day `as_of` when it was created on or before that day
-- and had not closed by then. The stage is today's, so for a past `as_of`:
--   - a deal that is closed today (won or lost) closed on its close date: open while close_date > as_of;
--   - a deal still open today was open at every day since its creation, even past its expected
--     close date (a slipped deal in negotiation is still open).
-- For as_of = today that is: not won or lost (marts.opportunity_status), or closing later.
--
-- marts.is_open_opportunity(stage, created_date, close_date, as_of) is the rule as a predicate;
-- marts.int_open_opportunities_as_of(as_of) the raw.gtm_opportunities rows open at `as_of`.
CREATE OR REPLACE MACRO marts.is_open_opportunity(stage, created_date, close_date, as_of) AS
  created_date <= as_of AND (marts.opportunity_status(stage) NOT IN ('won', 'lost') OR close_date > as_of);

CREATE OR REPLACE MACRO marts.int_open_opportunities_as_of(as_of) AS TABLE
SELECT * FROM raw.gtm_opportunities WHERE marts.is_open_opportunity(stage, created_date, close_date, as_of);
