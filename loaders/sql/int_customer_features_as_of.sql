-- marts.int_customer_features_as_of(as_of): point-in-time features of every account active at
-- the end of day `as_of`. It reads only rows dated on or before as_of, so the same macro
-- serves tonight's scoring (as_of = today) and the model's historical training snapshots
-- (one call per monthly cutoff) without leaking what happened afterwards. Usage comes from
-- marts.int_usage_daily (raw.usage_events pivoted by day), built first.
--
-- Raw values are read by their meaning (int_vocabulary.sql), never by the installation's words.
-- Current-state columns of raw.customers are not trusted for the past: ARR and seats are
-- rolled back through raw.subscription_changes and days to renewal counts to the contract's next
-- anniversary (marts.int_contract_as_of), and the lifecycle stage is derived from tenure. Plan
-- tier, industry and size are static.
-- Counts are cast to BIGINT: DuckDB sums integers into HUGEINT, slow to store and scan in the
-- training snapshots (see int_usage_daily.sql).
--
-- `sample` (default 1: every account) keeps a fixed sample of about one account in `sample`
-- (marts.in_sample), as the back-tests and back-fills of a large portfolio read it. It filters
-- every source by the account, so only the sample's rows are read: filtering the macro's result
-- instead read the whole portfolio's usage at every cutoff (at a million customers, ~60 s a
-- back-filled day). An account's features are its own rows' alone, so a sampled account's are
-- the same as in the whole portfolio.
CREATE OR REPLACE MACRO marts.in_sample(id, sample) AS sample = 1 OR hash(id) % sample = 0;

