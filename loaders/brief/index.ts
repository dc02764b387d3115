/**
 * The executive brief of the nightly build: what changed in the portfolio since the previous
 * build and since the last weekly digest — accounts that entered Critical/High risk, ARR at risk
 * moved, the biggest movers, renewals entering the renewal window — as facts in SQL
 * (loaders/sql/mart_brief_baselines.sql … mart_brief_digests.sql) and as text written by the
 * built-in generator or the language model (writer.ts).
 *
 * Like the CTA carry-over (loaders/cta.ts), it reads the PREVIOUS warehouse (attached READ_ONLY,
 * copied into temporary tables prev_brief_*, detached before any text is written) and writes
 * only into the new one, so a failed build changes nothing. The executive overview shows the
 * brief (src/data/portfolio_brief.json.ts); loaders/alerts/enqueue.ts sends tonight's weekly
 * digest (marts.mart_brief_digests) to the alert targets.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {listValue} from "@duckdb/node-api";
import {existsSync} from "node:fs";
import {briefRenewalWindowDays, config} from "../../src/rules/config.ts";
import type {LlmClient} from "../../server/api/summaries/llm.ts";
import {lit, one, run, setVariables, tableExists} from "../duckdb.ts";
import {loadRules, runSteps, type MartTiming} from "../marts.ts";
import {readBriefInputs, type BriefPeriod} from "./facts.ts";
import {writeBrief, type WrittenBrief} from "./writer.ts";

export interface PortfolioBriefOptions {
  /** the warehouse of the previous build; ignored when the file does not exist */
  previousWarehouse: string | null;
  /** the as-of date (YYYY-MM-DD) of the build being made */
  asOf: string;
  /** the language model (writer.ts briefLlmFromEnv); null: the built-in generator writes */
  llm?: LlmClient | null;
  log?: (msg: string) => void;
}

export interface PortfolioBriefResult {
  /** the as-of date compared with, per period (null: nothing to compare with) */
  baselines: Record<BriefPeriod, string | null>;
  briefs: Record<BriefPeriod, WrittenBrief>;
  /** a weekly digest was raised tonight (loaders/alerts sends it) */
  digestRaised: boolean;
  marts: MartTiming[];
}

/** What the brief reads from the previous build, and the same shape empty when there is none. */
const PREVIOUS: Record<string, {source: string; columns: string; empty: string}> = {
  prev_brief_scores: {
    source: "marts.mart_customer_risk_scores",
    columns: "customer_id, risk_tier, risk_score, health_score, arr, arr_at_risk, days_to_renewal",
    empty:
      "customer_id VARCHAR, risk_tier VARCHAR, risk_score DOUBLE, health_score DOUBLE, arr DOUBLE, arr_at_risk DOUBLE, days_to_renewal INTEGER",
  },
  prev_brief_baselines: {
    source: "marts.mart_brief_baselines",
    columns:
      "period, baseline_as_of, customer_id, risk_tier, risk_score, health_score, arr, arr_at_risk, days_to_renewal",
    empty:
      "period VARCHAR, baseline_as_of DATE, customer_id VARCHAR, risk_tier VARCHAR, risk_score DOUBLE, health_score DOUBLE, arr DOUBLE, arr_at_risk DOUBLE, days_to_renewal INTEGER",
  },
  prev_brief_digests: {
    source: "marts.mart_brief_digests",
    columns:
      "digest_id, as_of_date, baseline_as_of, headline, summary, key_points, recommended_actions, text, generator, watermark, accounts, arr_at_risk, arr_at_risk_change, entered_at_risk_accounts, renewals_entering",
    empty:
      "digest_id VARCHAR, as_of_date DATE, baseline_as_of DATE, headline VARCHAR, summary VARCHAR, key_points VARCHAR[], recommended_actions VARCHAR[], text VARCHAR, generator VARCHAR, watermark VARCHAR, accounts BIGINT, arr_at_risk DOUBLE, arr_at_risk_change DOUBLE, entered_at_risk_accounts BIGINT, renewals_entering BIGINT",
  },
};

/**
 * Copies what the brief needs from the previous warehouse into temporary tables; returns its
 * as-of date, or null when there is no usable previous build (none, unreadable as a warehouse of
 * this kind, or a later date than tonight's: a backfill starts the brief afresh).
 */
