/**
 * The nightly refresh (loaders/refresh.ts) against a full build of the same night: the synthetic
 * portfolio as Parquet files, as a source would deliver it. Last night's files are tonight's as
 * they stood the night before (`writeLastNight`: no usage, tickets, payments, changes or sign-ups
 * of tonight, and what was resolved or paid tonight still open), so the accounts with activity
 * tonight change; last night is built in full (as of the day before); then tonight's files are
 * built on top of it twice, as a refresh and with --full-refresh on a copy of last night's folder
 * (so both carry the same CTAs over). Both nights run in processes of their own.
 */
import {cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {parseGenerateArgs, runGenerate} from "../loaders/cli/generate.ts";
import {lit, openWarehouse} from "../loaders/duckdb.ts";
import {childBuild} from "./child-build.ts";

export interface RefreshFigures {
  customers: number;
  site: boolean;
  refresh: {seconds: number; stages: Record<string, number>};
  full: {seconds: number; stages: Record<string, number>};
  /** refresh seconds / full-build seconds of the same night */
  ratio: number;
}

const dayBefore = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/**
 * Each raw table's rows as they stood last night: what was created tonight (the table's first
 * date) is not there yet, and what was closed tonight (a ticket resolved, an invoice paid) was
 * still open, without what closing it brought.
 */
const TONIGHT: Record<string, {created: string; closed?: {column: string; alsoNull: string[]}}> = {
  customers: {created: "signup_date"},
  usage_events: {created: "event_date"},
  support_tickets: {created: "opened_at", closed: {column: "resolved_at", alsoNull: ["csat_score"]}},
  invoices: {created: "issued_date", closed: {column: "paid_date", alsoNull: []}},
  payment_attempts: {created: "attempted_at"},
  nps_responses: {created: "response_date"},
  cs_outreach: {created: "outreach_date"},
  subscription_changes: {created: "change_date"},
  account_risk_signals: {created: "assessed_date"},
  churn_events: {created: "churn_date"},
  cta_history: {created: "created_date"},
  gtm_opportunities: {created: "created_date"},
};

/** Writes into `lastNight` the Parquet files of `tonight` as they stood the night before `asOf`. */
export async function writeLastNight(tonight: string, lastNight: string, asOf: string): Promise<void> {
  const w = await openWarehouse(":memory:");
  try {
    for (const f of readdirSync(tonight)) {
      const t = TONIGHT[f.replace(/\.parquet$/, "")];
      if (!t) throw new Error(`bench/refresh.ts: no rule for last night's ${f}`);
      const on = (c: string) => `coalesce(CAST(${c} AS DATE) = DATE ${lit(asOf)}, false)`;
      const reopened = t.closed
        ? ` REPLACE (${[t.closed.column, ...t.closed.alsoNull].map((c) => `CASE WHEN ${on(t.closed!.column)} THEN NULL ELSE ${c} END AS ${c}`).join(", ")})`
        : "";
      await w.conn.run(
        `COPY (SELECT *${reopened} FROM read_parquet(${lit(join(tonight, f))}) WHERE NOT ${on(t.created)})
         TO ${lit(join(lastNight, f))} (FORMAT parquet)`,
      );
    }
  } finally {
    w.close();
  }
}

export async function benchRefresh(customers: number, asOf: string, site: boolean): Promise<RefreshFigures> {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-bench-refresh-"));
  try {
    const tonight = join(dir, "tonight");
    const lastNight = join(dir, "last-night");
    await runGenerate(
      parseGenerateArgs(["--out", tonight, "--customers", String(customers), "--as-of", asOf, "--format", "parquet"]),
      () => {},
    );
    mkdirSync(lastNight);
    await writeLastNight(tonight, lastNight, asOf);
    const refreshed = join(dir, "refresh");
    mkdirSync(refreshed);
    console.error(`-- last night (${dayBefore(asOf)}), built in full`);
    await childBuild({rawDir: lastNight, asOf: dayBefore(asOf), out: refreshed, site});
    const whole = join(dir, "whole");
    cpSync(refreshed, whole, {recursive: true});
    console.error(`-- tonight (${asOf}), refreshed`);
    const r = await childBuild({rawDir: tonight, asOf, out: refreshed, site});
    console.error(`-- tonight (${asOf}), built in full (--full-refresh)`);
    const f = await childBuild({rawDir: tonight, asOf, out: whole, site, fullRefresh: true});
    return {
      customers,
      site,
      refresh: {seconds: r.seconds, stages: r.stages},
      full: {seconds: f.seconds, stages: f.stages},
      ratio: r.seconds / f.seconds,
    };
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

export function formatRefreshFigures(f: RefreshFigures): string {
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const stages = (s: Record<string, number>) =>
    Object.entries(s)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(", ");
  return [
    `refresh, ${f.customers.toLocaleString("en-US")} customers${f.site ? " (with the site)" : ""}: ${fmt(f.refresh.seconds)} s against a full build's ${fmt(f.full.seconds)} s = ${(f.ratio * 100).toFixed(0)}%`,
    `  refresh: ${stages(f.refresh.stages)}`,
    `  full:    ${stages(f.full.stages)}`,
  ].join("\n");
}
