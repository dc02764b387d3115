/**
 * The allow-list of facts an AI summary may use, read from the warehouse for one account.
 *
 * Only aggregate, non-identifying values are copied into `AccountFacts` (segment, money rounded
 * to whole units, scores, counts, driver names, quadrant, action text). The account appears as an
 * opaque token (HMAC of the customer id). Identifying values (company name, contact email, CSM
 * name, customer id) are kept apart in `PrivateValues`, only to scan prompts and answers for
 * leaks. Customer-written text (open ticket subjects) is sanitised and kept apart as untrusted.
 */
import {createHmac, randomBytes} from "node:crypto";
import {config, type RiskTier} from "../../../src/rules/config.ts";
import type {WarehouseSnapshot} from "../data.ts";
import {sanitizeFreeText} from "./pii.ts";
import {loadCustomer360, type Customer360} from "../queries.ts";

export interface AccountFacts {
  account_token: string;
  data_as_of: string;
  plan_tier: string;
  industry: string;
  company_size: string;
  lifecycle_stage: string;
  arr: number;
  tenure_days: number;
  days_to_renewal: number;
  churn_probability_pct: number;
  model_tier: RiskTier;
  expected_arr_loss_90d: number;
  health_score: number;
  rule_risk_score: number;
  rule_risk_tier: string;
  upgrade_propensity_pct: number;
  quadrant: string;
  is_flight_risk: boolean;
  events_last_30d: number;
  high_priority_tickets_30d: number;
  open_tickets: number;
  active_risk_flags: string[];
  model_risk_drivers: string[];
  model_protective_drivers: string[];
  health_score_drivers: string[];
  recommended_action: string;
  open_ticket_categories: Record<string, number>;
  open_opportunities: {type: string; stage: string; amount: number}[];
}

export interface PrivateValues {
  customer_id: string;
  company_name: string | null;
  primary_contact_email: string | null;
  csm_owner: string | null;
}

export interface FactSheet {
  facts: AccountFacts;
  /** sanitised open ticket subjects (customer-written, untrusted) */
  untrusted: string[];
  /** how many free-text items were redacted or removed, by kind */
  redactions: Record<string, number>;
  private: PrivateValues;
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/** Opaque, stable-per-secret account token: never reversible to the customer id. */
export function accountTokenFactory(secret: string | null) {
  const key = secret ?? randomBytes(32).toString("hex");
  return (customerId: string) => `acct_${createHmac("sha256", key).update(customerId).digest("hex").slice(0, 12)}`;
}

export function factsFrom360(v: Customer360, token: string, priv: PrivateValues): FactSheet {
  const s = v.scores;
  const redactions: Record<string, number> = {};
  const untrusted: string[] = [];
  for (const t of v.open_tickets.slice(0, 5)) {
    const r = sanitizeFreeText(t.subject ?? "");
    for (const k of r.redacted) redactions[k] = (redactions[k] ?? 0) + 1;
    untrusted.push(r.text);
  }
  const categories: Record<string, number> = {};
  for (const t of v.open_tickets) categories[t.category ?? "other"] = (categories[t.category ?? "other"] ?? 0) + 1;
  const flags = Object.entries(v.risk_flags)
    .filter(([, on]) => on)
    .map(([k]) => k);
  const facts: AccountFacts = {
    account_token: token,
    data_as_of: v.data_as_of,
    plan_tier: v.profile.plan_tier,
    industry: v.profile.industry,
    company_size: v.profile.company_size,
    lifecycle_stage: v.profile.lifecycle_stage,
    arr: Math.round(v.profile.arr),
    tenure_days: v.profile.tenure_days,
    days_to_renewal: v.profile.days_to_renewal,
    churn_probability_pct: round(s.churn_probability * 100, 1),
    model_tier: s.model_tier,
    expected_arr_loss_90d: Math.round(s.expected_arr_loss_90d),
    health_score: round(s.health_score, 1),
    rule_risk_score: round(s.risk_score, 1),
    rule_risk_tier: s.risk_tier,
    upgrade_propensity_pct: round(v.expansion.upgrade_propensity_proxy * 100, 1),
    // the model quadrant: summaries talk about the model's probability, like is_flight_risk
    quadrant: v.quadrant.model_quadrant,
    is_flight_risk: v.is_flight_risk,
    events_last_30d: v.usage.events_last_30d,
    high_priority_tickets_30d: v.usage.high_priority_tickets_30d,
    open_tickets: v.open_tickets.length,
    active_risk_flags: flags,
    model_risk_drivers: v.drivers
      .filter((d) => d.contribution > 0)
      .slice(0, 3)
      .map((d) => d.feature),
    model_protective_drivers: v.drivers
      .filter((d) => d.contribution < 0)
      .slice(0, 2)
      .map((d) => d.feature),
    health_score_drivers: v.scores.top_risk_drivers,
    recommended_action: v.recommended_action,
    open_ticket_categories: categories,
    open_opportunities: v.opportunities
      .filter((o) => o.open)
      .slice(0, 5)
      .map((o) => ({type: o.opportunity_type, stage: o.stage, amount: Math.round(o.amount)})),
  };
  return {facts, untrusted, redactions, private: priv};
}

export async function loadFactSheet(
  snap: WarehouseSnapshot,
  customerId: string,
  token: string,
): Promise<FactSheet | null> {
  const v = await loadCustomer360(snap, customerId);
  if (!v) return null;
  const rows = await snap.query<PrivateValues>(
    "SELECT customer_id, company_name, primary_contact_email, csm_owner FROM raw.customers WHERE customer_id = ?",
    [customerId],
  );
  const priv: PrivateValues = rows[0] ?? {
    customer_id: customerId,
    company_name: null,
    primary_contact_email: null,
    csm_owner: null,
  };
  return factsFrom360(v, token, priv);
}

export const WATERMARK = config.governance.watermark;
