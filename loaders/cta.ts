/**
 * CTAs, escalation messages and churn alerts, carried across nightly builds.
 *
 * Every build writes a brand-new warehouse file, so anything that must outlive one night — an
 * open CTA's creation date, which escalations were already raised, which alerts were already
 * sent — is read from the PREVIOUS warehouse (data/warehouse.duckdb, attached READ_ONLY) and
 * written again into the new one:
 *
 *   marts.cta_history      every CTA ever raised: open ones keep their original creation date
 *                          until their condition clears, then close with that night's date
 *   marts.mart_cta_queue   today's open CTAs, prioritised, with the playbook step to work on
 *   marts.mart_escalations seed 004 escalation messages for every matrix trigger that fires
 *   marts.alert_history    alerts raised by comparing tonight's scores with the previous build;
 *                          loaders/alerts/ turns tonight's rows into signed webhook deliveries
 *
 * The build calls carryOverCtas() right after buildMarts(), on the temporary warehouse, so a
 * failed build changes nothing (the previous warehouse is only read).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {existsSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {config} from "../src/rules/config.ts";
import {priorityLabel} from "../src/rules/dashboard-math.ts";
import {playbooks, PRIORITIES, type Playbooks, type Priority} from "../src/rules/playbooks.ts";
import type {MartChecks} from "./quality.ts";
import {all, lit, one, readSql, run} from "./duckdb.ts";

const SQL_DIR = fileURLToPath(new URL("./sql/", import.meta.url));

/** SQL files run by carryOverCtas, in dependency order (each names the table it creates). */
export const CTA_MART_FILES = ["mart_cta_candidates", "mart_cta_queue", "mart_escalations", "mart_alerts"] as const;

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

const rows = (xs: string[]) => xs.join(", ");
const listLit = (xs: readonly string[]) => `[${xs.map(lit).join(", ")}]::VARCHAR[]`;
const num = (x: number | null) => (x === null ? "NULL" : String(x));