async function readPrevious(
  conn: DuckDBConnection,
  previous: string | null,
  asOf: string,
  log: (msg: string) => void,
): Promise<string | null> {
  const alias = "saasguard_brief_previous";
  let previousAsOf: string | null = null;
  let attached = false;
  try {
    if (previous && existsSync(previous)) {
      await run(conn, `ATTACH ${lit(previous)} AS ${alias} (READ_ONLY)`);
      attached = true;
      if (await tableExists(conn, alias, "marts.build_info")) {
        const info = await one<{as_of: string}>(
          conn,
          `SELECT CAST(as_of AS VARCHAR) AS as_of FROM ${alias}.marts.build_info`,
        );
        if (info.as_of <= asOf) previousAsOf = info.as_of;
        else log(`previous warehouse is as of ${info.as_of}, after ${asOf}: the brief starts afresh for this backfill`);
      }
    }
    for (const [table, spec] of Object.entries(PREVIOUS)) {
      const from = previousAsOf !== null && (await tableExists(conn, alias, spec.source));
      await run(
        conn,
        from
          ? `CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${spec.columns} FROM ${alias}.${spec.source}`
          : `CREATE OR REPLACE TEMP TABLE ${table} (${spec.empty})`,
      );
    }
  } finally {
    if (attached) await run(conn, `DETACH ${alias}`);
  }
  return previousAsOf;
}

/** Writes a period's brief into its row of marts.mart_portfolio_brief. */
async function storeBrief(conn: DuckDBConnection, period: BriefPeriod, b: WrittenBrief): Promise<void> {
  await conn.run(
    `UPDATE marts.mart_portfolio_brief
     SET headline = $headline, summary = $summary, key_points = $key_points::VARCHAR[], recommended_actions = $actions::VARCHAR[],
         text = $text, generator = $generator, llm_model = $llm_model, guardrail_passed = $passed, fallback_reason = $reason,
         watermark = $watermark
     WHERE period = $period`,
    {
      headline: b.headline,
      summary: b.summary,
      key_points: listValue(b.key_points),
      actions: listValue(b.recommended_actions),
      text: b.text,
      generator: b.generator,
      llm_model: b.llm_model,
      passed: b.guardrail_passed,
      reason: b.fallback_reason,
      watermark: b.watermark,
      period,
    },
  );
}

/**
 * Builds tonight's brief into the (temporary) warehouse: the facts, the text of each period and
 * the weekly digest when one is due. Needs marts.mart_customer_risk_scores and the features.
 */
export async function writePortfolioBrief(
  conn: DuckDBConnection,
  opts: PortfolioBriefOptions,
): Promise<PortfolioBriefResult> {
  const log = opts.log ?? (() => undefined);
  await loadRules(conn, opts.asOf);
  const previousAsOf = await readPrevious(conn, opts.previousWarehouse, opts.asOf, log);
  await setVariables(conn, {
    brief_previous_as_of: {date: previousAsOf},
    brief_renewal_window_days: briefRenewalWindowDays(),
    brief_movers: config.brief.movers,
    brief_list_accounts: config.brief.listAccounts,
    brief_digest_weekday: config.brief.digestWeekday,
  });
  const marts = await runSteps(conn, [
    "mart_brief_baselines",
    "int_brief_comparison",
    "mart_portfolio_brief",
    "mart_portfolio_brief_accounts",
  ]);
  const inputs = await readBriefInputs(conn);
  const briefs = {} as Record<BriefPeriod, WrittenBrief>;
  const baselines = {} as Record<BriefPeriod, string | null>;
  for (const input of inputs) {
    const b = await writeBrief(input, opts.llm ?? null, log);
    await storeBrief(conn, input.facts.period, b);
    briefs[input.facts.period] = b;
    baselines[input.facts.period] = input.facts.baseline_as_of;
  }
  marts.push(...(await runSteps(conn, ["mart_brief_digests"])));
  await run(
    conn,
    "DROP TABLE int_brief_comparison; DROP TABLE prev_brief_scores; DROP TABLE prev_brief_baselines; DROP TABLE prev_brief_digests",
  );
  const digestRaised = inputs.some((i) => i.digestDue);
  const b = briefs.build;
  log(
    `brief ${baselines.build ? `since the build of ${baselines.build}` : "of a first build (nothing to compare with)"}, written by the ${b.generator === "llm" ? `language model (${b.llm_model})` : "built-in generator"}` +
      `${b.fallback_reason ? ` after the model's failed (${b.fallback_reason})` : ""}; ` +
      (digestRaised ? `weekly digest raised (since ${baselines.week})` : "no weekly digest due tonight"),
  );
  return {baselines, briefs, digestRaised, marts};
}
