/**
 * What the endpoints read from the warehouse, as typed objects. All queries are parameterised
 * and results of a snapshot are memoised (the file is read-only, so they cannot change).
 */
import {config, type RiskTier} from "../../src/components/config.ts";
import type {WarehouseSnapshot} from "./data.ts";

export interface CustomerProfile {
  customer_id: string;
  company_name: string;
  industry: string;
  company_size: string;
  plan_tier: string;
  csm_owner: string | null;
  arr: number;
  seats_purchased: number;
  renewal_date: string | null;
  days_to_renewal: number;
  lifecycle_stage: string;
  tenure_days: number;
}

export interface CustomerScores {
  churn_probability: number;
  model_tier: RiskTier;
  expected_arr_loss_90d: number;
  model_top_drivers: string[];
  health_score: number;
  risk_score: number;
  risk_tier: RiskTier;
  health_colour: string;
  arr_at_risk: number;
  top_risk_drivers: string[];
  rule_recommended_action: string;
}

export interface RiskFlags {
  low_events: boolean;
  support_overload: boolean;
  onboarding_at_risk: boolean;
}

export interface CustomerRecord {
  profile: CustomerProfile;
  scores: CustomerScores;
  risk_flags: RiskFlags;
  usage: {events_last_30d: number; high_priority_tickets_30d: number; open_tickets: number};
}

export interface Driver {
  rank: number;
  feature: string;
  value: string | null;
  contribution: number;
  direction: "raises_risk" | "lowers_risk";
}

export interface Ticket {
  ticket_id: string;
  opened_at: string;
  priority: string;
  category: string | null;
  subject: string | null;
}

export interface Opportunity {
  opportunity_id: string;
  opportunity_type: string;
  stage: string;
  amount: number;
  created_date: string | null;
  close_date: string | null;
  open: boolean;
}

export interface Quadrant {
  label: string;
  churn_probability: number;
  upgrade_propensity_proxy: number;
  basis: string;
  rule_based_label: string | null;
}

export interface Customer360 extends CustomerRecord {
  data_as_of: string;
  expansion: {
    upgrade_propensity_proxy: number;
    premium_feature_trials_30d: number;
    feature_limit_hits_30d: number;
    feature_request_tickets_90d: number;
    has_open_expansion_opp: boolean;
    mrr_tier_ceiling_pct: number;
  };
  is_flight_risk: boolean;
  quadrant: Quadrant;
  drivers: Driver[];
  recommended_action: string;
  open_tickets: Ticket[];
  opportunities: Opportunity[];
}

const splitList = (s: unknown): string[] =>
  typeof s === "string" && s.trim()
    ? s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)
    : [];

const num = (v: unknown): number => (typeof v === "number" ? v : v === null || v === undefined ? 0 : Number(v));

/** Seed 002's quadrant rule on (churn probability, expansion proxy), thresholds from config. */
export function quadrantOf(churn: number, expansion: number): string {
  const q = config.quadrant;
  if (churn >= q.highChurn && expansion >= q.highExpansion) return q.labels.flightRisk;
  if (churn < q.lowChurn && expansion >= q.highExpansion) return q.labels.growthEngine;
  if (churn >= q.highChurn && expansion < q.lowExpansion) return q.labels.churnCandidate;
  return q.labels.stableBase;
}

/** The recommended action of a risk tier (config.riskTiers). */
export function actionOfTier(tier: RiskTier): string {
  return config.riskTiers.find((t) => t.tier === tier)?.recommendedAction ?? config.riskTiers.at(-1)!.recommendedAction;
}

function toRecord(r: Record<string, unknown>): CustomerRecord {
  return {
    profile: {
      customer_id: String(r.customer_id),
      company_name: String(r.company_name ?? ""),
      industry: String(r.industry ?? ""),
      company_size: String(r.company_size ?? ""),
      plan_tier: String(r.plan_tier ?? ""),
      csm_owner: (r.csm_owner as string | null) ?? null,
      arr: num(r.arr),
      seats_purchased: num(r.seats_purchased),
      renewal_date: (r.renewal_date as string | null) ?? null,
      days_to_renewal: num(r.days_to_renewal),
      lifecycle_stage: String(r.lifecycle_stage ?? ""),
      tenure_days: num(r.tenure_days),
    },
    scores: {
      churn_probability: num(r.churn_probability),
      model_tier: r.model_tier as RiskTier,
      expected_arr_loss_90d: num(r.expected_arr_loss_90d),
      model_top_drivers: splitList(r.model_top_drivers),
      health_score: num(r.health_score),
      risk_score: num(r.risk_score),
      risk_tier: r.risk_tier as RiskTier,
      health_colour: String(r.health_colour ?? ""),
      arr_at_risk: num(r.arr_at_risk),
      top_risk_drivers: splitList(r.top_risk_drivers),
      rule_recommended_action: String(r.recommended_action ?? ""),
    },
    risk_flags: {low_events: r.low_events === true, support_overload: r.support_overload === true, onboarding_at_risk: r.onboarding_at_risk === true},
    usage: {events_last_30d: num(r.events_last_30d), high_priority_tickets_30d: num(r.high_priority_tickets_30d), open_tickets: num(r.open_tickets)},
  };
}

type ExpansionRow = Customer360["expansion"];

interface Index {
  customers: Map<string, CustomerRecord>;
  expansion: Map<string, ExpansionRow>;
  ruleQuadrant: Map<string, string>;
  drivers: Map<string, Driver[]>;
}

