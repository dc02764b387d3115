/**
 * What the endpoints read from the warehouse, as typed objects. All queries are parameterised
 * and results of a snapshot are memoised (the file is read-only, so they cannot change).
 *
 * The per-account marts (one or a few rows per account: a few MB for 5,000 accounts) are loaded
 * into memory once per snapshot, when the snapshot is opened and before it serves requests (the
 * `ReadModel`): `GET /customers/{id}` is then a Map read, with no DuckDB query, no result
 * conversion and no callback burst on the request path. Only the 360 view's ticket and
 * opportunity lists are queried per account (and memoised).
 */
import {config, type RiskTier} from "../../src/rules/config.ts";
import {TimeSlicer, type WarehouseSnapshot} from "./data.ts";
import {featureWords} from "../../src/rules/labels.ts";

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
  payment_failing: boolean;
  compliance_risk: boolean;
  over_deployed_users: number;
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
  /** the feature in words ("Days to renewal") and its value as a CSM says it ("renews in 27 days"): src/rules/labels.ts */
  label: string;
  description: string;
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

/** Both quadrants of marts.mart_propensity_quadrant (same thresholds, different churn axis). */
export interface Quadrant {
  model_quadrant: string;
  health_quadrant: string;
  churn_probability: number;
  health_risk: number;
  upgrade_propensity_proxy: number;
}

/** The expansion model's view of an account: P(expansion in 90 days), expected ARR, TreeSHAP drivers. */
export interface ExpansionModelView {
  probability: number;
  expected_expansion_arr: number;
  drivers: (Omit<Driver, "direction"> & {direction: "raises_expansion" | "lowers_expansion"})[];
}