CREATE OR REPLACE MACRO marts.int_customer_features_as_of(as_of, sample := 1) AS TABLE
WITH
active AS (
  SELECT customer_id, plan_tier, industry, company_size, csm_owner, signup_date
  FROM marts.int_active_customers_as_of(as_of) WHERE marts.in_sample(customer_id, sample)
),
contract AS (
  SELECT * FROM marts.int_contract_as_of(as_of) WHERE marts.in_sample(customer_id, sample)
),
recent_changes AS (
  SELECT customer_id,
         count(*) FILTER (WHERE marts.change_kind(change_type) IN ('upgrade', 'seat_add')) AS upgrades_180d,
         count(*) FILTER (WHERE marts.change_kind(change_type) IN ('downgrade', 'seat_remove')) AS downgrades_180d,
         sum(arr_delta) AS arr_change_180d
  FROM raw.subscription_changes
  WHERE change_date <= as_of AND change_date > as_of - 180 AND marts.in_sample(customer_id, sample) GROUP BY customer_id
),
daily AS (
  SELECT * FROM marts.int_usage_daily
  WHERE event_date <= as_of AND event_date > as_of - 90 AND marts.in_sample(customer_id, sample)
),
usage AS (
  SELECT customer_id,
    CAST(coalesce(sum(eng) FILTER (WHERE event_date > as_of - 7), 0) AS BIGINT) AS events_last_7d,
    CAST(coalesce(sum(eng) FILTER (WHERE event_date > as_of - 30), 0) AS BIGINT) AS events_last_30d,
    CAST(coalesce(sum(eng), 0) AS BIGINT) AS events_last_90d,
    CAST(coalesce(sum(eng) FILTER (WHERE event_date <= as_of - 30), 0) AS BIGINT) AS events_prev_60d,
    count(*) FILTER (WHERE eng > 0 AND event_date > as_of - 30) AS active_days_30d,
    CAST(coalesce(sum(logins) FILTER (WHERE event_date > as_of - 30), 0) AS BIGINT) AS logins_30d,
    CAST(coalesce(sum(feature_uses) FILTER (WHERE event_date > as_of - 30), 0) AS BIGINT) AS feature_uses_30d,
    CAST(coalesce(sum(api_calls) FILTER (WHERE event_date > as_of - 30), 0) AS BIGINT) AS api_calls_30d,
    CAST(coalesce(sum(report_exports) FILTER (WHERE event_date > as_of - 30), 0) AS BIGINT) AS report_exports_30d,
    CAST(coalesce(sum(integrations), 0) AS BIGINT) AS integrations_90d,
    CAST(coalesce(sum(premium_trials) FILTER (WHERE event_date > as_of - 30), 0) AS BIGINT) AS premium_feature_trials_30d,
    CAST(coalesce(sum(limit_hits) FILTER (WHERE event_date > as_of - 30), 0) AS BIGINT) AS feature_limit_hits_30d,
    coalesce(sum(active_users) FILTER (WHERE event_date > as_of - 30), 0) / 30.0 AS avg_active_users_30d,
    coalesce(max(active_users) FILTER (WHERE event_date > as_of - 30), 0) AS peak_active_users_30d
  FROM daily
  GROUP BY customer_id
),
activation AS (
  -- integrations connected in the account's first 30 days (so far, for younger accounts)
  SELECT u.customer_id, CAST(sum(u.integrations) AS BIGINT) AS integrations_first_30d
  FROM marts.int_usage_daily u JOIN active a USING (customer_id)
  WHERE u.integrations > 0 AND u.event_date <= as_of AND u.event_date < a.signup_date + 30
    AND marts.in_sample(u.customer_id, sample)
  GROUP BY u.customer_id
),
tickets AS (
  SELECT customer_id,
    count(*) FILTER (WHERE opened_d > as_of - 30) AS tickets_30d,
    count(*) FILTER (WHERE opened_d > as_of - 90) AS tickets_90d,
    count(*) FILTER (WHERE opened_d > as_of - 30 AND marts.is_high_severity(priority)) AS high_priority_tickets_30d,
    count(*) FILTER (WHERE marts.is_open_ticket(opened_at, resolved_at, as_of)) AS open_tickets,
    count(*) FILTER (WHERE marts.is_open_ticket(opened_at, resolved_at, as_of) AND marts.is_high_severity(priority)) AS open_high_priority_tickets,
    count(*) FILTER (WHERE opened_d > as_of - 90 AND marts.ticket_group(category) = 'feature_request') AS feature_request_tickets_90d,
    -- CSAT and resolution time exist only once a ticket is resolved
    avg(csat_score) FILTER (WHERE resolved_d <= as_of AND resolved_d > as_of - 90) AS avg_csat_90d,
    avg(epoch(resolved_at - opened_at) / 3600) FILTER (WHERE resolved_d <= as_of AND resolved_d > as_of - 90) AS avg_resolution_hours_90d
  FROM (
    SELECT *, CAST(opened_at AS DATE) AS opened_d, CAST(resolved_at AS DATE) AS resolved_d
    FROM raw.support_tickets WHERE CAST(opened_at AS DATE) <= as_of AND marts.in_sample(customer_id, sample)
  )
  GROUP BY customer_id
),
nps AS (
  SELECT customer_id, arg_max(score, response_date) AS latest_nps
  FROM raw.nps_responses
  WHERE response_date <= as_of AND response_date > as_of - 365 AND marts.in_sample(customer_id, sample) GROUP BY customer_id
),
payments AS (
  SELECT customer_id,
    count(*) FILTER (WHERE (paid_date IS NOT NULL AND paid_date <= as_of AND paid_date > due_date)
                        OR (due_date < as_of AND (paid_date IS NULL OR paid_date > as_of))) AS late_invoices_180d,
    coalesce(max(as_of - due_date) FILTER (WHERE due_date < as_of AND (paid_date IS NULL OR paid_date > as_of)), 0) AS max_days_overdue
  FROM raw.invoices
  WHERE issued_date <= as_of AND issued_date > as_of - 180 AND marts.in_sample(customer_id, sample) GROUP BY customer_id
),
failed_payments AS (
  -- dunning: charge attempts that failed (retries count: each failed retry is another signal)
  SELECT customer_id, count(*) FILTER (WHERE marts.payment_outcome(status) = 'failed') AS failed_payments_90d
  FROM raw.payment_attempts
  WHERE attempted_at <= as_of AND attempted_at > as_of - 90 AND marts.in_sample(customer_id, sample) GROUP BY customer_id
),
risk_review AS (
  -- the latest security and compliance review of the last year
  SELECT customer_id,
    arg_max(compliance_gap_score, assessed_date) AS compliance_gap_score,
    arg_max(vendor_risk_flags, assessed_date) AS vendor_risk_flags
  FROM raw.account_risk_signals
  WHERE assessed_date <= as_of AND assessed_date > as_of - 365 AND marts.in_sample(customer_id, sample) GROUP BY customer_id
),
opportunities AS (
  SELECT customer_id,
    bool_or(marts.opportunity_kind(opportunity_type) = 'expansion') AS has_open_expansion_opp,
    bool_or(marts.opportunity_kind(opportunity_type) = 'renewal') AS has_open_renewal_opp,
    coalesce(sum(amount) FILTER (WHERE marts.opportunity_kind(opportunity_type) = 'expansion'), 0) AS open_expansion_amount
  FROM marts.int_open_opportunities_as_of(as_of) WHERE marts.in_sample(customer_id, sample) GROUP BY customer_id
),
outreach AS (
  SELECT customer_id,
    count(*) FILTER (WHERE outreach_date > as_of - 30) AS outreach_30d,
    as_of - max(outreach_date) AS days_since_last_outreach
  FROM raw.cs_outreach WHERE outreach_date <= as_of AND marts.in_sample(customer_id, sample) GROUP BY customer_id
)
SELECT
  a.customer_id,
  CAST(as_of AS DATE) AS as_of_date,
  a.plan_tier, a.industry, a.company_size, a.csm_owner,
  CAST(as_of - a.signup_date AS INTEGER) AS tenure_days,
  -- terms renew on anniversaries of the contract's renewal date
  k.days_to_renewal,
  CASE WHEN as_of - a.signup_date < getvariable('onboarding_window_days') THEN 'Onboarding'
       WHEN k.days_to_renewal <= list_max(getvariable('renewal_stages_days')) THEN 'Renewal'
       WHEN as_of - a.signup_date < 365 THEN 'Adoption'
       ELSE 'Mature' END AS lifecycle_stage_at_cutoff,
  round(k.arr, 2) AS arr,
  k.seats,
  coalesce(u.events_last_7d, 0) AS events_last_7d,
  coalesce(u.events_last_30d, 0) AS events_last_30d,
  coalesce(u.events_last_90d, 0) AS events_last_90d,
  coalesce(u.events_prev_60d, 0) AS events_prev_60d,
  coalesce(u.events_last_30d, 0) / k.seats AS events_per_seat_30d,
  -- last 30 days against the monthly average of the 60 days before; undefined for young or silent accounts
  CASE WHEN as_of - a.signup_date < 90 OR coalesce(u.events_prev_60d, 0) + coalesce(u.events_last_30d, 0) = 0 THEN NULL
       ELSE least(coalesce(u.events_last_30d, 0) / greatest(u.events_prev_60d / 2.0, 1), 3) END AS usage_trend_ratio,
  coalesce(u.active_days_30d, 0) AS active_days_30d,
  coalesce(u.logins_30d, 0) AS logins_30d,
  coalesce(u.feature_uses_30d, 0) AS feature_uses_30d,
  coalesce(u.api_calls_30d, 0) AS api_calls_30d,
  coalesce(u.report_exports_30d, 0) AS report_exports_30d,
  coalesce(u.avg_active_users_30d, 0) AS avg_active_users_30d,
  coalesce(u.peak_active_users_30d, 0) / k.seats AS seat_utilisation,
  -- over-deployment: more people active on a day than the licence holds (compliance and expansion)
  CAST(greatest(coalesce(u.peak_active_users_30d, 0) - k.seats, 0) AS BIGINT) AS over_deployed_users,
  coalesce(act.integrations_first_30d, 0) AS integrations_first_30d,
  -- the activation gate only says something about accounts still in onboarding
  CASE WHEN as_of - a.signup_date < getvariable('onboarding_window_days') THEN coalesce(act.integrations_first_30d, 0) END AS onboarding_integrations,
  coalesce(u.integrations_90d, 0) AS integrations_90d,
  coalesce(u.premium_feature_trials_30d, 0) AS premium_feature_trials_30d,
  coalesce(u.feature_limit_hits_30d, 0) AS feature_limit_hits_30d,
  coalesce(t.tickets_30d, 0) AS tickets_30d,
  coalesce(t.tickets_90d, 0) AS tickets_90d,
  coalesce(t.high_priority_tickets_30d, 0) AS high_priority_tickets_30d,
  coalesce(t.open_tickets, 0) AS open_tickets,
  coalesce(t.open_high_priority_tickets, 0) AS open_high_priority_tickets,
  coalesce(t.feature_request_tickets_90d, 0) AS feature_request_tickets_90d,
  t.avg_csat_90d,
  t.avg_resolution_hours_90d,
  n.latest_nps,
  coalesce(p.late_invoices_180d, 0) AS late_invoices_180d,
  coalesce(p.max_days_overdue, 0) AS max_days_overdue,
  CAST(coalesce(fp.failed_payments_90d, 0) AS BIGINT) AS failed_payments_90d,
  rr.compliance_gap_score,
  rr.vendor_risk_flags,
  coalesce(rc.upgrades_180d, 0) AS upgrades_180d,
  coalesce(rc.downgrades_180d, 0) AS downgrades_180d,
  coalesce(rc.arr_change_180d, 0) AS arr_change_180d,
  coalesce(o.has_open_expansion_opp, false) AS has_open_expansion_opp,
  coalesce(o.has_open_renewal_opp, false) AS has_open_renewal_opp,
  coalesce(o.open_expansion_amount, 0) AS open_expansion_amount,
  coalesce(r.outreach_30d, 0) AS outreach_30d,
  r.days_since_last_outreach
FROM active a
JOIN contract k USING (customer_id)
LEFT JOIN recent_changes rc USING (customer_id)
LEFT JOIN usage u USING (customer_id)
LEFT JOIN activation act USING (customer_id)
LEFT JOIN tickets t USING (customer_id)
LEFT JOIN nps n USING (customer_id)
LEFT JOIN payments p USING (customer_id)
LEFT JOIN failed_payments fp USING (customer_id)
LEFT JOIN risk_review rr USING (customer_id)
LEFT JOIN opportunities o USING (customer_id)
LEFT JOIN outreach r USING (customer_id);
