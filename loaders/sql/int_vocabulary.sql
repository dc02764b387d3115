-- The installation's words, read by their meaning (src/rules/vocabulary.ts). Raw tables keep each
-- company's own plan names, ticket priorities and categories, CRM stages and event names — the
-- pages show them — and every rule reads them only through these macros: "Closed Won" and
-- "closed_won" are both a won deal, and a renamed event is one vocabulary line, not a SQL edit.
-- cfg.vocabulary is written with the raw tables (by ingest from the source mapping's
-- "vocabulary", or by the synthetic generator). A value it does not know means 'other'; ingest
-- counts and reports those (ingest.unknown_values).
--
-- Each kind is a MAP in a session variable: a lookup per row costs what a hash join with the
-- vocabulary table costs, and the macros stay one-liners. loadRules (loaders/marts.ts) runs this
-- file in every session, so no step can read the words without their meanings.
--
-- marts.int_vocabulary(kind): the vocabulary of one kind, in its order.
CREATE OR REPLACE MACRO marts.int_vocabulary(kind_) AS TABLE
SELECT value, meaning, rank, arr_ceiling FROM cfg.vocabulary WHERE kind = kind_ ORDER BY rank;

SET VARIABLE vocab_ticket_priorities = (SELECT map(list(value), list(meaning)) FROM marts.int_vocabulary('ticketPriorities'));
SET VARIABLE vocab_ticket_categories = (SELECT map(list(value), list(meaning)) FROM marts.int_vocabulary('ticketCategories'));
SET VARIABLE vocab_opportunity_stages = (SELECT map(list(value), list(meaning)) FROM marts.int_vocabulary('opportunityStages'));
SET VARIABLE vocab_opportunity_types = (SELECT map(list(value), list(meaning)) FROM marts.int_vocabulary('opportunityTypes'));
SET VARIABLE vocab_lifecycle_stages = (SELECT map(list(value), list(meaning)) FROM marts.int_vocabulary('lifecycleStages'));
SET VARIABLE vocab_usage_events = (SELECT map(list(value), list(meaning)) FROM marts.int_vocabulary('usageEvents'));
SET VARIABLE vocab_subscription_changes = (SELECT map(list(value), list(meaning)) FROM marts.int_vocabulary('subscriptionChanges'));
SET VARIABLE vocab_payment_outcomes = (SELECT map(list(value), list(meaning)) FROM marts.int_vocabulary('paymentOutcomes'));
SET VARIABLE vocab_plan_rank = (SELECT map(list(value), list(rank)) FROM marts.int_vocabulary('planTiers'));
SET VARIABLE vocab_plan_arr_ceiling = (SELECT map(list(value), list(arr_ceiling)) FROM marts.int_vocabulary('planTiers'));

-- ticket severity: low, normal, high, urgent or other; high-severity = high or urgent
CREATE OR REPLACE MACRO marts.ticket_severity(priority) AS coalesce(getvariable('vocab_ticket_priorities')[priority], 'other');
CREATE OR REPLACE MACRO marts.is_high_severity(priority) AS marts.ticket_severity(priority) IN ('high', 'urgent');
-- most severe first (an unknown priority sorts between normal and low)
CREATE OR REPLACE MACRO marts.severity_rank(priority) AS
  CASE marts.ticket_severity(priority) WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'other' THEN 3 ELSE 4 END;
-- ticket category group: bug, outage, how_to, billing, integration, feature_request or other
CREATE OR REPLACE MACRO marts.ticket_group(category) AS coalesce(getvariable('vocab_ticket_categories')[category], 'other');
-- opportunity status: open, won or lost; a stage the vocabulary does not know is an open one
CREATE OR REPLACE MACRO marts.opportunity_status(stage) AS coalesce(getvariable('vocab_opportunity_stages')[stage], 'open');
-- opportunity type: renewal, expansion, new_business or other
CREATE OR REPLACE MACRO marts.opportunity_kind(opportunity_type) AS coalesce(getvariable('vocab_opportunity_types')[opportunity_type], 'other');
-- subscription change: upgrade, downgrade, seat_add, seat_remove or other
CREATE OR REPLACE MACRO marts.change_kind(change_type) AS coalesce(getvariable('vocab_subscription_changes')[change_type], 'other');
-- payment attempt outcome: succeeded, failed or other
CREATE OR REPLACE MACRO marts.payment_outcome(status) AS coalesce(getvariable('vocab_payment_outcomes')[status], 'other');
-- usage signal of an event name (config.engagementSignals count as engagement)
CREATE OR REPLACE MACRO marts.usage_signal(event_type) AS coalesce(getvariable('vocab_usage_events')[event_type], 'other');
-- the canonical lifecycle stage of a value, NULL when the vocabulary does not know it
CREATE OR REPLACE MACRO marts.lifecycle_meaning(stage) AS getvariable('vocab_lifecycle_stages')[stage];
-- plan tier order (1 = lowest) and ARR ceiling; NULL for a plan the vocabulary does not list
CREATE OR REPLACE MACRO marts.plan_rank(plan_tier) AS getvariable('vocab_plan_rank')[plan_tier];
CREATE OR REPLACE MACRO marts.plan_arr_ceiling(plan_tier) AS getvariable('vocab_plan_arr_ceiling')[plan_tier];
