-- marts.int_data_coverage: what this installation's data can measure — the rows of each kind of
-- evidence a score input needs (config EVIDENCE; HealthComponent.needs, ExpansionInput.needs).
-- A product without integrations, a company that runs no NPS survey or sends no invoices from
-- its billing system has none of that evidence: marts.int_score_weights leaves the inputs that
-- need it out instead of scoring every account zero on them.
CREATE OR REPLACE TABLE marts.int_data_coverage AS
WITH counts AS (
  SELECT
    count(*) FILTER (WHERE u.eng > 0) AS engagement_events,
    count(*) FILTER (WHERE u.active_users > 0) AS active_users,
    count(*) FILTER (WHERE u.integrations > 0) AS integration_events,
    count(*) FILTER (WHERE u.api_calls > 0) AS api_calls,
    count(*) FILTER (WHERE u.report_exports > 0) AS exports,
    count(*) FILTER (WHERE u.premium_trials > 0) AS premium_trials,
    count(*) FILTER (WHERE u.limit_hits > 0) AS limit_hits,
    (SELECT count(*) FROM raw.support_tickets) AS support_tickets,
    (SELECT count(csat_score) FROM raw.support_tickets) AS csat_scores,
    (SELECT count(*) FROM raw.nps_responses) AS nps_responses,
    (SELECT count(*) FROM raw.invoices) AS invoices,
    (SELECT count(*) FROM raw.gtm_opportunities) AS opportunities,
    (SELECT count(*) FROM raw.subscription_changes) AS subscription_changes,
    (SELECT count(*) FROM raw.payment_attempts) AS payment_attempts,
    (SELECT count(*) FROM raw.account_risk_signals) AS risk_reviews
  FROM marts.int_usage_daily u
)
UNPIVOT counts ON COLUMNS(*) INTO NAME evidence VALUE "rows";