/**
 * The per-account marts (one or a few rows per account) held in memory for the snapshot's
 * lifetime: an account lookup is then a Map read instead of a DuckDB query (~ms each). Built
 * when a warehouse is opened, before it is swapped in.
 */
export function indexWarehouse(snap: WarehouseSnapshot): Promise<Index> {
  return snap.cached("index", async () => {
    const [scores, exp, quad, drv] = await Promise.all([
      snap.query("SELECT * FROM marts.mart_customer_risk_scores"),
      snap.query("SELECT * FROM marts.mart_customer_expansion_features"),
      snap.query<{customer_id: string; quadrant_label: string}>("SELECT customer_id, quadrant_label FROM marts.mart_propensity_quadrant"),
      snap.query<{customer_id: string; rank: number; feature: string; feature_value: string | null; contribution: number}>(
        "SELECT customer_id, rank, feature, feature_value, contribution FROM marts.mart_customer_drivers ORDER BY customer_id, rank",
      ),
    ]);
    const customers = new Map<string, CustomerRecord>();
    for (const r of scores) customers.set(String(r.customer_id), toRecord(r));
    const expansion = new Map<string, ExpansionRow>();
    for (const e of exp)
      expansion.set(String(e.customer_id), {
        upgrade_propensity_proxy: num(e.upgrade_propensity_proxy),
        premium_feature_trials_30d: num(e.premium_feature_trials_30d),
        feature_limit_hits_30d: num(e.feature_limit_hits_30d),
        feature_request_tickets_90d: num(e.feature_request_tickets_90d),
        has_open_expansion_opp: num(e.has_open_expansion_opp) > 0,
        mrr_tier_ceiling_pct: num(e.mrr_tier_ceiling_pct),
      });
    const ruleQuadrant = new Map(quad.map((q) => [q.customer_id, q.quadrant_label]));
    const drivers = new Map<string, Driver[]>();
    for (const d of drv) {
      let list = drivers.get(d.customer_id);
      if (!list) drivers.set(d.customer_id, (list = []));
      list.push({rank: d.rank, feature: d.feature, value: d.feature_value, contribution: d.contribution, direction: d.contribution > 0 ? "raises_risk" : "lowers_risk"});
    }
    return {customers, expansion, ruleQuadrant, drivers};
  });
}

export async function loadCustomer(snap: WarehouseSnapshot, id: string): Promise<CustomerRecord | null> {
  return (await indexWarehouse(snap)).customers.get(id) ?? null;
}

export async function loadCustomer360(snap: WarehouseSnapshot, id: string): Promise<Customer360 | null> {
  const index = await indexWarehouse(snap);
  const base = index.customers.get(id);
  if (!base) return null;
  return snap.cached(`c360:${id}`, async () => {
    const asOf = snap.info.as_of;
    const [tickets, opps] = await Promise.all([
      snap.query<Ticket>(
        `SELECT ticket_id, CAST(opened_at AS VARCHAR) AS opened_at, priority, category, subject FROM raw.support_tickets
         WHERE customer_id = ? AND CAST(opened_at AS DATE) <= CAST(? AS DATE) AND (resolved_at IS NULL OR CAST(resolved_at AS DATE) > CAST(? AS DATE))
         ORDER BY opened_at DESC, ticket_id LIMIT 50`,
        [id, asOf, asOf],
      ),
      snap.query<Omit<Opportunity, "open">>(
        `SELECT opportunity_id, opportunity_type, stage, amount, CAST(created_date AS VARCHAR) AS created_date, CAST(close_date AS VARCHAR) AS close_date
         FROM raw.gtm_opportunities WHERE customer_id = ? AND (created_date IS NULL OR created_date <= CAST(? AS DATE))
         ORDER BY created_date DESC NULLS LAST, opportunity_id LIMIT 20`,
        [id, asOf],
      ),
    ]);
    const expansion = index.expansion.get(id) ?? {upgrade_propensity_proxy: 0, premium_feature_trials_30d: 0, feature_limit_hits_30d: 0, feature_request_tickets_90d: 0, has_open_expansion_opp: false, mrr_tier_ceiling_pct: 0};
    const p = base.scores.churn_probability;
    const label = quadrantOf(p, expansion.upgrade_propensity_proxy);
    return {
      ...base,
      data_as_of: asOf,
      expansion,
      is_flight_risk: label === config.quadrant.labels.flightRisk,
      quadrant: {
        label,
        churn_probability: p,
        upgrade_propensity_proxy: expansion.upgrade_propensity_proxy,
        basis: "seed 002 quadrant rule on the model's calibrated P(churn in 90 days) and the rule-based expansion proxy",
        rule_based_label: index.ruleQuadrant.get(id) ?? null,
      },
      drivers: index.drivers.get(id) ?? [],
      recommended_action: actionOfTier(base.scores.model_tier),
      open_tickets: tickets,
      opportunities: opps.map((o) => ({...o, amount: num(o.amount), open: !/^closed/i.test(o.stage)})),
    };
  });
}

/** Version of the model that scored the warehouse (marts.model_card), memoised per snapshot. */
export async function warehouseModelVersion(snap: WarehouseSnapshot): Promise<string | null> {
  return snap.cached("model_version", async () => {
    try {
      const rows = await snap.query<{version: string}>("SELECT version FROM marts.model_card");
      return rows[0]?.version ?? null;
    } catch {
      return null;
    }
  });
}
