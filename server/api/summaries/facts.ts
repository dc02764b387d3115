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
import {describeFeature, healthComponentLabel, riskFlagLabel} from "../../../src/rules/labels.ts";
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
  /** YYYY-MM-DD, or null when no renewal is on record */
  renewal_date: string | null;
  /** the model's score about a month before (the history point nearest `changeLookbackDays` ago) */
  previous_score: {as_of: string; churn_probability_pct: number; health_score: number | null} | null;
  /** support in the last 30 and 90 days, and the last 30 days' tickets by category */
  tickets_30d: number;
  tickets_90d: number;
  ticket_groups_30d: Record<string, number>;
  /** the usage trend in words ("usage over the last 30 days at 62% of the monthly average before") */
  usage_trend: string;
  /** the account's calls to action still open (reason, playbook step, due date) */
  open_ctas: {reason: string; step: string; priority: string; due_date: string}[];
}

/** Each fact as a reader names it (answers cite facts by these labels, never by the key). */
export const FACT_LABELS: Readonly<Record<keyof AccountFacts, string>> = {
  account_token: "Account",
  data_as_of: "Data as of",
  plan_tier: "Plan",
  industry: "Industry",
  company_size: "Company size",
  lifecycle_stage: "Lifecycle stage",
  arr: "ARR",
  tenure_days: "Tenure",
  days_to_renewal: "Days to renewal",
  churn_probability_pct: "Churn probability (90 days)",
  model_tier: "Churn-model risk tier",
  expected_arr_loss_90d: "Expected ARR loss (90 days)",
  health_score: "Health score",
  rule_risk_score: "Health risk score",
  rule_risk_tier: "Health risk tier",
  upgrade_propensity_pct: "Expansion propensity",
  quadrant: "Propensity quadrant",
  is_flight_risk: "Flight risk",
  events_last_30d: "Product events (30 days)",
  high_priority_tickets_30d: "High-priority tickets (30 days)",
  open_tickets: "Open tickets",
  active_risk_flags: "Active risk flags",
  model_risk_drivers: "What raises the churn risk",
  model_protective_drivers: "What lowers the churn risk",
  health_score_drivers: "Weakest health components",
  recommended_action: "Recommended action",
  open_ticket_categories: "Open tickets by category",
  open_opportunities: "Open opportunities",
  renewal_date: "Renewal date",
  previous_score: "Score a month ago",
  tickets_30d: "Tickets opened (30 days)",
  tickets_90d: "Tickets opened (90 days)",
  ticket_groups_30d: "Tickets opened by kind (30 days)",
  usage_trend: "Usage trend",
  open_ctas: "Open calls to action",
};

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

/** What the 360 view does not hold: history, the last 30 days' support and the open CTAs. */
export interface AccountContext {
  previous_score: AccountFacts["previous_score"];
  tickets_30d: number;
  tickets_90d: number;
  ticket_groups_30d: Record<string, number>;
  usage_trend_ratio: number | null;
  open_ctas: AccountFacts["open_ctas"];
}

const NO_CONTEXT: AccountContext = {
  previous_score: null,
  tickets_30d: 0,
  tickets_90d: 0,
  ticket_groups_30d: {},
  usage_trend_ratio: null,
  open_ctas: [],
};

export function factsFrom360(
  v: Customer360,
  token: string,
  priv: PrivateValues,
  ctx: AccountContext = NO_CONTEXT,
): FactSheet {
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
    // drivers, flags and components in plain words (src/rules/labels.ts): the model repeats what
    // it reads, and a reader must never meet a column name
    active_risk_flags: flags.map(riskFlagLabel),
    model_risk_drivers: v.drivers
      .filter((d) => d.contribution > 0)
      .slice(0, 3)
      .map((d) => describeFeature(d.feature, d.value)),
    model_protective_drivers: v.drivers
      .filter((d) => d.contribution < 0)
      .slice(0, 2)
      .map((d) => describeFeature(d.feature, d.value)),
    health_score_drivers: v.scores.top_risk_drivers.map(healthComponentLabel),
    recommended_action: v.recommended_action,
    open_ticket_categories: categories,
    open_opportunities: v.opportunities
      .filter((o) => o.open)
      .slice(0, 5)
      .map((o) => ({type: o.opportunity_type, stage: o.stage, amount: Math.round(o.amount)})),
    renewal_date: v.profile.renewal_date,
    previous_score: ctx.previous_score,
    tickets_30d: ctx.tickets_30d,
    tickets_90d: ctx.tickets_90d,
    ticket_groups_30d: ctx.ticket_groups_30d,
    usage_trend: describeFeature("usage_trend_ratio", ctx.usage_trend_ratio),
    open_ctas: ctx.open_ctas,
  };
  return {facts, untrusted, redactions, private: priv};
}

/**
 * The account's history and recent activity, read with the warehouse's own definitions (the
 * score history marts, the feature mart, the raw tickets) as of the snapshot's date.
 */
async function loadContext(snap: WarehouseSnapshot, customerId: string): Promise<AccountContext> {
  const lookback = config.assistant.changeLookbackDays;
  const [prev] = await snap.query<{as_of: string; p: number; h: number | null}>(
    `SELECT strftime(c.as_of_date, '%Y-%m-%d') AS as_of, c.churn_probability AS p, h.health_score AS h
     FROM marts.mart_churn_score_history c
     LEFT JOIN marts.mart_health_score_history h USING (customer_id, as_of_date)
     WHERE c.customer_id = ? AND c.as_of_date <= CAST(? AS DATE) - ?::INTEGER
     ORDER BY c.as_of_date DESC LIMIT 1`,
    [customerId, snap.info.as_of, lookback],
  );
  const [feat] = await snap.query<{t30: number; t90: number; trend: number | null}>(
    `SELECT tickets_30d::DOUBLE AS t30, tickets_90d::DOUBLE AS t90, usage_trend_ratio::DOUBLE AS trend
     FROM marts.mart_customer_churn_features WHERE customer_id = ?`,
    [customerId],
  );
  const groups = await snap.query<{g: string; n: number}>(
    // by the team's own category names, as the open tickets are (the canonical groups are for rules)
    `SELECT coalesce(nullif(trim(category), ''), 'uncategorised') AS g, count(*)::DOUBLE AS n FROM raw.support_tickets
     WHERE customer_id = ? AND opened_at > CAST(? AS DATE) - INTERVAL 30 DAY AND opened_at <= CAST(? AS DATE) + INTERVAL 1 DAY
     GROUP BY ALL ORDER BY n DESC, g`,
    [customerId, snap.info.as_of, snap.info.as_of],
  );
  const ctas = await snap.query<{reason: string; step: string; priority: string; due_date: string}>(
    `SELECT reason_label AS reason, step, priority, strftime(due_date, '%Y-%m-%d') AS due_date
     FROM marts.mart_cta_queue WHERE customer_id = ? ORDER BY priority_rank, due_date LIMIT 5`,
    [customerId],
  );
  return {
    previous_score: prev
      ? {
          as_of: prev.as_of,
          churn_probability_pct: round(prev.p * 100, 1),
          health_score: prev.h === null ? null : round(prev.h, 1),
        }
      : null,
    tickets_30d: feat?.t30 ?? 0,
    tickets_90d: feat?.t90 ?? 0,
    ticket_groups_30d: Object.fromEntries(groups.map((r) => [r.g, r.n])),
    usage_trend_ratio: feat?.trend ?? null,
    open_ctas: ctas,
  };
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
  return factsFrom360(v, token, priv, await loadContext(snap, customerId));
}

export const WATERMARK = config.governance.watermark;
