-- CTA carry-over. An open CTA of the previous build whose account + type + reason still fires
-- stays open with its original creation date (and id); one that no longer fires is closed with
-- tonight's date; a trigger with no open CTA opens a new one. Closed CTAs are kept, so
-- marts.mart_cta_history shows what was raised when. The due date is fixed when the CTA opens
-- (creation + the priority's act-within window, or the renewal stage's deadline if earlier)
-- and only ever moves earlier, when the priority rises.
CREATE OR REPLACE TABLE marts.mart_cta_history AS
WITH prev_open AS (SELECT * FROM prev_cta_history WHERE status = 'open'),
instances AS (
  -- how many CTAs each key had before, so a re-opened CTA gets a new, unique id
  SELECT customer_id, cta_type, reason, count(*) AS n FROM prev_cta_history GROUP BY ALL
)
-- closed before tonight: unchanged
SELECT cta_id, customer_id, company_name, csm_owner, cta_type, reason, playbook_id, priority, created_date, due_date, last_seen_date, status, closed_date, detail, arr_at_risk
FROM prev_cta_history WHERE status <> 'open'
UNION ALL
-- still firing: same id and creation date, tonight's facts
SELECT p.cta_id, c.customer_id, c.company_name, c.csm_owner, c.cta_type, c.reason, c.playbook_id, c.priority, p.created_date,
       least(p.due_date, CAST(p.created_date + to_hours(c.due_hours) AS DATE), c.stage_deadline),
       getvariable('as_of'), 'open', NULL, c.detail, c.arr_at_risk
FROM prev_open p JOIN int_cta_candidates c USING (customer_id, cta_type, reason)
UNION ALL
-- cleared: closed tonight
SELECT p.cta_id, p.customer_id, p.company_name, p.csm_owner, p.cta_type, p.reason, p.playbook_id, p.priority, p.created_date, p.due_date,
       p.last_seen_date, 'closed', getvariable('as_of'), p.detail, p.arr_at_risk
FROM prev_open p ANTI JOIN int_cta_candidates c USING (customer_id, cta_type, reason)
UNION ALL
-- new tonight
SELECT md5(concat_ws('|', c.customer_id, c.cta_type, c.reason, coalesce(i.n, 0) + 1)), c.customer_id, c.company_name, c.csm_owner, c.cta_type, c.reason,
       c.playbook_id, c.priority, getvariable('as_of'),
       least(CAST(getvariable('as_of') + to_hours(c.due_hours) AS DATE), c.stage_deadline),
       getvariable('as_of'), 'open', NULL, c.detail, c.arr_at_risk
FROM int_cta_candidates c
LEFT JOIN instances i USING (customer_id, cta_type, reason)
ANTI JOIN prev_open p USING (customer_id, cta_type, reason);
