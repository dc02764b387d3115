-- Active customer: the one definition every mart, check, loader and the API read.
-- An account is active at the end of day `as_of` when it signed up on or before that day and
-- has not churned by then (no churn event, or a churn date after `as_of`).
--
-- marts.is_active_customer(signup_date, churn_date, as_of) is the rule as a predicate, for
-- queries that test many cutoffs at once; marts.int_active_customers_as_of(as_of) is the table
-- of raw.customers rows active at `as_of`, with their churn date (NULL when still a customer).
-- Neither reads a session variable: the API and the site call them on a read-only warehouse.
CREATE OR REPLACE MACRO marts.is_active_customer(signup_date, churn_date, as_of) AS
  signup_date <= as_of AND (churn_date IS NULL OR churn_date > as_of);

CREATE OR REPLACE MACRO marts.int_active_customers_as_of(as_of) AS TABLE
SELECT c.*, ch.churn_date
FROM raw.customers c
LEFT JOIN raw.churn_events ch USING (customer_id)
WHERE marts.is_active_customer(c.signup_date, ch.churn_date, as_of);
