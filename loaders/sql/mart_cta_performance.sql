-- How the CS team works its CTAs: per CSM (whoever works the CTA: the assignee, else the account's
-- CSM) and playbook, plus a team row per playbook (owner = 'all'), over the CTAs raised in the
-- reporting window (cta_report_window_days before the as-of date). Holdouts are not counted: nobody
-- was meant to work them. "Worked" is any action by a person (start, note, snooze, done…); time to
-- first action is in days from the raise.
CREATE OR REPLACE TABLE marts.mart_cta_performance AS
WITH raised AS (
  SELECT coalesce(assignee, csm_owner) AS owner, playbook_id, status, created_date, due_date,
         CAST(first_action_date - created_date AS INTEGER) AS days_to_first_action
  FROM marts.mart_cta_history
  WHERE NOT holdout AND created_date > getvariable('as_of') - getvariable('cta_report_window_days')
),
by_owner AS (
  SELECT CASE WHEN grouping(owner) = 1 THEN 'all' ELSE coalesce(owner, '(no owner)') END AS owner, playbook_id,
         count(*) AS ctas_raised,
         count(days_to_first_action) AS ctas_worked,
         count(*) FILTER (WHERE status = 'done') AS ctas_done,
         count(*) FILTER (WHERE status = 'dismissed') AS ctas_dismissed,
         count(*) FILTER (WHERE status IN ('open', 'in_progress', 'snoozed')) AS ctas_open,
         count(*) FILTER (WHERE status IN ('open', 'in_progress') AND due_date < getvariable('as_of')) AS ctas_overdue,
         median(days_to_first_action) AS median_days_to_first_action
  FROM raised GROUP BY GROUPING SETS ((owner, playbook_id), (playbook_id))
)
SELECT b.owner, b.playbook_id, pb.playbook,
       b.ctas_raised, b.ctas_worked, b.ctas_done, b.ctas_dismissed, b.ctas_open, b.ctas_overdue,
       b.ctas_worked / b.ctas_raised AS worked_rate,
       b.ctas_done / b.ctas_raised AS completion_rate,
       b.median_days_to_first_action,
       getvariable('cta_report_window_days') AS window_days
FROM by_owner b JOIN cfg.playbooks pb USING (playbook_id)
ORDER BY b.owner <> 'all', b.owner, b.playbook_id;
