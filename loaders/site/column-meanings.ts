/**
 * What every published column means, in a CS team's words: the data dictionary page shows these
 * next to each table's columns (SITE_TABLES in site-tables.ts), and a test fails when a published
 * column has none.
 *
 * A column name means the same in every table it appears in, so it is written once here;
 * `"<table>.<column>"` keys say what differs in one table (a column that is an aggregate there).
 */
export const COLUMN_MEANINGS: Readonly<Record<string, string>> = {
  customer_id: "The account's id in the source CRM (stable across builds).",

  // ── the account (risk_scores, quadrant, cta_queue) ──
  company_name: "The account's company name as the CRM spells it.",
  industry: "The account's industry, as recorded in the CRM.",
  company_size: "The account's size band by employees (e.g. '51-200'), as recorded in the CRM.",
  plan_tier: "The subscription plan the account is on, in the installation's own plan names.",
  csm_owner: "The Customer Success Manager (CSM) who owns the account in the CRM.",
  arr: "Annual recurring revenue of the account's subscription, in USD.",
  seats_purchased: "Seats (licences) the subscription pays for.",
  renewal_date: "The date the current contract renews.",
  days_to_renewal: "Days from the data's as-of date to the renewal date (0 = renews today).",
  lifecycle_stage:
    "Where the account is in its life with you (e.g. Onboarding, Adoption, Mature, Renewal): the CRM's stage when the vocabulary knows it, else derived from tenure.",
  tenure_days: "Days since the account signed up.",
  events_last_30d:
    "Product engagement events in the last 30 days (the usage signals config.engagementSignals counts as engagement).",
  high_priority_tickets_30d: "Support tickets of high or urgent priority opened in the last 30 days.",
  open_tickets: "Support tickets open on the as-of date.",
  integrations_first_30d: "Integrations the account connected in its first 30 days (the activation gate).",

  // ── the health score (rule-based, transparent) ──
  health_score:
    "Rule-based health score, 0–100, higher is healthier: a weighted sum of the health components (usage, support, payments, renewal …) configured in src/rules/config.ts.",
  risk_score: "100 − health score: 0–100, higher is riskier. The risk tier bands and ARR at risk are read from it.",
  risk_tier:
    "The health score's risk band: Low, Medium, High or Critical, by the risk-score thresholds in the configuration (cfg.risk_tiers).",
  health_colour: "The risk tier as a traffic light: Green (Low), Yellow (Medium), Red (High and Critical).",
  low_events: "Flag: fewer product events in the last 30 days than the configured low-usage threshold.",
  support_overload: "Flag: at least the configured number of high-priority tickets in the last 30 days.",
  onboarding_at_risk:
    "Flag: still in the onboarding window and fewer integrations connected in the first 30 days than the activation gate asks for.",
  payment_failing: "Flag: at least the configured number of failed payments in the last 90 days.",
  compliance_risk:
    "Flag: the last security review found a compliance gap or vendor-risk findings above the configured limits.",
  over_deployed: "Flag: more people used the product than the licence covers (over_deployed_users > 0).",
  over_deployed_users:
    "People active in the last 30 days beyond the seats purchased (peak active users − seats): a licence-compliance issue and seats to sell.",
  recommended_action:
    "What the risk tier asks the CSM to do (e.g. 'HIGH RISK — outreach within 48 hours'), from the configuration.",
  top_risk_drivers:
    "The health components that cost the account the most points, most first, comma-separated (component ids, e.g. usage_level, nps).",
  arr_at_risk:
    "ARR × risk score ÷ 100, in USD: the rule-based exposure (an account at risk score 60 with $10,000 ARR has $6,000 at risk).",

  // ── the churn model ──
  churn_probability:
    "The churn model's calibrated probability that the account churns within 90 days, 0–1 (0.12 = 12%).",
  model_tier:
    "The churn probability's band: Low, Medium, High or Critical, by the probability thresholds in the configuration (cfg.model_tiers).",
  model_top_drivers:
    "The features pushing the model's churn probability up the most for this account (TreeSHAP), most first, comma-separated feature names.",
  expected_arr_loss_90d:
    "ARR × churn probability, in USD: the ARR the model expects to lose from the account in the next 90 days.",

  // ── quadrant ──
  health_risk: "The health score's risk as a share, 0–1 (risk score ÷ 100): the churn axis of health_quadrant.",
  health_quadrant:
    "The account's quadrant with the health score's risk as the churn axis: Flight Risk (high churn, high expansion), Growth Engine (low churn, high expansion), Churn Candidate (high churn, low expansion) or Stable Base.",
  model_quadrant:
    "The same quadrant with the churn model's probability as the churn axis (the API's is_flight_risk is this quadrant).",
  upgrade_propensity_proxy:
    "Expansion propensity, 0–1: a weighted score of expansion signals (premium feature trials, plan-limit hits, feature requests, an open expansion opportunity, ARR near the plan's ceiling; config.expansion). A proxy, not a trained model.",
  expected_arr_uplift_proxy:
    "ARR × upgrade propensity × the configured expected uplift share, in USD: the expansion ARR the proxy suggests.",
  expansion_probability:
    "The expansion model's calibrated probability that the account expands (a won expansion opportunity or an upgrade) in the next 90 days, 0–1.",
  expected_expansion_arr:
    "Expansion probability × the ARR an expansion of this plan tier added in the model's training history, as a share of ARR × the account's ARR, in USD.",
  health_quadrant_by_expansion_model:
    "The account's quadrant with the health score's risk as the churn axis and the expansion model's probability as the expansion axis.",
  model_quadrant_by_expansion_model:
    "The account's quadrant with the churn model's probability and the expansion model's probability as the two axes.",
  was_contacted: "Whether CS touched the account within the configured number of days (config.quadrant).",
  days_since_last_outreach:
    "Days since the last CS touch logged in the outreach data; empty when there is none on record.",

  // ── calls to action (CTAs): cta_queue, csm_worklist ──
  cta_id: "The call to action's id (stable while the CTA is open; joins cta_queue to csm_worklist).",
  cta_type: "What raised the CTA: risk, renewal, onboarding, engagement or support.",
  reason_label: "Why the CTA was raised, in words (e.g. 'Renewal in 30 days or less').",
  detail:
    "The facts behind the CTA on the night it was raised or last refreshed (e.g. 'Renews on 2026-12-31 (in 25 days)').",
  playbook: "The name of the playbook (the CS team's standard play) the CTA follows.",
  step: "The playbook step to work on now: a fixed step for rule CTAs, the step reached by the CTA's age for risk plays.",
  priority: "The CTA's priority: critical, high, medium or low (the play tier's priority).",
  priority_rank: "The priority as a number for sorting: 1 = critical … 4 = low.",
  created_date: "The date the CTA was raised.",
  due_date:
    "The date the CTA is due: fixed when it was raised (raise date + the priority's response time, or the renewal stage's deadline).",
  days_open: "Days since the CTA was raised.",
  overdue: "Whether the due date is before the data's as-of date.",
  play_tier:
    "The tier the play runs at: the more severe of the account's health risk tier and churn model tier when the CTA was raised (Low, Medium, High, Critical).",
  owner: "The CSM who works the CTA: its assignee, else the account's CSM.",
  effort_hours: "Hours of CSM time the CTA's playbook takes (config.capacity).",
  effectiveness:
    "Share of expected churn the playbook prevents, 0–1, as used for this CTA: measured (playbook_effectiveness) once there is enough data, else the configured assumption; a measured effect below zero counts as 0.",
  effectiveness_source:
    "Where the effectiveness comes from: 'measured' (worked against held-out CTAs, playbook_effectiveness) or 'config' (the configured assumption, until there is enough data).",
  expected_arr_saved:
    "Churn probability × ARR × effectiveness, in USD: the ARR working this CTA is expected to keep. Per CTA: an account with two CTAs counts its ARR in each, so do not sum across CTAs.",
  value_per_hour: "Expected ARR saved ÷ effort hours, in USD per hour of CSM time: how the owner's queue is ranked.",
  rank_in_queue: "The CTA's place in its owner's queue, by value per hour (1 = work first).",
  lane: "Where the CTA goes in the owner's week: 'this_week' (fits the week's hours), 'next' (kept, but does not fit this week) or 'digest' (will not be reached: grouped into a weekly digest instead).",
  lane_reason:
    "Why the CTA is in its lane: fits; critical or in_progress (never digested); within_horizon or outvalues_kept (kept for next week); beyond_horizon or below_value_floor (digested).",

  // ── CSM capacity (csm_capacity) ──
  csm: "The CSM the row is about.",
  capacity_hours: "Hours a week the CSM has for CTAs.",
  capacity_source:
    "Where capacity_hours comes from: 'override' (set for this CSM in the app), 'config' (config.capacity.perCsm) or 'default' (config.capacity.defaultHoursPerWeek).",
  hours_open: "Hours of effort of all the CSM's open CTAs.",
  ctas_this_week: "The CSM's CTAs in the 'this_week' lane.",
  hours_this_week: "Hours of effort of the CSM's 'this_week' CTAs (never more than capacity_hours).",
  ctas_next: "The CSM's CTAs in the 'next' lane (kept, but beyond this week).",
  hours_next: "Hours of effort of the CSM's 'next' CTAs.",
  ctas_digest: "The CSM's CTAs in the 'digest' lane (not worked one by one).",
  hours_digest: "Hours of effort the digested CTAs would have taken.",
  overload_hours: "Hours of kept CTAs ('this_week' + 'next') beyond the CSM's weekly capacity (0 = no overload).",
  room_hours:
    "For a CSM without overload: hours of the week not held by CTAs that must stay (Critical or in progress) — room to take another CSM's overflow.",
  digest_max_value_per_hour:
    "The highest value per hour (USD) among the CSM's digested CTAs; empty when none is digested.",
  move_out_hours: "Hours of this CSM's overflow the rebalancing suggests handing to other CSMs.",
  rebalance_to: "The suggested receivers of this CSM's overflow: a list of {csm, hours}, most hours first.",
  receive_hours: "Hours of other CSMs' overflow the rebalancing suggests this CSM takes.",
  rebalance_from: "The CSMs whose overflow this CSM is offered: a list of {csm, hours}, most hours first.",
  overload_after_hours: "Overload left after the suggested rebalancing (the team has no more room).",

  // ── how the team works its CTAs (cta_performance) ──
  "cta_performance.owner":
    "The CSM who works the CTAs (assignee, else the account's CSM), or 'all' for the team's row.",
  playbook_id: "The playbook's id (stable; the playbook column is its name).",
  ctas_raised: "CTAs raised in the reporting window (window_days), held-out CTAs not counted.",
  ctas_worked: "Of those, CTAs a person acted on (started, noted, snoozed, done …).",
  ctas_done: "Of those, CTAs marked done.",
  ctas_dismissed: "Of those, CTAs dismissed.",
  ctas_open: "The CSM's open CTAs in tonight's queue.",
  "cta_performance.ctas_open": "Of the CTAs raised in the window, those still open, in progress or snoozed.",
  ctas_overdue: "Of those, CTAs open or in progress past their due date.",
  worked_rate: "ctas_worked ÷ ctas_raised, 0–1 (0.8 = 80%).",
  completion_rate: "ctas_done ÷ ctas_raised, 0–1.",
  median_days_to_first_action: "Median days from a CTA being raised to the first action on it (worked CTAs only).",
  window_days: "The reporting window, in days before the as-of date (config.ctaWork.reportWindowDays).",

  // ── measured playbook effectiveness (playbook_effectiveness) ──
  "playbook_effectiveness.playbook_id": "The playbook's id, or 'all' for every playbook together.",
  "playbook_effectiveness.playbook": "The playbook's name ('All playbooks' for the 'all' row).",
  "playbook_effectiveness.play_tier":
    "The play tier the row measures (Low, Medium, High, Critical), or 'all' for every tier together.",
  holdout_share:
    "Share of the playbook's CTAs held out at random when raised (never shown to anyone), 0–1: the control group.",
  ctas_matured: "CTAs whose churn horizon has passed, so their outcome (churned or not) is known.",
  n_worked: "Matured CTAs a CSM worked (compared tiers only).",
  n_holdout: "Matured CTAs held out (compared tiers only).",
  churn_rate_worked: "Share of worked CTAs whose account churned within the horizon, 0–1.",
  churn_rate_holdout: "Share of held-out CTAs whose account churned within the horizon, 0–1.",
  churn_reduction:
    "churn_rate_holdout − churn_rate_worked, a difference of shares (0.05 = 5 percentage points): the share of accounts a worked CTA keeps (positive = the play helps).",
  churn_reduction_lo: "Lower end of churn_reduction's interval (at interval_level).",
  churn_reduction_hi: "Upper end of churn_reduction's interval (at interval_level).",
  "playbook_effectiveness.effectiveness":
    "1 − churn_rate_worked ÷ churn_rate_holdout: the share of expected churn the play prevents — what the Uplift Simulator and the CSM queue multiply by.",
  effectiveness_lo: "Lower end of effectiveness's interval (at interval_level).",
  effectiveness_hi: "Upper end of effectiveness's interval (at interval_level).",
  itt_churn_reduction:
    "Churn rate of held-out CTAs − churn rate of all CTAs not held out (worked or not): the effect of raising the CTA as the team works them (intention to treat).",
  itt_churn_reduction_lo: "Lower end of itt_churn_reduction's interval (at interval_level).",
  itt_churn_reduction_hi: "Upper end of itt_churn_reduction's interval (at interval_level).",
  arr_retention_worked:
    "Worked CTAs' average ARR at the horizon's end ÷ ARR when raised (0 when churned), 0–1 or above with expansion.",
  arr_retention_holdout: "The same for held-out CTAs.",
  interval_level: "Confidence level of the intervals, 0–1 (0.9 = 90% intervals).",
  enough_data:
    "Whether both arms have the configured minimum of matured CTAs: until then, read the figures as not yet measured.",
  note: "How far along the measurement is, in words (e.g. 'not enough data yet: 12 of 30 held-out CTAs …').",

  // cohort_retention and churn_events
  // ── cohort retention (cohort_retention): one row per signup quarter and quarter end since ──
  cohort_quarter: "First day of the quarter the cohort's accounts signed up in.",
  cohort: "The signup quarter as a label, e.g. '2025 Q3'.",
  full_history:
    "Whether the churn record covers the cohort from its signup on: false for cohorts that signed up before the first recorded churn, which list only the accounts that stayed until then (their retention is overstated).",
  quarters_since_signup:
    "Quarter ends since the signup quarter: 0 = the end of the signup quarter, 4 = a year later (12–15 months after signup).",
  quarter_end: "The quarter end the row measures (on or before the as-of date).",
  logos_start: "Accounts that signed up in the cohort's quarter (as the warehouse lists them).",
  logos_retained: "Of those, accounts still active at the quarter end (signed up and not churned by then).",
  arr_start: "The cohort's ARR at signup, in USD: each account's ARR rolled back through all its subscription changes.",
  arr_retained:
    "The cohort's ARR at the quarter end, in USD (0 for accounts that churned): net retention is arr_retained ÷ arr_start, expansion included.",
  arr_retained_gross:
    "The same with each account counted at most at its signup ARR, in USD: gross retention is arr_retained_gross ÷ arr_start (expansion does not offset losses).",
  // ── churned accounts (churn_events): one row per account that churned ──
  "churn_events.plan_tier": "The plan the account was on when it churned, in the installation's own plan names.",
  "churn_events.csm_owner": "The CSM who owned the account in the CRM.",
  signup_date: "The day the account signed up.",
  churn_date: "The day the account churned (its subscription ended).",
  "churn_events.tenure_days": "Days from signup to churn.",
  tenure_months: "Whole months from signup to churn (0 = left within its first month).",
  reason:
    "The reason the account gave for leaving, in the installation's own words; 'not recorded' when none was captured.",
  reason_order:
    "Sort order of the reason: the vocabulary's order of churn reasons, unknown reasons after, 'not recorded' last.",
  arr_lost: "ARR the account had when it churned, in USD.",
  days_to_renewal_at_churn:
    "Days from the churn date to the contract's next renewal date: 0 = it did not renew; more = it cancelled mid-term (monthly plans leave at a month end).",
};

/** The meaning of `column` in `table`, or undefined when none is written. */
export function columnMeaning(table: string, column: string): string | undefined {
  return COLUMN_MEANINGS[`${table}.${column}`] ?? COLUMN_MEANINGS[column];
}
