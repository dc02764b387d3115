-- Escalation messages: one row per account and escalation-matrix trigger that
-- fires tonight, with the message filled from the playbooks' template (playbooks.ts →
-- escalationTemplate). Triggers the data can show:
--   health_red       the health score is Red (risk tier High or Critical)
--   renewal_at_risk  renewal within alerting.renewalAtRiskDays days while High or Critical
--   critical_bug     an open ticket of a critical-bug category and priority (alerting.criticalBug)
-- Not in SaaSGuard's data, so never raised here (CSMs raise them by hand): executive sponsor
-- leaves, competitor evaluation, legal threat (cfg.escalation_matrix.detectable = false).
-- first_raised_date carries over from the previous build while the trigger keeps firing.
CREATE OR REPLACE TABLE marts.mart_escalations AS
WITH accounts AS (
  -- the health-score tier (risk_tier), not the model's: the health_red trigger is about
  -- the health score itself
  SELECT * FROM marts.mart_customer_risk_scores
),
open_bugs AS (
  SELECT customer_id, count(*) AS n, CAST(min(opened_at) AS DATE) AS oldest,
         string_agg(DISTINCT category, '/' ORDER BY category) AS categories
  FROM marts.int_open_tickets_as_of(getvariable('as_of'))
  WHERE list_contains(getvariable('critical_bug_categories'), marts.ticket_group(category))
    AND list_contains(getvariable('critical_bug_priorities'), marts.ticket_severity(priority))
  GROUP BY customer_id
),
driver_labels AS (
  -- top_risk_drivers holds component ids; the message shows their labels (int_labels.sql)
  SELECT customer_id, marts.component_labels(top_risk_drivers) AS labels FROM accounts
),
fired AS (
  SELECT customer_id, 'health_red' AS trigger_id,
         printf('The health score is %.1f (Red), risk tier %s. The components costing the most points are %s.',
                health_score, risk_tier, coalesce(dl.labels, 'none in particular')) AS issue_summary
  FROM accounts LEFT JOIN driver_labels dl USING (customer_id)
  WHERE health_colour = 'Red'
  UNION ALL
  SELECT customer_id, 'renewal_at_risk',
         printf('The contract renews on %s, in %d days, while the account is at %s risk. $%s of ARR is at risk.',
                renewal_date, days_to_renewal, risk_tier, printf('%,.0f', arr_at_risk))
  FROM accounts
  WHERE days_to_renewal <= getvariable('renewal_at_risk_days') AND list_contains(getvariable('alert_tiers'), risk_tier)
  UNION ALL
  SELECT b.customer_id, 'critical_bug',
         printf('%d open %s ticket(s) of priority %s, the oldest opened on %s.',
                b.n, b.categories, array_to_string(getvariable('critical_bug_priorities'), '/'), b.oldest)
  FROM open_bugs b JOIN accounts USING (customer_id)
),
signals AS (
  -- the warning signals the data shows for the account, in a fixed order
  SELECT a.customer_id,
    array_to_string(list_filter([
      CASE WHEN a.health_colour = 'Red' THEN printf('health score %.1f (Red)', a.health_score) END,
      CASE WHEN a.low_events THEN printf('low engagement: %d events in 30 days', a.events_last_30d) END,
      CASE WHEN a.support_overload THEN printf('support overload: %d high/urgent tickets in 30 days', a.high_priority_tickets_30d) END,
      CASE WHEN a.onboarding_at_risk THEN 'onboarding activation gate missed' END,
      CASE WHEN b.n > 0 THEN printf('%d open critical bug ticket(s)', b.n) END,
      CASE WHEN a.days_to_renewal <= getvariable('renewal_at_risk_days') THEN printf('renewal in %d days', a.days_to_renewal) END,
      CASE WHEN dl.labels IS NOT NULL THEN 'top risk drivers: ' || dl.labels END
    ], x -> x IS NOT NULL), '; ') AS warning_signals
  FROM accounts a LEFT JOIN open_bugs b USING (customer_id) LEFT JOIN driver_labels dl USING (customer_id)
),
filled AS (
  SELECT
    f.customer_id, f.trigger_id, m.matrix_row, m.trigger, m.level, m.response_hours,
    a.company_name AS customer_name, a.plan_tier AS segment, a.csm_owner, a.arr, a.arr_at_risk, a.health_score,
    a.health_colour AS classification, a.risk_tier, a.renewal_date, a.days_to_renewal,
    f.issue_summary, coalesce(nullif(s.warning_signals, ''), 'none') AS warning_signals, m.recommended_action, m.brief,
    CASE WHEN m.urgency <> 'tier' THEN m.urgency WHEN a.risk_tier = 'Critical' THEN 'critical' ELSE 'high' END AS urgency,
    coalesce(p.first_raised_date, getvariable('as_of')) AS first_raised_date
  FROM fired f
  JOIN cfg.escalation_matrix m USING (trigger_id)
  JOIN accounts a USING (customer_id)
  JOIN signals s USING (customer_id)
  LEFT JOIN prev_escalations p USING (customer_id, trigger_id)
)
SELECT
  md5(concat_ws('|', customer_id, trigger_id, first_raised_date)) AS escalation_id,
  customer_id, trigger_id, trigger, level, response_hours, urgency, first_raised_date,
  customer_name, segment, csm_owner, arr, arr_at_risk, health_score, classification, risk_tier, renewal_date, days_to_renewal,
  issue_summary, warning_signals, recommended_action,
  -- the playbooks' escalation template, placeholder by placeholder (playbooks.ts lists the placeholders)
  replace(replace(getvariable('escalation_subject'), '{brief_description}', brief), '{customer_name}', customer_name) AS subject,
  -- the company name (free text from the CRM) goes in last, so text in it is never taken for a placeholder
  replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(getvariable('escalation_body'),
    '{brief_description}', brief),
    '{segment}', segment),
    '{arr}', printf('%,.0f', arr)),
    '{health_score}', printf('%.1f', health_score)),
    '{classification}', classification),
    '{renewal_date}', CAST(renewal_date AS VARCHAR)),
    '{issue_summary}', issue_summary),
    '{warning_signals}', warning_signals),
    '{recommended_action}', recommended_action),
    '{urgency}', urgency),
    '{customer_name}', customer_name) AS body
FROM filled
ORDER BY CASE urgency WHEN 'critical' THEN 1 WHEN 'high' THEN 2 ELSE 3 END, response_hours, arr DESC, customer_id, matrix_row;
