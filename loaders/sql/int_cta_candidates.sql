-- Tonight's CTA triggers: one row per account + CTA type + reason that fires at the as-of date,
-- with the priority, the due date it would get if raised today and the facts behind it.
-- Which triggers raise CTAs, and which playbook step they point to, is cfg.cta_rules
-- (src/rules/playbooks.ts → ctaRules). loaders/cta.ts merges these rows with the
-- previous build's CTAs (mart_cta_history.sql).
CREATE OR REPLACE TEMP TABLE int_cta_candidates AS
WITH accounts AS (
  SELECT s.*,
    -- The tier that drives the plays: the more severe of the health-score tier and the churn
    -- model's tier (the dashboards' actionTier in src/rules/dashboard-math.ts, the same rule)
    (SELECT t.tier FROM cfg.risk_tiers t WHERE t.tier IN (s.risk_tier, s.model_tier) ORDER BY t.min_score DESC LIMIT 1) AS play_tier
  FROM marts.mart_customer_risk_scores s
),
stages AS (
  -- the renewal stage an account is in: the smallest stage (days before renewal) not yet passed,
  -- and the stage after it, whose start is this stage's deadline
  SELECT customer_id,
    list_min(list_filter(getvariable('renewal_stages_days'), d -> d >= days_to_renewal)) AS stage_days,
    coalesce(list_max(list_filter(getvariable('renewal_stages_days'), d -> d < days_to_renewal)), 0) AS next_stage_days
  FROM accounts WHERE days_to_renewal <= list_max(getvariable('renewal_stages_days'))
),
fired AS (
  SELECT customer_id, 'risk_tier_' || lower(play_tier) AS reason,
         -- the drivers in words (int_labels.sql): what costs the most health points, what raises the model's risk
         printf('Health: %s risk (score %.1f); churn model: %s (P(churn) %.0f%%)%s%s', risk_tier, risk_score, model_tier, 100 * churn_probability,
                coalesce('; costing the most health points: ' || marts.component_labels(top_risk_drivers), ''),
                coalesce('; raising the model''s risk: ' || marts.feature_labels(model_top_drivers), '')) AS detail,
         NULL::DATE AS stage_deadline
  FROM accounts
  UNION ALL
  SELECT customer_id, 'onboarding_at_risk',
         printf('%d of %d integrations connected in the first 30 days; day %d of onboarding', integrations_first_30d, getvariable('activation_gate_integrations'), tenure_days),
         NULL
  FROM accounts WHERE onboarding_at_risk
  UNION ALL
  SELECT customer_id, 'support_overload', printf('%d high/urgent tickets in the last 30 days, %d open', high_priority_tickets_30d, open_tickets), NULL
  FROM accounts WHERE support_overload
  UNION ALL
  SELECT customer_id, 'low_events', printf('%d engagement events in the last 30 days (threshold %d)', events_last_30d, getvariable('low_events_threshold')), NULL
  FROM accounts WHERE low_events
  UNION ALL
  SELECT a.customer_id, 'renewal_' || st.stage_days || 'd', printf('Renews on %s (in %d days)', a.renewal_date, a.days_to_renewal),
         CAST(a.renewal_date - st.next_stage_days AS DATE)
  FROM accounts a JOIN stages st USING (customer_id)
  UNION ALL
  -- just renewed (the anniversary passed less than post_renewal_days ago, and it was a real renewal)
  SELECT customer_id, 'renewal_post', printf('Renewed on %s', CAST(renewal_date - 365 AS DATE)),
         CAST(renewal_date - 365 + getvariable('post_renewal_days') AS DATE)
  FROM accounts WHERE days_to_renewal > 0 AND 365 - days_to_renewal <= getvariable('post_renewal_days') AND tenure_days >= 365 - days_to_renewal
)
SELECT
  a.customer_id, a.company_name, a.csm_owner,
  r.cta_type, f.reason, r.reason_label, r.playbook_id, r.step_id,
  -- the rule's minimum priority, raised by the account's own tier (a Critical account's CTAs are critical)
  pr.priority, pr.priority_rank, pr.due_hours, f.stage_deadline,
  f.detail,
  a.play_tier, a.plan_tier AS segment, a.health_score, a.risk_score, a.arr, a.arr_at_risk, a.renewal_date, a.days_to_renewal
FROM fired f
JOIN cfg.cta_rules r USING (reason)  -- only reasons with a rule raise a CTA (e.g. risk tiers Critical and High)
JOIN accounts a USING (customer_id)
JOIN cfg.priorities rule_pr ON rule_pr.priority = r.min_priority
JOIN cfg.priorities tier_pr ON tier_pr.tier = a.play_tier
JOIN cfg.priorities pr ON pr.priority_rank = least(rule_pr.priority_rank, tier_pr.priority_rank);
