/**
 * Allow-lists of the warehouse columns the static site may publish. Loaders select exactly
 * these (never `SELECT *`), so a PII column added to a mart later (e.g. `primary_contact_email`)
 * cannot leak into dist/ by accident.
 */
export const RISK_SCORE_COLUMNS = [
  "customer_id",
  "company_name",
  "industry",
  "company_size",
  "plan_tier",
  "csm_owner",
  "arr",
  "seats_purchased",
  "renewal_date",
  "days_to_renewal",
  "lifecycle_stage",
  "tenure_days",
  "events_last_30d",
  "high_priority_tickets_30d",
  "open_tickets",
  "integrations_first_30d",
  "health_score",
  "risk_score",
  "risk_tier",
  "health_colour",
  "low_events",
  "support_overload",
  "onboarding_at_risk",
  "payment_failing",
  "compliance_risk",
  "over_deployed",
  "over_deployed_users",
  "recommended_action",
  "top_risk_drivers",
  "arr_at_risk",
  // the churn model's columns (every build scores with a model)
  "churn_probability",
  "model_tier",
  "model_top_drivers",
  "expected_arr_loss_90d",
] as const;

/** The scored active customers as the site publishes them (risk_scores.arrows). */
export const RISK_SCORES_QUERY = `SELECT ${RISK_SCORE_COLUMNS.join(", ")} FROM marts.mart_customer_risk_scores ORDER BY customer_id`;

/** marts.mart_propensity_quadrant */
export const QUADRANT_COLUMNS = [
  "customer_id",
  "plan_tier",
  "industry",
  "arr",
  "health_risk",
  "health_quadrant",
  "churn_probability",
  "model_quadrant",
  "upgrade_propensity_proxy",
  "expected_arr_uplift_proxy",
  "was_contacted",
  "days_since_last_outreach",
] as const;

/** marts.mart_cta_queue: tonight's open CTAs, for the CSM queue page */
export const CTA_QUEUE_COLUMNS = [
  "cta_id",
  "customer_id",
  "company_name",
  "csm_owner",
  "cta_type",
  "reason_label",
  "detail",
  "playbook",
  "step",
  "priority",
  "priority_rank",
  "created_date",
  "due_date",
  "days_open",
  "overdue",
  "play_tier",
  "arr_at_risk",
  "days_to_renewal",
] as const;

/** Columns that must never appear in any site export. */
export const PII_COLUMNS = [
  "primary_contact_email",
  "primary_contact_name",
  "contact_email",
  "email",
  "phone",
] as const;

/** marts.mart_csm_worklist: each queued CTA's value per hour and lane, for the CSM queue page */
export const CSM_WORKLIST_COLUMNS = [
  "cta_id",
  "owner",
  "effort_hours",
  "effectiveness",
  "effectiveness_source",
  "expected_arr_saved",
  "value_per_hour",
  "rank_in_queue",
  "lane",
  "lane_reason",
] as const;

/** marts.mart_csm_capacity: each CSM's week and the rebalancing suggestion */
export const CSM_CAPACITY_COLUMNS = [
  "csm",
  "capacity_hours",
  "capacity_source",
  "ctas_open",
  "hours_open",
  "ctas_this_week",
  "hours_this_week",
  "ctas_next",
  "hours_next",
  "ctas_digest",
  "hours_digest",
  "overload_hours",
  "room_hours",
  "digest_max_value_per_hour",
  "move_out_hours",
  "rebalance_to",
  "receive_hours",
  "rebalance_from",
  "overload_after_hours",
] as const;
