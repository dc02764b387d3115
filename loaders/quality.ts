/**
 * Data-quality checks the build runs on every mart (dbt-test style): unique, not null,
 * accepted values, ranges, row counts and freshness. Any failure fails the build with a
 * message naming the table, the check and an example of the offending rows.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {config, RISK_TIERS} from "../src/rules/config.ts";
import {PLAN_TIERS} from "./contract.ts";
import {ident, lit, one} from "./duckdb.ts";
import {CTA_MART_CHECKS} from "./cta.ts";

export interface MartChecks {
  table: string;
  unique?: readonly string[];
  notNull?: readonly string[];
  accepted?: Readonly<Record<string, readonly string[]>>;
  ranges?: Readonly<Record<string, readonly [number | null, number | null]>>;
  /** the table must have exactly as many rows as this SQL scalar returns */
  rowsEqual?: string;
  minRows?: number;
}

const ACTIVE_CUSTOMERS = `(SELECT count(*) FROM raw.customers c LEFT JOIN raw.churn_events ch USING (customer_id)
  WHERE c.signup_date <= getvariable('as_of') AND (ch.churn_date IS NULL OR ch.churn_date > getvariable('as_of')))`;

const quadrantLabels = Object.values(config.quadrant.labels);

export const MART_CHECKS: readonly MartChecks[] = [
  {
    table: "marts.mart_customer_churn_features",
    unique: ["customer_id"],
    notNull: [
      "customer_id",
      "as_of_date",
      "plan_tier",
      "tenure_days",
      "days_to_renewal",
      "arr",
      "seats",
      "events_last_30d",
      "events_last_90d",
      "seat_utilisation",
    ],
    accepted: {plan_tier: PLAN_TIERS},
    ranges: {
      arr: [0, null],
      seats: [1, null],
      tenure_days: [0, null],
      days_to_renewal: [0, 365],
      events_last_30d: [0, null],
      seat_utilisation: [0, null],
      latest_nps: [0, 10],
      avg_csat_90d: [1, 5],
    },
    rowsEqual: ACTIVE_CUSTOMERS,
    minRows: 1,
  },
  {
    table: "marts.mart_health_components",
    unique: ["customer_id", "component_id"],
    notNull: ["customer_id", "component_id", "component_score", "points_lost"],
    ranges: {component_score: [0, 100], points_lost: [0, 100]},
    rowsEqual: `(SELECT count(*) * ${config.healthScore.components.length} FROM marts.mart_customer_churn_features)`,
  },
  {
    table: "marts.mart_customer_risk_scores",
    unique: ["customer_id"],
    notNull: [
      "customer_id",
      "company_name",
      "plan_tier",
      "arr",
      "health_score",
      "risk_score",
      "risk_tier",
      "health_colour",
      "recommended_action",
      "low_events",
      "support_overload",
      "onboarding_at_risk",
      "arr_at_risk",
      "renewal_date",
      "churn_probability",
      "model_tier",
      "expected_arr_loss_90d",
    ],
    accepted: {
      risk_tier: RISK_TIERS,
      model_tier: RISK_TIERS,
      health_colour: ["Red", "Yellow", "Green"],
      plan_tier: PLAN_TIERS,
    },
    ranges: {
      health_score: [0, 100],
      risk_score: [0, 100],
      arr_at_risk: [0, null],
      churn_probability: [0, 1],
      expected_arr_loss_90d: [0, null],
    },
    rowsEqual: "(SELECT count(*) FROM marts.mart_customer_churn_features)",
  },
  {
    table: "marts.mart_customer_expansion_features",
    unique: ["customer_id"],
    notNull: ["customer_id", "upgrade_propensity_proxy", "mrr_tier_ceiling_pct"],
    ranges: {upgrade_propensity_proxy: [0, 1], mrr_tier_ceiling_pct: [0, 1]},
    rowsEqual: "(SELECT count(*) FROM marts.mart_customer_churn_features)",
  },
  {
    table: "marts.mart_propensity_quadrant",
    unique: ["customer_id"],
    notNull: [
      "customer_id",
      "churn_probability",
      "upgrade_propensity_proxy",
      "quadrant_label",
      "expected_arr_uplift_proxy",
      "was_contacted",
    ],
    accepted: {quadrant_label: quadrantLabels},
    ranges: {churn_probability: [0, 1], upgrade_propensity_proxy: [0, 1], expected_arr_uplift_proxy: [0, null]},
    rowsEqual: "(SELECT count(*) FROM marts.mart_customer_churn_features)",
  },
  {
    table: "marts.mart_segment_risk",
    unique: ["plan_tier", "industry"],
    notNull: ["plan_tier", "industry", "customers", "arr"],
    ranges: {churn_rate_12m: [0, 1], customers: [1, null]},
    minRows: 1,
  },
  {
    table: "marts.mart_portfolio_kpis",
    notNull: ["as_of_date", "active_customers", "total_arr"],
    ranges: {logo_churn_rate_12m: [0, 1], grr_12m: [0, 1], nrr_12m: [0, null]},
    rowsEqual: "1",
  },
  {table: "marts.mart_churn_monthly", unique: ["month"], notNull: ["month", "churned_customers"]},
  {
    table: "marts.model_scores",
    unique: ["customer_id"],
    notNull: ["customer_id", "churn_probability", "raw_score"],
    ranges: {churn_probability: [0, 1]},
    rowsEqual: "(SELECT count(*) FROM marts.mart_customer_churn_features)",
  },
  {
    table: "marts.mart_customer_drivers",
    unique: ["customer_id", "rank"],
    notNull: ["customer_id", "rank", "feature", "contribution"],
    ranges: {rank: [1, 5]},
  },
  {
    table: "marts.mart_churn_score_history",
    unique: ["customer_id", "as_of_date"],
    notNull: ["customer_id", "as_of_date", "churn_probability"],
    ranges: {churn_probability: [0, 1]},
    minRows: 1,
  },
  {
    table: "marts.model_backtest_predictions",
    unique: ["customer_id", "cutoff_date"],
    notNull: ["customer_id", "cutoff_date", "label", "probability", "risk_score"],
    ranges: {probability: [0, 1], risk_score: [0, 100]},
  },
  ...CTA_MART_CHECKS,
];

