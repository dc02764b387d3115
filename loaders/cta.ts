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
import {config} from "../src/rules/config.ts";
import {playbooks, type Playbooks} from "../src/rules/playbooks.ts";
import {all, lit, one, run, setVariables, tableExists, writeTable} from "./duckdb.ts";
import {loadRules, runSteps} from "./marts.ts";
import {readAssistantQuality} from "./assistant-quality.ts";
import type {OperationalStore} from "./store/types.ts";

export interface CarryOverOptions {
  /** the warehouse of the previous build; ignored when the file does not exist */
  previousWarehouse: string | null;
  /** the as-of date (YYYY-MM-DD) of the build being made */
  asOf: string;
  log?: (msg: string) => void;
  /** the rules; tests pass variants */
  playbooks?: Playbooks;
  /** where CSMs work their CTAs; without one, no CTA has been worked (tests of the triggers alone) */
  store?: OperationalStore | null;
}

export interface CarryOverResult {
  /** as-of date of the previous build, null when there was none (first build or backfill) */
  previousAsOf: string | null;
  openCtas: number;
  newCtas: number;
  closedCtas: number;
  escalations: number;
  alerts: number;
  /** CTAs imported from raw.cta_history to start the history (first build only) */
  seeded: number;
  /** when the CSMs' work was read from the store (ISO); later writes reach the next build */
  storeReadAt: string | null;
}

/**
 * What people set on CTAs (status, snooze, reason, assignee) and the CSMs' capacity overrides,
 * read from the operational store ONCE, as tables in schema `ops` that the CTA step reads
 * (ops_cta_state, ops_capacity). The build only reads the store: a write that lands while it
 * runs is after `readAt`, so the API keeps showing it on top of this build and the next build
 * applies it — nothing is lost, nothing is applied twice.
 */
async function readWork(
  conn: DuckDBConnection,
  store: OperationalStore | null,
): Promise<{readAt: string | null; states: number}> {
  const readAt = store ? new Date().toISOString() : null;
  const states = store ? await store.ctaStates() : [];
  const capacity = store ? await store.capacityOverrides() : [];
  const day = (iso: string | null) => (iso ? iso.slice(0, 10) : null);
  await writeTable(
    conn,
    "ops.cta_state",
    {
      cta_id: "VARCHAR",
      status: "VARCHAR",
      snoozed_until: "VARCHAR",
      status_reason: "VARCHAR",
      assignee: "VARCHAR",
      priority_rank_at_change: "INTEGER",
      first_action_date: "VARCHAR",
      changed_on: "VARCHAR",
    },
    states.map((st) => [
      st.cta_id,
      st.status,
      st.snoozed_until,
      st.status_reason,
      st.assignee,
      st.priority_rank_at_change,
      day(st.first_action_at),
      day(st.updated_at),
    ]),
  );
  await writeTable(
    conn,
    "ops.capacity",
    {csm: "VARCHAR", hours_per_week: "DOUBLE"},
    capacity.map((c) => [c.csm, c.hours_per_week]),
  );
  // the assistant's weekly quality, read in the same pass (marts.mart_assistant_quality)
  await readAssistantQuality(conn, store);
  // a backfill of an older date never sees work done after it
  await run(
    conn,
    `CREATE OR REPLACE TEMP VIEW ops_cta_state AS
     SELECT cta_id, status, CAST(snoozed_until AS DATE) AS snoozed_until, status_reason, assignee, priority_rank_at_change,
            least(CAST(first_action_date AS DATE), getvariable('as_of')) AS first_action_date,
            least(CAST(changed_on AS DATE), getvariable('as_of')) AS changed_on
     FROM ops.cta_state;
     CREATE OR REPLACE TEMP VIEW ops_capacity AS SELECT csm, hours_per_week FROM ops.capacity`,
  );
  return {readAt, states: states.length};
}

async function currentCatalog(conn: DuckDBConnection): Promise<string> {
  return (await one<{c: string}>(conn, "SELECT current_database() AS c")).c;
}

/**
 * Starts the CTA history from an imported one: raw.cta_history holds CTAs raised and closed
 * before this warehouse existed (another CS platform's export, or the demo's simulated months of
 * a CS team working SaaSGuard's plays), so measured effectiveness has matured outcomes from day one.
 */
