-- The scores the executive brief compares tonight's with (loaders/brief/), one set per period:
--   build  the previous build's scores
--   week   the scores of the build that sent the last weekly digest (or of the first build): the
--          week so far, which the next digest reports
-- Carried from build to build like the CTA history: loaders/brief/ reads the previous warehouse
-- into prev_brief_scores (its risk scores), prev_brief_baselines (this table) and
-- prev_brief_digests (marts.mart_brief_digests), empty when there is none (first build, a
-- backfill of an older date). A re-run of the same date compares with what the first run
-- compared with, so it writes the same brief and the same digest.
CREATE OR REPLACE TABLE marts.mart_brief_baselines AS
WITH previous AS (
  SELECT getvariable('brief_previous_as_of') AS as_of,
         getvariable('brief_previous_as_of') = getvariable('as_of') AS rerun,
         getvariable('brief_previous_as_of') < getvariable('as_of') AS earlier,
         -- the previous build sent a digest: tonight's week starts from its scores
         EXISTS (SELECT 1 FROM prev_brief_digests WHERE as_of_date = getvariable('brief_previous_as_of')) AS sent_digest,
         EXISTS (SELECT 1 FROM prev_brief_baselines WHERE period = 'week') AS had_week
),
scores AS (
  SELECT customer_id, risk_tier, risk_score, health_score, arr, arr_at_risk, days_to_renewal FROM prev_brief_scores
)
SELECT 'build' AS period, p.as_of AS baseline_as_of, s.*
FROM scores s, previous p WHERE p.earlier
UNION ALL
SELECT 'week', p.as_of, s.*
FROM scores s, previous p WHERE p.earlier AND (p.sent_digest OR NOT p.had_week)
UNION ALL
SELECT b.period, b.baseline_as_of, b.customer_id, b.risk_tier, b.risk_score, b.health_score, b.arr, b.arr_at_risk, b.days_to_renewal
FROM prev_brief_baselines b, previous p
WHERE p.rerun OR (p.earlier AND b.period = 'week' AND p.had_week AND NOT p.sent_digest)
ORDER BY period, customer_id;