export class DataQualityError extends Error {
  constructor(readonly failures: string[]) {
    super(`data-quality checks failed (${failures.length}):\n${failures.map((f) => "  " + f).join("\n")}`);
    this.name = "DataQualityError";
  }
}

async function failing(
  conn: DuckDBConnection,
  table: string,
  where: string,
  show: string,
): Promise<{n: number; example: string | null}> {
  const r = await one<{n: number; example: string | null}>(
    conn,
    `SELECT count(*) AS n, CAST(any_value(${show}) AS VARCHAR) AS example FROM ${table} WHERE ${where}`,
  );
  return r;
}

/** Runs every check; throws DataQualityError listing all failures. Returns how many checks ran. */
export async function runQualityChecks(
  conn: DuckDBConnection,
  asOf: string,
  checks: readonly MartChecks[] = MART_CHECKS,
): Promise<number> {
  const failures: string[] = [];
  let ran = 0;
  await conn.run(`SET VARIABLE as_of = DATE ${lit(asOf)}`);
  for (const c of checks) {
    for (const col of c.notNull ?? []) {
      ran++;
      const r = await failing(conn, c.table, `${ident(col)} IS NULL`, c.unique?.[0] ? ident(c.unique[0]) : "1");
      if (r.n) failures.push(`${c.table}.${col}: not_null failed on ${r.n} row(s), e.g. ${r.example}`);
    }
    if (c.unique) {
      ran++;
      const keys = c.unique.map(ident).join(", ");
      const r = await one<{n: number; example: string | null}>(
        conn,
        `SELECT count(*) AS n, CAST(any_value(k) AS VARCHAR) AS example FROM (SELECT concat_ws('|', ${keys}) AS k FROM ${c.table} GROUP BY ALL HAVING count(*) > 1)`,
      );
      if (r.n) failures.push(`${c.table}(${c.unique.join(", ")}): unique failed for ${r.n} key(s), e.g. ${r.example}`);
    }
    for (const [col, values] of Object.entries(c.accepted ?? {})) {
      ran++;
      const r = await failing(conn, c.table, `${ident(col)} NOT IN (${values.map(lit).join(", ")})`, ident(col));
      if (r.n) failures.push(`${c.table}.${col}: accepted_values failed on ${r.n} row(s), e.g. ${r.example}`);
    }
    for (const [col, [lo, hi]] of Object.entries(c.ranges ?? {})) {
      ran++;
      const conds = [lo !== null ? `${ident(col)} < ${lo}` : null, hi !== null ? `${ident(col)} > ${hi}` : null]
        .filter(Boolean)
        .join(" OR ");
      const r = await failing(conn, c.table, conds, ident(col));
      if (r.n)
        failures.push(
          `${c.table}.${col}: range [${lo ?? "-∞"}, ${hi ?? "∞"}] failed on ${r.n} row(s), e.g. ${r.example}`,
        );
    }
    if (c.rowsEqual || c.minRows !== undefined) {
      ran++;
      const r = await one<{n: number; expected: number | null}>(
        conn,
        `SELECT (SELECT count(*) FROM ${c.table}) AS n, ${c.rowsEqual ?? "NULL"} AS expected`,
      );
      if (c.rowsEqual && r.n !== r.expected) failures.push(`${c.table}: row count ${r.n}, expected ${r.expected}`);
      if (c.minRows !== undefined && r.n < c.minRows)
        failures.push(`${c.table}: row count ${r.n}, expected at least ${c.minRows}`);
    }
  }
  // Freshness: the newest usage event may be at most maxStalenessDays older than the as-of date.
  ran++;
  const fresh = await one<{latest: string | null}>(
    conn,
    "SELECT CAST(max(event_date) AS VARCHAR) AS latest FROM raw.usage_events",
  );
  const limit = config.dataQuality.maxStalenessDays;
  const stale = fresh.latest === null ? Infinity : (Date.parse(asOf) - Date.parse(fresh.latest)) / 86_400_000;
  if (stale > limit)
    failures.push(
      `raw.usage_events: freshness failed — newest event ${fresh.latest ?? "(none)"} is ${stale} day(s) before the as-of date ${asOf} (limit ${limit}); pass --as-of to build an older snapshot`,
    );
  if (failures.length) throw new DataQualityError(failures);
  return ran;
}
