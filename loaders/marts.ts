/**
 * Builds the marts: loads the business-rule config into DuckDB (tables in schema `cfg` and
 * session variables), then runs the SQL files of loaders/sql/ in dependency order.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {fileURLToPath} from "node:url";
import {config} from "../src/rules/config.ts";
import {ENGAGEMENT_EVENT_TYPES} from "./contract.ts";
import {lit, one, readSql, run} from "./duckdb.ts";

const SQL_DIR = fileURLToPath(new URL("./sql/", import.meta.url));

/**
 * Mart SQL files in dependency order; each is named after the table (or macro) it creates.
 * The model scores tonight's features between the two phases (loaders/score.ts), so the
 * risk-score mart can put the model's probability beside the rule-based score.
 */
/** Files that define table macros (parameterised SQL) rather than tables. */
export const MACRO_FILES = ["customer_features_as_of", "health_components_of"] as const;
export const FEATURE_MARTS = [
  "usage_daily",
  ...MACRO_FILES,
  "mart_customer_churn_features",
  "mart_health_components",
] as const;
export const SCORE_MARTS = [
  "mart_customer_risk_scores",
  "mart_customer_expansion_features",
  "mart_propensity_quadrant",
  "mart_segment_risk",
  "mart_portfolio_kpis",
  "mart_churn_monthly",
  "mart_risk_signals",
  "mart_customer_usage_90d", // dashboards (issue 4): Risk Drill-Down findings, Customer 360 usage
] as const;
export const MART_FILES = [...FEATURE_MARTS, ...SCORE_MARTS] as const;

export function martSql(name: string): string {
  return readSql(`${SQL_DIR}${name}.sql`);
}

function listLit(xs: readonly (string | number)[]): string {
  return `[${xs.map((x) => (typeof x === "number" ? String(x) : lit(x))).join(", ")}]`;
}

/**
 * Puts config.ts into the database so SQL reads the same numbers as the pages and server:
 * list-like rules become cfg.* tables, scalars become variables (getvariable('name')).
 */
export async function loadConfig(conn: DuckDBConnection, asOf: string): Promise<void> {
  const rows = (xs: string[]) => xs.join(", ");
  await run(conn, "CREATE SCHEMA IF NOT EXISTS cfg; CREATE SCHEMA IF NOT EXISTS marts");
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.health_components AS SELECT * FROM (VALUES ${rows(
      config.healthScore.components.map(
        (h) =>
          `(${lit(h.id)}, ${lit(h.label)}, ${lit(h.feature)}, ${h.weight}, ${h.worst}, ${h.best}, ${h.whenMissing})`,
      ),
    )}) t(component_id, label, feature, weight, worst, best, when_missing)`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.risk_tiers AS SELECT * FROM (VALUES ${rows(
      config.riskTiers.map(
        (t) =>
          `(${lit(t.tier)}, CAST(${t.minScore} AS DOUBLE), ${lit(t.colour)}, ${lit(t.recommendedAction)}, ${t.actWithinHours ?? "NULL"})`,
      ),
    )}) t(tier, min_score, colour, recommended_action, act_within_hours)`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.model_tiers AS SELECT * FROM (VALUES ${rows(config.modelTiers.map((t) => `(${lit(t.tier)}, CAST(${t.minProbability} AS DOUBLE))`))}) t(tier, min_probability)`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.expansion_inputs AS SELECT * FROM (VALUES ${rows(config.expansion.inputs.map((e) => `(${lit(e.feature)}, ${e.weight}, ${e.cap})`))}) t(feature, weight, cap)`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.tier_arr_ceiling AS SELECT * FROM (VALUES ${rows(
      Object.entries(config.expansion.tierArrCeiling).map(([tier, v]) => `(${lit(tier)}, CAST(${v} AS DOUBLE))`),
    )}) t(plan_tier, arr_ceiling)`,
  );
  const q = config.quadrant;
  const vars: Record<string, string> = {
    as_of: `DATE ${lit(asOf)}`,
    engagement_event_types: listLit(ENGAGEMENT_EVENT_TYPES),
    health_features: listLit(config.healthScore.components.map((h) => h.feature)),
    expansion_features: listLit(config.expansion.inputs.map((e) => e.feature)),
    low_events_threshold: String(config.flags.lowEventsThreshold30d),
    support_overload_high_tickets: String(config.flags.supportOverloadHighTickets),
    onboarding_window_days: String(config.flags.onboardingWindowDays),
    activation_gate_integrations: String(config.flags.activationGateIntegrations),
    top_drivers: String(config.healthScore.topDrivers),
    renewal_stages_days: listLit(config.renewalStagesDays),
    q_high_churn: String(q.highChurn),
    q_low_churn: String(q.lowChurn),
    q_high_expansion: String(q.highExpansion),
    q_low_expansion: String(q.lowExpansion),
    q_label_flight_risk: lit(q.labels.flightRisk),
    q_label_growth_engine: lit(q.labels.growthEngine),
    q_label_churn_candidate: lit(q.labels.churnCandidate),
    q_label_stable_base: lit(q.labels.stableBase),
    contacted_within_days: String(q.contactedWithinDays),
    expected_uplift_share: String(config.expansion.expectedUpliftShare),
  };
  for (const [k, v] of Object.entries(vars)) await run(conn, `SET VARIABLE ${k} = ${v}`);
}

export interface MartTiming {
  table: string;
  rows: number | null;
  seconds: number;
}

/** Runs mart SQL files (all by default) in order; returns per-file timings and row counts. */
export async function buildMarts(
  conn: DuckDBConnection,
  asOf: string,
  progress?: (msg: string) => void,
  files: readonly string[] = MART_FILES,
): Promise<MartTiming[]> {
  await loadConfig(conn, asOf);
  const timings: MartTiming[] = [];
  for (const name of files) {
    const t0 = performance.now();
    try {
      await run(conn, martSql(name));
    } catch (e) {
      throw new Error(`loaders/sql/${name}.sql failed: ${(e as Error).message}`);
    }
    const isTable = !(MACRO_FILES as readonly string[]).includes(name);
    const rows = isTable ? (await one<{n: number}>(conn, `SELECT count(*) AS n FROM marts.${name}`)).n : null;
    const seconds = (performance.now() - t0) / 1000;
    timings.push({table: name, rows, seconds});
    progress?.(
      `marts.${name}: ${rows === null ? "macro" : `${rows.toLocaleString("en-US")} rows`} (${seconds.toFixed(2)} s)`,
    );
  }
  return timings;
}
