/**
 * CTAs, escalation messages and churn alerts, carried across nightly builds.
 *
 * Every build writes a brand-new warehouse file, so anything that must outlive one night — an
 * open CTA's creation date, which escalations were already raised, which alerts were already
 * sent — is read from the PREVIOUS warehouse (data/warehouse.duckdb, attached READ_ONLY) and
 * written again into the new one:
 *
 *   marts.mart_cta_history    every CTA ever raised: open ones keep their original creation
 *                             date until their condition clears, then close with that night's date
 *   marts.mart_cta_queue      today's open CTAs, prioritised, with the playbook step to work on
 *   marts.mart_escalations    messages from the playbooks' escalation template, one per trigger that fires
 *   marts.mart_alert_history  alerts raised by comparing tonight's scores with the previous build;
 *                             loaders/alerts/ turns tonight's rows into signed webhook deliveries
 *
 * The build calls carryOverCtas() right after buildMarts(), on the temporary warehouse, so a
 * failed build changes nothing (the previous warehouse is only read).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {existsSync} from "node:fs";
import {playbooks, type Playbooks} from "../src/rules/playbooks.ts";
import {all, lit, one, run, setVariables} from "./duckdb.ts";
import {loadRules, runSteps} from "./marts.ts";

export interface CarryOverOptions {
  /** the warehouse of the previous build; ignored when the file does not exist */
  previousWarehouse: string | null;
  /** the as-of date (YYYY-MM-DD) of the build being made */
  asOf: string;
  log?: (msg: string) => void;
  /** the rules; tests pass variants */
  playbooks?: Playbooks;
}

export interface CarryOverResult {
  /** as-of date of the previous build, null when there was none (first build or backfill) */
  previousAsOf: string | null;
  openCtas: number;
  newCtas: number;
  closedCtas: number;
  escalations: number;
  alerts: number;
}

/**
 * What is read from the previous build, as temporary views named prev_*. When there is no
 * previous build (first build, a backfill of an older date, or a warehouse made before this
 * feature) they are empty tables of the same shape, so the SQL is the same either way.
 */
const PREVIOUS_TABLES: Record<string, {sources: readonly string[]; empty: string}> = {
  prev_cta_history: {
    // builds before the mart_ prefix named it marts.cta_history: read either, so upgrading keeps the history
    sources: ["marts.mart_cta_history", "marts.cta_history"],
    empty: `cta_id VARCHAR, customer_id VARCHAR, company_name VARCHAR, csm_owner VARCHAR, cta_type VARCHAR, reason VARCHAR, playbook_id VARCHAR,
            priority VARCHAR, created_date DATE, due_date DATE, last_seen_date DATE, status VARCHAR, closed_date DATE, detail VARCHAR, arr_at_risk DOUBLE`,
  },
  prev_risk_scores: {
    sources: ["marts.mart_customer_risk_scores"],
    empty: "customer_id VARCHAR, risk_tier VARCHAR, health_score DOUBLE, days_to_renewal INTEGER",
  },
  prev_escalations: {
    sources: ["marts.mart_escalations"],
    empty: "customer_id VARCHAR, trigger_id VARCHAR, first_raised_date DATE",
  },
  prev_alert_history: {
    sources: ["marts.mart_alert_history", "marts.alert_history"],
    empty: `alert_id VARCHAR, raised_on DATE, previous_as_of DATE, kind VARCHAR, customer_id VARCHAR, company_name VARCHAR, csm_owner VARCHAR, plan_tier VARCHAR,
            risk_tier VARCHAR, previous_risk_tier VARCHAR, risk_score DOUBLE, health_score DOUBLE, previous_health_score DOUBLE, health_colour VARCHAR,
            arr DOUBLE, arr_at_risk DOUBLE, renewal_date DATE, days_to_renewal INTEGER, top_risk_drivers VARCHAR, recommended_action VARCHAR, summary VARCHAR`,
  },
};
const PREVIOUS_COLUMNS: Record<string, string> = Object.fromEntries(
  Object.entries(PREVIOUS_TABLES).map(([k, v]) => [
    k,
    v.empty
      .split(",")
      .map((c) => c.trim().split(/\s+/)[0]!)
      .join(", "),
  ]),
);

async function tableExists(conn: DuckDBConnection, catalog: string, qualified: string): Promise<boolean> {
  const [schema, table] = qualified.split(".");
  const r = await one<{n: number}>(
    conn,
    "SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3",
    [catalog, schema!, table!],
  );
  return r.n > 0;
}

/**
 * Builds the CTA queue and history, the escalation messages and tonight's alerts, carrying
 * state over from `previousWarehouse`. Call it on the new (temporary) warehouse right after
 * buildMarts(); it needs marts.mart_customer_risk_scores and the raw tables.
 */