/** Puts the playbooks into cfg.* tables and SQL variables (like loadConfig does for config.ts). */
export async function loadPlaybookConfig(
  conn: DuckDBConnection,
  asOf: string,
  p: Playbooks = playbooks,
): Promise<void> {
  await run(conn, "CREATE SCHEMA IF NOT EXISTS cfg; CREATE SCHEMA IF NOT EXISTS marts");
  // priorities share the tiers' act-within windows: a critical CTA is due in 48 h, and so on
  const dueHours = (pr: Priority) =>
    config.riskTiers.find((t) => t.tier === priorityLabel(pr))?.actWithinHours ?? p.ctas.lowPriorityDueDays * 24;
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.priorities AS SELECT * FROM (VALUES ${rows(
      PRIORITIES.map((pr, i) => `(${lit(pr)}, ${i + 1}, ${lit(priorityLabel(pr))}, ${dueHours(pr)})`),
    )}) t(priority, priority_rank, tier, due_hours)`,
  );
  const pb: string[] = [];
  const steps: string[] = [];
  for (const r of p.riskPlaybooks) {
    pb.push(`(${lit(r.id)}, ${lit(r.name)})`);
    r.steps.forEach((s, i) =>
      steps.push(`(${lit(r.id)}, ${lit(s.id)}, ${i + 1}, ${lit(s.title)}, ${s.startDay}, ${num(s.endDay)})`),
    );
  }
  pb.push(`(${lit(p.onboarding.id)}, ${lit(p.onboarding.name)})`, `(${lit(p.renewal.id)}, ${lit(p.renewal.name)})`);
  p.onboarding.phases.forEach((ph, i) =>
    steps.push(
      `(${lit(p.onboarding.id)}, ${lit(ph.id)}, ${i + 1}, ${lit(`Phase ${i + 1}: ${ph.name}`)}, ${ph.startDay}, ${ph.endDay})`,
    ),
  );
  p.renewal.stages.forEach((s, i) =>
    steps.push(`(${lit(p.renewal.id)}, ${lit(s.id)}, ${i + 1}, ${lit(s.name)}, NULL, NULL)`),
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.playbooks AS SELECT * FROM (VALUES ${rows(pb)}) t(playbook_id, playbook)`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.playbook_steps AS SELECT playbook_id, step_id, step_no::INTEGER AS step_no, title, start_day::INTEGER AS start_day, end_day::INTEGER AS end_day
     FROM (VALUES ${rows(steps)}) t(playbook_id, step_id, step_no, title, start_day, end_day)`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.cta_rules AS SELECT * FROM (VALUES ${rows(
      p.ctaRules.map(
        (r) =>
          `(${lit(r.type)}, ${lit(r.reason)}, ${lit(r.label)}, ${lit(r.playbook)}, ${r.stepId === null ? "NULL::VARCHAR" : lit(r.stepId)}, ${lit(r.minPriority)})`,
      ),
    )}) t(cta_type, reason, reason_label, playbook_id, step_id, min_priority)`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE cfg.escalation_matrix AS SELECT * FROM (VALUES ${rows(
      p.escalationMatrix.map(
        (e, i) =>
          `(${i + 1}, ${lit(e.id)}, ${lit(e.trigger)}, ${lit(e.level)}, ${e.responseHours}, ${lit(e.urgency)}, ${e.detectedBy !== null}, ${lit(e.brief)}, ${lit(e.recommendedAction)})`,
      ),
    )}) t(matrix_row, trigger_id, trigger, level, response_hours, urgency, detectable, brief, recommended_action)`,
  );
  const a = p.alerting;
  const vars: Record<string, string> = {
    as_of: `DATE ${lit(asOf)}`,
    // also set by loadConfig (marts.ts); repeated so this works on any built warehouse
    renewal_stages_days: `[${config.renewalStagesDays.join(", ")}]`,
    low_events_threshold: String(config.flags.lowEventsThreshold30d),
    activation_gate_integrations: String(config.flags.activationGateIntegrations),
    post_renewal_days: String(p.renewal.postRenewalDays),
    alert_tiers: listLit(a.alertTiers),
    health_drop_points: String(a.healthDropPoints),
    renewal_at_risk_days: String(a.renewalAtRiskDays),
    critical_bug_categories: listLit(a.criticalBug.categories),
    critical_bug_priorities: listLit(a.criticalBug.priorities),
    escalation_subject: lit(p.escalationTemplate.subject),
    escalation_body: lit(p.escalationTemplate.body),
  };
  for (const [k, v] of Object.entries(vars)) await run(conn, `SET VARIABLE ${k} = ${v}`);
}

/**
 * What is read from the previous build, as temporary views named prev_*. When there is no
 * previous build (first build, a backfill of an older date, or a warehouse made before this
 * feature) they are empty tables of the same shape, so the SQL is the same either way.
 */
const PREVIOUS_TABLES: Record<string, {source: string; empty: string}> = {
  prev_cta_history: {
    source: "marts.cta_history",
    empty: `cta_id VARCHAR, customer_id VARCHAR, company_name VARCHAR, csm_owner VARCHAR, cta_type VARCHAR, reason VARCHAR, playbook_id VARCHAR,
            priority VARCHAR, created_date DATE, due_date DATE, last_seen_date DATE, status VARCHAR, closed_date DATE, detail VARCHAR, arr_at_risk DOUBLE`,
  },
  prev_risk_scores: {
    source: "marts.mart_customer_risk_scores",
    empty: "customer_id VARCHAR, risk_tier VARCHAR, health_score DOUBLE, days_to_renewal INTEGER",
  },
  prev_escalations: {
    source: "marts.mart_escalations",
    empty: "customer_id VARCHAR, trigger_id VARCHAR, first_raised_date DATE",
  },
  prev_alert_history: {
    source: "marts.alert_history",
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
    `SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = ${lit(catalog)} AND schema_name = ${lit(schema!)} AND table_name = ${lit(table!)}`,
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
  await loadPlaybookConfig(conn, opts.asOf, p);
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
      const fromPrevious = previousAsOf !== null && (await tableExists(conn, alias, spec.source));
      if (fromPrevious)
        await run(
          conn,
          `CREATE OR REPLACE TEMP VIEW ${view} AS SELECT ${PREVIOUS_COLUMNS[view]} FROM ${alias}.${spec.source}`,
        );
      else await run(conn, `CREATE OR REPLACE TEMP TABLE ${view} (${spec.empty})`);
      created.push(`DROP ${fromPrevious ? "VIEW" : "TABLE"} ${view}`);
    }
    await run(conn, `SET VARIABLE has_previous = ${previousAsOf !== null}`);
    await run(
      conn,
      `SET VARIABLE previous_as_of = ${previousAsOf === null ? "NULL::DATE" : `DATE ${lit(previousAsOf)}`}`,
    );

    for (const name of CTA_MART_FILES) {
      try {
        await run(conn, readSql(`${SQL_DIR}${name}.sql`));
      } catch (e) {
        throw new Error(`loaders/sql/${name}.sql failed: ${(e as Error).message}`);
      }
    }
    // materialise everything before the previous warehouse is detached
    for (const drop of created) await run(conn, drop);
  } finally {
    if (attached) await run(conn, `DETACH ${alias}`);
  }
  const r = await one<{open: number; new: number; closed: number; esc: number; alerts: number}>(
    conn,
    `SELECT (SELECT count(*) FROM marts.mart_cta_queue) AS open,
            (SELECT count(*) FROM marts.cta_history WHERE created_date = getvariable('as_of') AND status = 'open') AS new,
            (SELECT count(*) FROM marts.cta_history WHERE closed_date = getvariable('as_of')) AS closed,
            (SELECT count(*) FROM marts.mart_escalations) AS esc,
            (SELECT count(*) FROM marts.alert_history WHERE raised_on = getvariable('as_of')) AS alerts`,
  );
  opts.log?.(
    `CTAs: ${r.open} open (${r.new} new, ${r.closed} closed tonight)${previousAsOf ? `, carried from the build of ${previousAsOf}` : ", no previous build"}; ` +
      `${r.esc} escalation message(s); ${r.alerts} alert(s)`,
  );
  return {previousAsOf, openCtas: r.open, newCtas: r.new, closedCtas: r.closed, escalations: r.esc, alerts: r.alerts};
}

/** Quality checks for the tables made here; quality.ts adds them to MART_CHECKS. */
export const CTA_MART_CHECKS: readonly MartChecks[] = [
  {
    table: "marts.mart_cta_queue",
    unique: ["customer_id", "cta_type", "reason"],
    notNull: [
      "cta_id",
      "customer_id",
      "csm_owner",
      "cta_type",
      "reason",
      "playbook",
      "step",
      "created_date",
      "due_date",
      "priority",
      "arr_at_risk",
    ],
    accepted: {priority: PRIORITIES},
    ranges: {days_open: [0, null], arr_at_risk: [0, null]},
  },
  {
    table: "marts.cta_history",
    unique: ["cta_id"],
    notNull: ["cta_id", "customer_id", "cta_type", "reason", "created_date", "due_date", "status", "last_seen_date"],
    accepted: {status: ["open", "closed"]},
  },
  {
    table: "marts.mart_escalations",
    unique: ["customer_id", "trigger_id"],
    notNull: ["escalation_id", "customer_id", "trigger_id", "level", "subject", "body", "urgency", "first_raised_date"],
    accepted: {urgency: ["critical", "high", "medium"]},
  },
  {
    table: "marts.alert_history",
    unique: ["alert_id"],
    notNull: ["alert_id", "raised_on", "kind", "customer_id", "company_name"],
    accepted: {kind: ["tier_entered", "health_drop", "renewal_at_risk"]},
  },
];

/** Tonight's alerts (raised on the as-of date of marts.build_info), as plain rows. */
export async function tonightsAlerts(conn: DuckDBConnection): Promise<AlertRow[]> {
  return all<AlertRow>(
    conn,
    `SELECT alert_id, CAST(raised_on AS VARCHAR) AS raised_on, CAST(previous_as_of AS VARCHAR) AS previous_as_of, kind, customer_id, company_name, csm_owner,
            plan_tier, risk_tier, previous_risk_tier, risk_score, health_score, previous_health_score, health_colour, arr, arr_at_risk,
            CAST(renewal_date AS VARCHAR) AS renewal_date, days_to_renewal, top_risk_drivers, recommended_action, summary
     FROM marts.alert_history WHERE raised_on = (SELECT as_of FROM marts.build_info) ORDER BY alert_id`,
  );
}

/** One row of marts.alert_history: what a CSM already sees in Customer 360, no contact data. */
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
