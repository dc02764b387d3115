/**
 * One active account: the allow-listed columns of marts.mart_customer_risk_scores
 * (loaders/site/site-tables.ts → RISK_SCORE_COLUMNS). Pages read them two ways: as `Account`
 * rows of src/data/risk_scores.arrow (`loadRows<Account>(...)`, rows.ts; dates are `Date`s),
 * and inside Customer 360's JSON dossiers (customer360.ts → Dossier; dates stay ISO strings).
 */
import type {RiskTier} from "../rules/config.js";

/** The account columns both forms share; `D` is how a date arrives (Date from Parquet, string from JSON). */
export interface AccountColumns<D> {
  customer_id: string;
  company_name: string;
  industry: string;
  company_size: string;
  plan_tier: string;
  csm_owner: string;
  arr: number;
  seats_purchased: number;
  renewal_date: D;
  days_to_renewal: number;
  lifecycle_stage: string;
  tenure_days: number;
  events_last_30d: number;
  high_priority_tickets_30d: number;
  open_tickets: number;
  integrations_first_30d: number;
  health_score: number;
  risk_score: number;
  risk_tier: RiskTier;
  low_events: boolean;
  support_overload: boolean;
  payment_failing: boolean;
  compliance_risk: boolean;
  over_deployed: boolean;
  over_deployed_users: number;
  onboarding_at_risk: boolean;
  top_risk_drivers: string;
  arr_at_risk: number;
  churn_probability: number;
  model_tier: RiskTier;
  model_top_drivers: string;
}

/** A row of src/data/risk_scores.arrow. */
export interface Account extends AccountColumns<Date> {
  health_colour: string;
  recommended_action: string;
}

/** Expected churned ARR over 90 days: the model's calibrated P(churn) × ARR. */
export const expectedLoss = (r: Pick<Account, "churn_probability" | "arr">): number => r.churn_probability * r.arr;

/**
 * A repeatable sample of at most `limit` rows (every k-th row of a fixed pseudo-random order),
 * so scatter plots stay fast at 100,000 accounts and do not change between visits.
 */
export function sample<T>(rows: readonly T[], limit: number, seed = 42): T[] {
  if (rows.length <= limit) return [...rows];
  let s = seed >>> 0;
  const keyed = rows.map((r) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return {r, k: s};
  });
  return keyed
    .sort((a, b) => a.k - b.k)
    .slice(0, limit)
    .map((x) => x.r);
}
