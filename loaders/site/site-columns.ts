/**
 * Allow-lists of the warehouse columns the static site may publish. Loaders select exactly
 * these (never `SELECT *`), so a PII column added to a mart later (e.g. `primary_contact_email`)
 * cannot leak into dist/ by accident.
 */
export const RISK_SCORE_COLUMNS = [
  "customer_id", "company_name", "industry", "company_size", "plan_tier", "csm_owner",
  "arr", "seats_purchased", "renewal_date", "days_to_renewal", "lifecycle_stage", "events_last_30d",
  "health_score", "risk_score", "risk_tier", "health_colour",
  "low_events", "support_overload", "onboarding_at_risk",
  "recommended_action", "top_risk_drivers", "arr_at_risk",
] as const;

/** Columns that must never appear in any site export. */
export const PII_COLUMNS = ["primary_contact_email", "primary_contact_name", "contact_email", "email", "phone"] as const;