export async function carryOverCtas(conn: DuckDBConnection, opts: CarryOverOptions): Promise<CarryOverResult> {
  const p = opts.playbooks ?? playbooks;
  await loadRules(conn, opts.asOf, p);
  const alias = "saasguard_previous";
  let previousAsOf: string | null = null;
  let attached = false;
  try {
    if (opts.previousWarehouse && existsSync(opts.previousWarehouse)) {
      try {
        await run(conn, `ATTACH ${lit(opts.previousWarehouse)} AS ${alias} (READ_ONLY)`);
      } catch (e) {
        // never silently drop CTA history: the CS team would see every CTA "re-created" tonight
        throw new Error(
          `cannot read the previous warehouse ${opts.previousWarehouse} for CTA carry-over: ${(e as Error).message}. ` +
            `Move the file away to start CTA and alert history afresh.`,
        );
      }
      attached = true;
      if (await tableExists(conn, alias, "marts.build_info")) {
        const info = await one<{as_of: string}>(
          conn,
          `SELECT CAST(as_of AS VARCHAR) AS as_of FROM ${alias}.marts.build_info`,
        );
        // a backfill of an older date must not inherit CTAs from the future
        if (info.as_of <= opts.asOf) previousAsOf = info.as_of;
        else
          opts.log?.(
            `previous warehouse is as of ${info.as_of}, after ${opts.asOf}: CTA history starts afresh for this backfill`,
          );
      }
    }
    const created: string[] = [];
    for (const [view, spec] of Object.entries(PREVIOUS_TABLES)) {
      let source: string | undefined;
      if (previousAsOf !== null)
        for (const s of spec.sources) if (!source && (await tableExists(conn, alias, s))) source = s;
      const fromPrevious = source !== undefined;
      if (fromPrevious)
        await run(
          conn,
          `CREATE OR REPLACE TEMP VIEW ${view} AS SELECT ${PREVIOUS_COLUMNS[view]} FROM ${alias}.${source}`,
        );
      else await run(conn, `CREATE OR REPLACE TEMP TABLE ${view} (${spec.empty})`);
      created.push(`DROP ${fromPrevious ? "VIEW" : "TABLE"} ${view}`);
    }
    await setVariables(conn, {has_previous: previousAsOf !== null, previous_as_of: {date: previousAsOf}});

    await runSteps(conn, "ctas");
    // materialise everything before the previous warehouse is detached
    for (const drop of created) await run(conn, drop);
  } finally {
    if (attached) await run(conn, `DETACH ${alias}`);
  }
  const r = await one<{open: number; new: number; closed: number; esc: number; alerts: number}>(
    conn,
    `SELECT (SELECT count(*) FROM marts.mart_cta_queue) AS open,
            (SELECT count(*) FROM marts.mart_cta_history WHERE created_date = getvariable('as_of') AND status = 'open') AS new,
            (SELECT count(*) FROM marts.mart_cta_history WHERE closed_date = getvariable('as_of')) AS closed,
            (SELECT count(*) FROM marts.mart_escalations) AS esc,
            (SELECT count(*) FROM marts.mart_alert_history WHERE raised_on = getvariable('as_of')) AS alerts`,
  );
  opts.log?.(
    `CTAs: ${r.open} open (${r.new} new, ${r.closed} closed tonight)${previousAsOf ? `, carried from the build of ${previousAsOf}` : ", no previous build"}; ` +
      `${r.esc} escalation message(s); ${r.alerts} alert(s)`,
  );
  return {previousAsOf, openCtas: r.open, newCtas: r.new, closedCtas: r.closed, escalations: r.esc, alerts: r.alerts};
}

/** Tonight's alerts (raised on the as-of date of marts.build_info), as plain rows. */
export async function tonightsAlerts(conn: DuckDBConnection): Promise<AlertRow[]> {
  return all<AlertRow>(
    conn,
    `SELECT alert_id, CAST(raised_on AS VARCHAR) AS raised_on, CAST(previous_as_of AS VARCHAR) AS previous_as_of, kind, customer_id, company_name, csm_owner,
            plan_tier, risk_tier, previous_risk_tier, risk_score, health_score, previous_health_score, health_colour, arr, arr_at_risk,
            CAST(renewal_date AS VARCHAR) AS renewal_date, days_to_renewal, top_risk_drivers, recommended_action, summary
     FROM marts.mart_alert_history WHERE raised_on = (SELECT as_of FROM marts.build_info) ORDER BY alert_id`,
  );
}

/** One row of marts.mart_alert_history: what a CSM already sees in Customer 360, no contact data. */
export interface AlertRow {
  alert_id: string;
  raised_on: string;
  previous_as_of: string | null;
  kind: "tier_entered" | "health_drop" | "renewal_at_risk";
  customer_id: string;
  company_name: string;
  csm_owner: string | null;
  plan_tier: string | null;
  risk_tier: string;
  previous_risk_tier: string | null;
  risk_score: number;
  health_score: number;
  previous_health_score: number | null;
  health_colour: string;
  arr: number;
  arr_at_risk: number;
  renewal_date: string | null;
  days_to_renewal: number | null;
  top_risk_drivers: string | null;
  recommended_action: string | null;
  summary: string;
}
