-- Every CTA ever raised, carried from the previous build and worked by CSMs in between.
--
-- Inputs: prev_cta_history (the previous build's history, or the imported seed), int_cta_candidates
-- (tonight's triggers) and ops_cta_state (what people set in the operational store: status,
-- snooze, reason, assignee — read once at the start of the CTA step, loaders/cta.ts).
--
-- A CTA still "live" last night (open, in progress or snoozed):
--   marked done / dismissed by a person  → closed with that status on the day it was set
--   its trigger no longer fires          → closed ('closed') tonight
--   snoozed, snooze running, not worse   → stays 'snoozed' (out of the queue)
--   otherwise                            → 'open' or 'in_progress', same id and creation date, tonight's facts
-- A trigger with no live CTA raises a new one, unless the key (account + type + reason) was
-- closed by a person and the situation has not got materially worse (a higher priority) since:
-- a dismissal holds while the trigger keeps firing night after night, a "done" holds for
-- done_quiet_days too. A trigger that clears and fires again later is a new situation.
-- The due date is fixed when the CTA opens (creation + the priority's act-within window, or
-- the renewal stage's deadline if earlier) and only ever moves earlier, when the priority rises.
-- Holdouts are drawn when a CTA is raised and never change (below).
CREATE OR REPLACE TABLE marts.mart_cta_history AS
WITH ranked_prev AS (
  SELECT p.*, pr.priority_rank
  FROM prev_cta_history p LEFT JOIN cfg.priorities pr USING (priority)
),
live AS (
  -- last night's live CTAs with what people set on them since
  SELECT p.*, s.status AS work_status, s.snoozed_until AS s_snoozed_until, s.status_reason AS s_reason,
         s.assignee AS s_assignee, s.priority_rank_at_change, s.first_action_date AS s_first_action, s.changed_on
  FROM ranked_prev p LEFT JOIN ops_cta_state s USING (cta_id)
  WHERE p.status IN ('open', 'in_progress', 'snoozed')
),
suppressors AS (
  -- the latest CTA per key that a person closed; it keeps quiet a trigger that kept firing
  SELECT customer_id, cta_type, reason, arg_max(cta_id, created_date) AS cta_id,
         arg_max(status, created_date) AS closed_as, arg_max(closed_date, created_date) AS closed_on,
         arg_max(last_seen_date, created_date) AS seen_on, arg_max(priority_rank, created_date) AS rank_at_close
  FROM ranked_prev WHERE status IN ('done', 'dismissed') GROUP BY ALL
),
quiet AS (
  SELECT c.customer_id, c.cta_type, c.reason, s.cta_id AS quiet_by
  FROM int_cta_candidates c JOIN suppressors s USING (customer_id, cta_type, reason)
  WHERE c.priority_rank >= s.rank_at_close                                -- not worse than when it was closed
    AND s.seen_on >= coalesce(getvariable('previous_as_of'), getvariable('as_of'))  -- fired last night too (a first build has no last night)
    AND (s.closed_as = 'dismissed' OR getvariable('as_of') < s.closed_on + getvariable('done_quiet_days'))
),
instances AS (
  -- how many CTAs each key had before, so a re-opened CTA gets a new, unique id
  SELECT customer_id, cta_type, reason, count(*) AS n FROM prev_cta_history GROUP BY ALL
),
fresh AS (
  SELECT c.*, md5(concat_ws('|', c.customer_id, c.cta_type, c.reason, coalesce(i.n, 0) + 1)) AS cta_id
  FROM int_cta_candidates c
  LEFT JOIN instances i USING (customer_id, cta_type, reason)
  ANTI JOIN live p USING (customer_id, cta_type, reason)
  ANTI JOIN quiet q USING (customer_id, cta_type, reason)
),
drawn AS (
  -- Holdouts: within each stratum (playbook × tier × plan segment) tonight's new CTAs are put in a
  -- random order (a hash of the id: the same on a rebuild) and every 1/share-th is held out, from
  -- a random start — systematic sampling, so each stratum holds out its share to within one CTA.
  SELECT f.*,
    floor(row_number() OVER w * h.share + h.start) > floor((row_number() OVER w - 1) * h.share + h.start) AS holdout
  FROM fresh f
  JOIN (SELECT playbook_id, holdout_share AS share,
               hash(playbook_id || getvariable('as_of')::VARCHAR) / 18446744073709551616.0 AS start
        FROM cfg.playbooks) h USING (playbook_id)
  WINDOW w AS (PARTITION BY f.playbook_id, f.play_tier, f.segment ORDER BY hash(f.cta_id), f.cta_id)
)
-- closed before tonight: unchanged, but a person's closure notes that its trigger still fired
SELECT p.cta_id, p.customer_id, p.company_name, p.csm_owner, p.assignee, p.cta_type, p.reason, p.playbook_id, p.priority, p.play_tier, p.segment,
       p.created_date, p.due_date,
       CASE WHEN q.quiet_by IS NOT NULL THEN getvariable('as_of') ELSE p.last_seen_date END AS last_seen_date,
       p.status, p.closed_date, p.detail, p.arr_at_risk, p.arr_at_raise, p.holdout, p.first_action_date, p.snoozed_until, p.status_reason
FROM prev_cta_history p LEFT JOIN quiet q ON q.quiet_by = p.cta_id
WHERE p.status NOT IN ('open', 'in_progress', 'snoozed')
UNION ALL
-- closed by a person since the previous build
SELECT p.cta_id, p.customer_id, p.company_name, p.csm_owner, coalesce(p.s_assignee, p.assignee), p.cta_type, p.reason, p.playbook_id, p.priority,
       p.play_tier, p.segment, p.created_date, p.due_date,
       CASE WHEN c.customer_id IS NOT NULL THEN getvariable('as_of') ELSE p.last_seen_date END,  -- still firing: it stays quiet from tonight
       p.work_status, p.changed_on, p.detail, p.arr_at_risk, p.arr_at_raise, p.holdout,
       coalesce(p.first_action_date, p.s_first_action), NULL, p.s_reason
FROM live p LEFT JOIN int_cta_candidates c USING (customer_id, cta_type, reason)
WHERE p.work_status IN ('done', 'dismissed')
UNION ALL
-- still firing: same id and creation date, tonight's facts
SELECT p.cta_id, c.customer_id, c.company_name, c.csm_owner, coalesce(p.s_assignee, p.assignee), c.cta_type, c.reason, c.playbook_id, c.priority,
       p.play_tier, p.segment, p.created_date,
       least(p.due_date, CAST(p.created_date + to_hours(c.due_hours) AS DATE), c.stage_deadline),
       getvariable('as_of'),
       CASE
         WHEN p.work_status = 'snoozed' AND p.s_snoozed_until > getvariable('as_of')
              AND c.priority_rank >= coalesce(p.priority_rank_at_change, p.priority_rank) THEN 'snoozed'
         WHEN p.work_status = 'in_progress' THEN 'in_progress'
         ELSE 'open'
       END,
       NULL, c.detail, c.arr_at_risk, p.arr_at_raise, p.holdout, coalesce(p.first_action_date, p.s_first_action),
       CASE WHEN p.work_status = 'snoozed' THEN p.s_snoozed_until END,
       CASE WHEN p.work_status IN ('snoozed', 'in_progress') THEN p.s_reason END
FROM live p JOIN int_cta_candidates c USING (customer_id, cta_type, reason)
WHERE p.work_status IS NULL OR p.work_status NOT IN ('done', 'dismissed')
UNION ALL
-- cleared: closed tonight
SELECT p.cta_id, p.customer_id, p.company_name, p.csm_owner, coalesce(p.s_assignee, p.assignee), p.cta_type, p.reason, p.playbook_id, p.priority,
       p.play_tier, p.segment, p.created_date, p.due_date, p.last_seen_date, 'closed', getvariable('as_of'), p.detail, p.arr_at_risk,
       p.arr_at_raise, p.holdout, coalesce(p.first_action_date, p.s_first_action), NULL, NULL
FROM live p ANTI JOIN int_cta_candidates c USING (customer_id, cta_type, reason)
WHERE p.work_status IS NULL OR p.work_status NOT IN ('done', 'dismissed')
UNION ALL
-- new tonight
SELECT cta_id, customer_id, company_name, csm_owner, NULL, cta_type, reason, playbook_id, priority, play_tier, segment,
       getvariable('as_of'), least(CAST(getvariable('as_of') + to_hours(due_hours) AS DATE), stage_deadline),
       getvariable('as_of'), 'open', NULL, detail, arr_at_risk, arr, holdout, NULL, NULL, NULL
FROM drawn;