async function seedHistory(conn: DuckDBConnection): Promise<number> {
  await run(
    conn,
    `INSERT INTO prev_cta_history
     SELECT h.cta_id, h.customer_id, c.company_name, c.csm_owner, NULL, h.cta_type, h.reason, h.playbook_id, h.priority, h.play_tier, h.segment,
            h.created_date, CAST(h.created_date + to_hours(pr.due_hours) AS DATE), coalesce(h.closed_date, h.created_date), h.status, h.closed_date,
            'imported history', NULL, h.arr_at_raise, h.holdout, h.first_action_date, NULL, NULL
     FROM raw.cta_history h JOIN raw.customers c USING (customer_id) JOIN cfg.priorities pr USING (priority)`,
  );
  return (await one<{n: number}>(conn, "SELECT count(*)::INTEGER AS n FROM prev_cta_history")).n;
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
    empty: `cta_id VARCHAR, customer_id VARCHAR, company_name VARCHAR, csm_owner VARCHAR, assignee VARCHAR, cta_type VARCHAR, reason VARCHAR,
            playbook_id VARCHAR, priority VARCHAR, play_tier VARCHAR, segment VARCHAR, created_date DATE, due_date DATE, last_seen_date DATE,
            status VARCHAR, closed_date DATE, detail VARCHAR, arr_at_risk DOUBLE, arr_at_raise DOUBLE, holdout BOOLEAN,
            first_action_date DATE, snoozed_until DATE, status_reason VARCHAR`,
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
/** The columns of each prev_* view, as [name, type] pairs. */
const PREVIOUS_COLUMNS: Record<string, [string, string][]> = Object.fromEntries(
  Object.entries(PREVIOUS_TABLES).map(([k, v]) => [
    k,
    v.empty.split(",").map((c) => c.trim().split(/\s+/) as [string, string]),
  ]),
);

/**
 * SELECT list reading `view`'s columns from `source`: a column an older build did not have yet
 * (a warehouse from before CTAs could be worked) reads as NULL — or false for a holdout flag — so
 * upgrading keeps the history.
 */
async function previousSelect(
  conn: DuckDBConnection,
  view: string,
  catalog: string,
  qualified: string,
): Promise<string> {
  const [schema, table] = qualified.split(".");
  const have = new Set(
    (
      await all<{c: string}>(
        conn,
        "SELECT column_name AS c FROM duckdb_columns() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3",
        [catalog, schema!, table!],
      )
    ).map((r) => r.c),
  );
  return PREVIOUS_COLUMNS[view]!.map(([name, type]) =>
    have.has(name) ? name : `${type === "BOOLEAN" ? "false" : `NULL::${type}`} AS ${name}`,
  ).join(", ");
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
  let seeded = 0;
  let storeReadAt: string | null = null;
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
          `CREATE OR REPLACE TEMP VIEW ${view} AS SELECT ${await previousSelect(conn, view, alias, source!)} FROM ${alias}.${source}`,
        );
      else await run(conn, `CREATE OR REPLACE TEMP TABLE ${view} (${spec.empty})`);
      created.push(`DROP ${fromPrevious ? "VIEW" : "TABLE"} ${view}`);
    }
    // A first build starts its history from an imported one (raw.cta_history), when there is one
    if (previousAsOf === null && (await tableExists(conn, await currentCatalog(conn), "raw.cta_history")))
      seeded = await seedHistory(conn);
    const work = await readWork(conn, opts.store ?? null);
    await setVariables(conn, {
      has_previous: previousAsOf !== null,
      previous_as_of: {date: previousAsOf},
      done_quiet_days: config.ctaWork.doneQuietDays,
    });

    await runSteps(conn, "ctas");
    // materialise everything before the previous warehouse is detached
    for (const drop of created) await run(conn, drop);
    await run(conn, "DROP VIEW ops_cta_state; DROP VIEW ops_capacity; DROP SCHEMA ops CASCADE");
    storeReadAt = work.readAt;
  } finally {
    if (attached) await run(conn, `DETACH ${alias}`);
  }
  const r = await one<{open: number; new: number; held: number; closed: number; esc: number; alerts: number}>(
    conn,
    `SELECT (SELECT count(*) FROM marts.mart_cta_queue) AS open,
            (SELECT count(*) FROM marts.mart_cta_history WHERE created_date = getvariable('as_of') AND NOT holdout) AS new,
            (SELECT count(*) FROM marts.mart_cta_history WHERE created_date = getvariable('as_of') AND holdout) AS held,
            (SELECT count(*) FROM marts.mart_cta_history WHERE closed_date = getvariable('as_of')) AS closed,
            (SELECT count(*) FROM marts.mart_escalations) AS esc,
            (SELECT count(*) FROM marts.mart_alert_history WHERE raised_on = getvariable('as_of')) AS alerts`,
  );
  opts.log?.(
    `CTAs: ${r.open} in the queue (${r.new} new and ${r.held} held out to measure the plays, ${r.closed} closed tonight)${previousAsOf ? `, carried from the build of ${previousAsOf}` : ", no previous build"}; ` +
      `${r.esc} escalation message(s); ${r.alerts} alert(s)`,
  );
  return {
    previousAsOf,
    openCtas: r.open,
    newCtas: r.new,
    closedCtas: r.closed,
    escalations: r.esc,
    alerts: r.alerts,
    seeded,
    storeReadAt,
  };
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
