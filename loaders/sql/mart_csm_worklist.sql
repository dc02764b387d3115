-- A queue that respects capacity: every CTA of tonight's queue (marts.mart_cta_queue: open and in
-- progress, no holdouts) with what it is worth per hour of its owner's time, and the lane it goes to.
--
--   expected_arr_saved = P(churn in 90 days) × ARR × the play's effectiveness
--   value_per_hour     = expected_arr_saved ÷ the play's effort (config.capacity.effortHoursByPlaybook)
--
-- Effectiveness is the playbook's measured effectiveness over all tiers (marts.mart_playbook_effectiveness,
-- worked vs held-out CTAs) once it has enough data, else config.uplift.effectiveness
-- (cfg.playbook_capacity). A measured effect below zero (the play did not help) counts as zero.
-- The figure is per CTA: an account with two CTAs counts its ARR in each, which ranks them right
-- but overstates a sum over CTAs.
--
-- Each owner's CTAs are ranked by value per hour (then priority, due date, id) and walked in that
-- order against the owner's weekly hours (int_csm_capacity):
--   this_week  fits the week: the effort of the kept CTAs up to and including it ≤ the capacity;
--   digest     will never be reached: ranked beyond digestBeyondWeeks weeks of capacity, or worth
--              less than digestBelowValuePerHour per hour;
--   next       kept as an individual CTA, but does not fit this week.
-- Two rules bound the digest, so that "no CTA worth more than one in the queue sits in a digest"
-- holds exactly: Critical CTAs, and CTAs the CSM has started (in progress), are never digested;
-- and a CTA is digested only if it is worth no more per hour than every CTA its owner keeps (so
-- a kept Critical CTA of little value keeps the CTAs worth more than it out of the digest too —
-- they land in "next" as 'outvalues_kept', which mart_csm_capacity offers to rebalance).
CREATE OR REPLACE TABLE marts.mart_csm_worklist AS
WITH effectiveness AS (
  SELECT c.playbook_id, c.effort_hours,
         CASE WHEN m.measured THEN greatest(m.effectiveness, 0) ELSE c.default_effectiveness END AS effectiveness,
         CASE WHEN m.measured THEN 'measured' ELSE 'config' END AS effectiveness_source
  FROM cfg.playbook_capacity c
  LEFT JOIN (SELECT playbook_id, effectiveness, coalesce(enough_data AND effectiveness IS NOT NULL, false) AS measured
             FROM marts.mart_playbook_effectiveness WHERE play_tier = 'all') m USING (playbook_id)
),
valued AS (
  SELECT q.cta_id, q.customer_id, q.company_name, q.owner, q.csm_owner, q.playbook_id, q.priority, q.priority_rank, q.status, q.due_date,
         q.arr, r.churn_probability, e.effort_hours, e.effectiveness, e.effectiveness_source,
         r.churn_probability * q.arr * e.effectiveness AS expected_arr_saved,
         r.churn_probability * q.arr * e.effectiveness / e.effort_hours AS value_per_hour,
         c.capacity_hours, c.capacity_source,
         q.priority = 'critical' OR q.status = 'in_progress' AS never_digest
  FROM marts.mart_cta_queue q
  JOIN marts.mart_customer_risk_scores r USING (customer_id)
  JOIN effectiveness e USING (playbook_id)
  JOIN int_csm_capacity c ON c.csm = q.owner
),
ranked AS (
  SELECT v.*,
         row_number() OVER w AS rank_in_queue,
         sum(v.effort_hours) OVER w AS hours_up_to,
         -- beyond reach: past the digest horizon, or below the value floor
         sum(v.effort_hours) OVER w > v.capacity_hours * k.digest_beyond_weeks AS beyond_horizon,
         v.value_per_hour < k.digest_below_value_per_hour AS below_value_floor
  FROM valued v CROSS JOIN cfg.capacity k
  WINDOW w AS (PARTITION BY v.owner ORDER BY v.value_per_hour DESC, v.priority_rank, v.due_date, v.cta_id ROWS UNBOUNDED PRECEDING)
),
kept_floor AS (
  -- the least an owner's kept CTAs are worth per hour: those within reach and those never digested
  -- (the CTAs kept only by the rule below are worth more than this, so it is the minimum of all kept)
  SELECT *, min(value_per_hour) FILTER (WHERE NOT (beyond_horizon OR below_value_floor) OR never_digest) OVER (PARTITION BY owner) AS keep_floor
  FROM ranked
),
laned AS (
  SELECT *,
         (beyond_horizon OR below_value_floor) AND NOT never_digest AND (keep_floor IS NULL OR value_per_hour <= keep_floor) AS digested
  FROM kept_floor
),
walked AS (
  -- the week is filled with kept CTAs only: a digested CTA takes no time
  SELECT *, sum(CASE WHEN digested THEN 0 ELSE effort_hours END) OVER (PARTITION BY owner ORDER BY rank_in_queue ROWS UNBOUNDED PRECEDING) AS queued_hours_up_to
  FROM laned
)
SELECT
  cta_id, customer_id, company_name, owner, csm_owner, playbook_id, priority, status, due_date,
  arr, churn_probability, effort_hours, effectiveness, effectiveness_source, expected_arr_saved, value_per_hour,
  capacity_hours, capacity_source, rank_in_queue,
  CASE WHEN digested THEN NULL ELSE queued_hours_up_to END AS queued_hours_up_to,
  NOT digested AND queued_hours_up_to <= capacity_hours AS fits_this_week,
  CASE WHEN digested THEN 'digest' WHEN queued_hours_up_to <= capacity_hours THEN 'this_week' ELSE 'next' END AS lane,
  -- why it is in its lane (the page words them)
  CASE
    WHEN digested AND beyond_horizon THEN 'beyond_horizon'
    WHEN digested THEN 'below_value_floor'
    WHEN queued_hours_up_to <= capacity_hours THEN 'fits'
    WHEN priority = 'critical' THEN 'critical'
    WHEN status = 'in_progress' THEN 'in_progress'
    WHEN NOT (beyond_horizon OR below_value_floor) THEN 'within_horizon'
    ELSE 'outvalues_kept'
  END AS lane_reason
FROM walked
ORDER BY owner, rank_in_queue;
