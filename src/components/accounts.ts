/**
 * One active account as src/data/risk_scores.parquet publishes it (marts.mart_customer_risk_scores,
 * allow-listed columns, plus the churn model's columns — null without a model). Pages load it
 * with `loadRows<Account>(FileAttachment("data/risk_scores.parquet"))` (rows.ts).
 */
import type { RiskTier } from "./config.js";

export interface Account {
  customer_id: string;
  company_name: string;
  industry: string;
  company_size: string;
  plan_tier: string;
  csm_owner: string;
  arr: number;
  seats_purchased: number;
  renewal_date: Date;
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
  health_colour: string;
  low_events: boolean;
  support_overload: boolean;
  onboarding_at_risk: boolean;
  recommended_action: string;
  top_risk_drivers: string;
  arr_at_risk: number;
  churn_probability: number | null;
  model_tier: RiskTier | null;
  model_top_drivers: string | null;
}

/** True when the build scored accounts with the churn model. */
export const hasModel = (rows: readonly Account[]): boolean => rows.some((r) => r.churn_probability !== null);

/** Expected churned ARR over 90 days: P(churn) × ARR, or the health score's ARR at risk without a model. */
export const expectedLoss = (r: Account): number => (r.churn_probability === null ? r.arr_at_risk : r.churn_probability * r.arr);

/**
 * A repeatable sample of at most `limit` rows (every k-th row of a fixed pseudo-random order),
 * so scatter plots stay fast at 100,000 accounts and do not change between visits.
 */
export function sample<T>(rows: readonly T[], limit: number, seed = 42): T[] {
  if (rows.length <= limit) return [...rows];
  let s = seed >>> 0;
  const keyed = rows.map((r) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return { r, k: s };
  });
  return keyed.sort((a, b) => a.k - b.k).slice(0, limit).map((x) => x.r);
}