export interface Customer360 extends CustomerRecord {
  data_as_of: string;
  expansion_model: ExpansionModelView | null;
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

/** The recommended action of a risk tier (config.riskTiers). */
export function actionOfTier(tier: RiskTier): string {
  return config.riskTiers.find((t) => t.tier === tier)?.recommendedAction ?? config.riskTiers.at(-1)!.recommendedAction;
}

type Columns = Record<string, unknown[]>;

function toRecord(c: Columns, i: number): CustomerRecord {
  const v = (name: string) => c[name]![i];
  return {
    profile: {
      customer_id: String(v("customer_id")),
      company_name: String(v("company_name") ?? ""),
      industry: String(v("industry") ?? ""),
      company_size: String(v("company_size") ?? ""),
      plan_tier: String(v("plan_tier") ?? ""),
      csm_owner: (v("csm_owner") as string | null) ?? null,
      arr: num(v("arr")),
      seats_purchased: num(v("seats_purchased")),
      renewal_date: (v("renewal_date") as string | null) ?? null,
      days_to_renewal: num(v("days_to_renewal")),
      lifecycle_stage: String(v("lifecycle_stage") ?? ""),
      tenure_days: num(v("tenure_days")),
    },
    scores: {
      churn_probability: num(v("churn_probability")),
      model_tier: v("model_tier") as RiskTier,
      expected_arr_loss_90d: num(v("expected_arr_loss_90d")),
      model_top_drivers: splitList(v("model_top_drivers")),
      health_score: num(v("health_score")),
      risk_score: num(v("risk_score")),
      risk_tier: v("risk_tier") as RiskTier,
      health_colour: String(v("health_colour") ?? ""),
      arr_at_risk: num(v("arr_at_risk")),
      top_risk_drivers: splitList(v("top_risk_drivers")),
      rule_recommended_action: String(v("recommended_action") ?? ""),
    },
    risk_flags: {
      low_events: v("low_events") === true,
      support_overload: v("support_overload") === true,
      onboarding_at_risk: v("onboarding_at_risk") === true,
      payment_failing: v("payment_failing") === true,
      compliance_risk: v("compliance_risk") === true,
      over_deployed_users: num(v("over_deployed_users")),
    },
    usage: {
      events_last_30d: num(v("events_last_30d")),
      high_priority_tickets_30d: num(v("high_priority_tickets_30d")),
      open_tickets: num(v("open_tickets")),
    },
  };
}

type ExpansionRow = Customer360["expansion"];

/** A snapshot's per-account marts in memory, keyed by customer id. */
export interface ReadModel {
  customers: Map<string, CustomerRecord>;
  expansion: Map<string, ExpansionRow>;
  quadrant: Map<string, {model_quadrant: string; health_quadrant: string; health_risk: number}>;
  drivers: Map<string, Driver[]>;
  /** version of the model that scored the warehouse (marts.model_card), null if it has none */
  modelVersion: string | null;
}

// Numbers are read as DOUBLE and dates as text whatever the build's column types: for integers,
// HUGEINTs and dates @duckdb/node-api makes a BigInt or a value object, several times slower to
// convert than a number or a string.
const RISK_SQL = `SELECT customer_id, company_name, industry, company_size, plan_tier, csm_owner, CAST(arr AS DOUBLE) AS arr,
  CAST(seats_purchased AS DOUBLE) AS seats_purchased, CAST(renewal_date AS VARCHAR) AS renewal_date, CAST(days_to_renewal AS DOUBLE) AS days_to_renewal,
  lifecycle_stage, CAST(tenure_days AS DOUBLE) AS tenure_days, CAST(churn_probability AS DOUBLE) AS churn_probability, model_tier,
  CAST(expected_arr_loss_90d AS DOUBLE) AS expected_arr_loss_90d, model_top_drivers, CAST(health_score AS DOUBLE) AS health_score,
  CAST(risk_score AS DOUBLE) AS risk_score, risk_tier, health_colour, CAST(arr_at_risk AS DOUBLE) AS arr_at_risk, top_risk_drivers, recommended_action,
  low_events, support_overload, onboarding_at_risk, payment_failing, compliance_risk, CAST(over_deployed_users AS DOUBLE) AS over_deployed_users, CAST(events_last_30d AS DOUBLE) AS events_last_30d,
  CAST(high_priority_tickets_30d AS DOUBLE) AS high_priority_tickets_30d, CAST(open_tickets AS DOUBLE) AS open_tickets
FROM marts.mart_customer_risk_scores`;
const EXPANSION_SQL = `SELECT customer_id, CAST(upgrade_propensity_proxy AS DOUBLE) AS upgrade_propensity_proxy, CAST(premium_feature_trials_30d AS DOUBLE) AS premium_feature_trials_30d,
  CAST(feature_limit_hits_30d AS DOUBLE) AS feature_limit_hits_30d, CAST(feature_request_tickets_90d AS DOUBLE) AS feature_request_tickets_90d,
  CAST(has_open_expansion_opp AS DOUBLE) AS has_open_expansion_opp, CAST(mrr_tier_ceiling_pct AS DOUBLE) AS mrr_tier_ceiling_pct
FROM marts.mart_customer_expansion_features`;
const QUADRANT_SQL =
  "SELECT customer_id, model_quadrant, health_quadrant, CAST(health_risk AS DOUBLE) AS health_risk FROM marts.mart_propensity_quadrant";
const DRIVERS_SQL =
  "SELECT customer_id, CAST(rank AS DOUBLE) AS rank, feature, feature_value, CAST(contribution AS DOUBLE) AS contribution FROM marts.mart_customer_drivers ORDER BY customer_id, rank";

async function buildReadModel(snap: WarehouseSnapshot): Promise<ReadModel> {
  // one table at a time: the reads share the event loop with requests, in short slices
  const risk = await snap.scan(RISK_SQL);
  const exp = await snap.scan(EXPANSION_SQL);
  const quad = await snap.scan(QUADRANT_SQL);
  const drv = await snap.scan(DRIVERS_SQL);
  let modelVersion: string | null;
  try {
    modelVersion = (await snap.query<{version: string}>("SELECT version FROM marts.model_card"))[0]?.version ?? null;
  } catch {
    modelVersion = null; // a warehouse without marts.model_card
  }

  const slicer = new TimeSlicer();
  const customers = new Map<string, CustomerRecord>();
  for (let i = 0; i < risk.customer_id!.length; i++) {
    customers.set(String(risk.customer_id![i]), toRecord(risk, i));
    if (i % 256 === 255) await slicer.tick();
  }
  const expansion = new Map<string, ExpansionRow>();
  for (let i = 0; i < exp.customer_id!.length; i++) {
    expansion.set(String(exp.customer_id![i]), {
      upgrade_propensity_proxy: num(exp.upgrade_propensity_proxy![i]),
      premium_feature_trials_30d: num(exp.premium_feature_trials_30d![i]),
      feature_limit_hits_30d: num(exp.feature_limit_hits_30d![i]),
      feature_request_tickets_90d: num(exp.feature_request_tickets_90d![i]),
      has_open_expansion_opp: num(exp.has_open_expansion_opp![i]) > 0,
      mrr_tier_ceiling_pct: num(exp.mrr_tier_ceiling_pct![i]),
    });
    if (i % 256 === 255) await slicer.tick();
  }
  const quadrant: ReadModel["quadrant"] = new Map();
  for (let i = 0; i < quad.customer_id!.length; i++)
    quadrant.set(quad.customer_id![i] as string, {
      model_quadrant: quad.model_quadrant![i] as string,
      health_quadrant: quad.health_quadrant![i] as string,
      health_risk: num(quad.health_risk![i]),
    });
  const drivers = new Map<string, Driver[]>();
  for (let i = 0; i < drv.customer_id!.length; i++) {
    const id = drv.customer_id![i] as string;
    const contribution = drv.contribution![i] as number;
    let list = drivers.get(id);
    if (!list) drivers.set(id, (list = []));
    const feature = drv.feature![i] as string;
    const value = drv.feature_value![i] as string | null;
    list.push({
      rank: drv.rank![i] as number,
      feature,
      ...featureWords(feature, value),
      value,
      contribution,
      direction: contribution > 0 ? "raises_risk" : "lowers_risk",
    });
    if (i % 256 === 255) await slicer.tick();
  }
  return {customers, expansion, quadrant, drivers, modelVersion};
}

/** Read models by snapshot: they live exactly as long as their snapshot (no eviction, no reload). */
const readModels = new WeakMap<WarehouseSnapshot, Promise<ReadModel>>();

/**
 * The snapshot's read model. The warehouse store calls this when it opens a snapshot, before
 * swapping it in, so requests find it ready; concurrent callers share one load.
 */
export function loadReadModel(snap: WarehouseSnapshot): Promise<ReadModel> {
  let p = readModels.get(snap);
  if (!p) {
    p = buildReadModel(snap);
    readModels.set(snap, p);
    p.catch(() => readModels.delete(snap));
  }
  return p;
}

export async function loadCustomer(snap: WarehouseSnapshot, id: string): Promise<CustomerRecord | null> {
  return (await loadReadModel(snap)).customers.get(id) ?? null;
}

export async function loadCustomer360(snap: WarehouseSnapshot, id: string): Promise<Customer360 | null> {
  const index = await loadReadModel(snap);
  const base = index.customers.get(id);
  if (!base) return null;
  return snap.cached(`c360:${id}`, async () => {
    const asOf = snap.info.as_of;
    // the same lists the site's Customer 360 shows (marts.mart_customer_360), as JSON text:
    // lists of structs convert faster and more predictably that way than as DuckDB values
    const [lists] = await snap.query<{tickets: string | null; opportunities: string | null}>(
      `SELECT to_json(open_tickets)::VARCHAR AS tickets, to_json(opportunities)::VARCHAR AS opportunities
       FROM marts.mart_customer_360 WHERE customer_id = ?`,
      [id],
    );
    // the expansion model beside the proxy, explained as the churn model is (marts.mart_expansion_drivers)
    const [xm] = await snap.query<{p: number; e: number; drivers: string | null}>(
      `SELECT CAST(expansion_probability AS DOUBLE) AS p, CAST(expected_expansion_arr AS DOUBLE) AS e,
              to_json(expansion_drivers)::VARCHAR AS drivers
       FROM marts.mart_customer_360 WHERE customer_id = ? AND expansion_probability IS NOT NULL`,
      [id],
    );
    const expansionModel: ExpansionModelView | null = xm
      ? {
          probability: xm.p,
          expected_expansion_arr: xm.e,
          drivers: (
            JSON.parse(xm.drivers ?? "[]") as {
              rank: number;
              feature: string;
              value: string | null;
              contribution: number;
            }[]
          ).map((d) => ({
            rank: d.rank,
            feature: d.feature,
            ...featureWords(d.feature, d.value),
            value: d.value,
            contribution: d.contribution,
            direction: d.contribution > 0 ? "raises_expansion" : "lowers_expansion",
          })),
        }
      : null;
    const tickets = JSON.parse(lists?.tickets ?? "[]") as Ticket[];
    const opps = JSON.parse(lists?.opportunities ?? "[]") as Opportunity[];
    const expansion = index.expansion.get(id) ?? {
      upgrade_propensity_proxy: 0,
      premium_feature_trials_30d: 0,
      feature_limit_hits_30d: 0,
      feature_request_tickets_90d: 0,
      has_open_expansion_opp: false,
      mrr_tier_ceiling_pct: 0,
    };
    const q = index.quadrant.get(id);
    if (!q) throw new Error(`marts.mart_propensity_quadrant has no row for an active account`);
    return {
      ...base,
      data_as_of: asOf,
      expansion,
      expansion_model: expansionModel,
      is_flight_risk: q.model_quadrant === config.quadrant.labels.flightRisk,
      quadrant: {
        model_quadrant: q.model_quadrant,
        health_quadrant: q.health_quadrant,
        churn_probability: base.scores.churn_probability,
        health_risk: q.health_risk,
        upgrade_propensity_proxy: expansion.upgrade_propensity_proxy,
      },
      drivers: index.drivers.get(id) ?? [],
      recommended_action: actionOfTier(base.scores.model_tier),
      open_tickets: tickets,
      opportunities: opps,
    };
  });
}

/** Version of the model that scored the warehouse (marts.model_card), from the read model. */
export async function warehouseModelVersion(snap: WarehouseSnapshot): Promise<string | null> {
  return (await loadReadModel(snap)).modelVersion;
}

/** The watermelon report (marts.mart_score_disagreements and its back-test), largest expected loss first. */
export async function loadDisagreements(
  snap: WarehouseSnapshot,
  type: "watermelon" | "false_alarm" | undefined,
  limit: number,
): Promise<{total: number; backtest: Record<string, unknown>[]; accounts: Record<string, unknown>[]}> {
  const where = type ? "WHERE disagreement = ?" : "";
  const params = type ? [type] : [];
  const [{total}] = (await snap.query<{total: number}>(
    `SELECT count(*)::INTEGER AS total FROM marts.mart_score_disagreements ${where}`,
    params,
  )) as [{total: number}];
  const accounts = await snap.query<Record<string, unknown>>(
    `SELECT customer_id, company_name, csm_owner, plan_tier, arr, disagreement, health_score, risk_tier,
            string_split(nullif(top_risk_drivers, ''), ', ') AS top_risk_drivers, churn_probability, model_tier,
            string_split(nullif(model_top_drivers, ''), ', ') AS model_top_drivers, expected_arr_loss_90d
     FROM marts.mart_score_disagreements ${where}
     ORDER BY expected_arr_loss_90d DESC, customer_id LIMIT ${limit}`,
    params,
  );
  const backtest = await snap.query<Record<string, unknown>>(
    `SELECT disagreement, accounts, churned, churn_rate, CAST(first_cutoff AS VARCHAR) AS first_cutoff,
            CAST(last_cutoff AS VARCHAR) AS last_cutoff
     FROM marts.mart_score_disagreement_backtest`,
  );
  return {
    total,
    backtest,
    accounts: accounts.map((a) => ({
      ...a,
      top_risk_drivers: (a.top_risk_drivers as string[] | null) ?? [],
      model_top_drivers: (a.model_top_drivers as string[] | null) ?? [],
    })),
  };
}
