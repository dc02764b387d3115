-- The CSMs' queue: tonight's open and in-progress CTAs, most urgent first, with the playbook step
-- to work on. Snoozed CTAs and holdouts (raised but deliberately not worked, to measure the plays)
-- are not in it; the owner is whoever the CTA is assigned to, by default the account's CSM.
-- Rules name a fixed step; risk plays move through their steps as the CTA ages (the latest
-- step whose start day has come; "ongoing" steps without an end are reached only by rule).
CREATE OR REPLACE TABLE marts.mart_cta_queue AS
WITH open AS (
  SELECT h.* EXCLUDE (play_tier), c.reason_label, c.step_id AS rule_step_id, c.priority_rank, c.play_tier, c.health_score, c.arr, c.renewal_date, c.days_to_renewal,
         CAST(getvariable('as_of') - h.created_date AS INTEGER) AS days_open
  FROM marts.mart_cta_history h JOIN int_cta_candidates c USING (customer_id, cta_type, reason)
  WHERE h.status IN ('open', 'in_progress') AND NOT h.holdout
),
aged_step AS (
  SELECT o.cta_id,
         coalesce(arg_max(s.step_id, s.start_day) FILTER (WHERE s.start_day <= o.days_open), arg_min(s.step_id, s.start_day)) AS step_id
  FROM open o JOIN cfg.playbook_steps s ON s.playbook_id = o.playbook_id AND s.end_day IS NOT NULL
  WHERE o.rule_step_id IS NULL
  GROUP BY o.cta_id
)
SELECT
  o.cta_id, o.customer_id, o.company_name, o.csm_owner, coalesce(o.assignee, o.csm_owner) AS owner, o.status, o.first_action_date,
  o.cta_type, o.reason, o.reason_label, o.detail,
  o.playbook_id, pb.playbook, s.step_id, s.title AS step,
  o.priority, o.priority_rank,
  o.created_date, o.due_date, o.days_open, o.due_date < getvariable('as_of') AS overdue,
  o.play_tier, o.health_score, o.arr, o.arr_at_risk, o.renewal_date, o.days_to_renewal
FROM open o
LEFT JOIN aged_step a USING (cta_id)
JOIN cfg.playbooks pb USING (playbook_id)
JOIN cfg.playbook_steps s ON s.playbook_id = o.playbook_id AND s.step_id = coalesce(o.rule_step_id, a.step_id)
ORDER BY o.priority_rank, o.due_date, o.arr_at_risk DESC, o.customer_id, o.cta_type, o.reason;
