/**
 * The executive brief's facts: what marts.mart_portfolio_brief and
 * marts.mart_portfolio_brief_accounts hold for one period, as the JSON the generators write from.
 *
 * Accounts appear in the facts only as tokens (`acct_1`, `acct_2` … numbered within one brief):
 * the language model never sees a company name or a customer id, and the built-in generator
 * writes from the very same facts, so both texts go through the same checks. `restoreNames`
 * puts the names back into the finished text — the executive overview and the digest are
 * internal, and a brief that says "acct_3" is of no use to an executive.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {config, RISK_TIERS, type RiskTier} from "../../src/rules/config.ts";
import {healthComponentLabel} from "../../src/rules/labels.ts";
import {formatDate} from "../../src/components/format.ts";
import {all} from "../duckdb.ts";
import type {BRIEF_LISTS, BRIEF_PERIODS} from "../sql/steps.ts";

export type BriefPeriod = (typeof BRIEF_PERIODS)[number];
export type BriefList = (typeof BRIEF_LISTS)[number];

/** One named account, as the brief may describe it. */
export interface AccountFact {
  /** the account's token in this brief: `acct_<n>` */
  account: string;
  risk_tier: RiskTier;
  /** null: the account was not scored then (new to the portfolio) */
  previous_risk_tier: RiskTier | null;
  health_score: number;
  previous_health_score: number | null;
  arr: number;
  /** null: not in the portfolio then */
  previous_arr: number | null;
  arr_at_risk: number;
  /** whole dollars, positive when the account got riskier */
  arr_at_risk_change: number | null;
  days_to_renewal: number;
  renewal_date: string;
  renewal_date_label: string;
  has_open_renewal_opportunity: boolean;
  /** the health component that cost the most points, in plain words (src/rules/labels.ts) */
  main_driver: string | null;
}

/** What changed against the baseline (absent on a first build). */
export interface BriefChange {
  baseline_accounts: number;
  baseline_arr_at_risk: number;
  baseline_at_risk_accounts: number;
  /** arr_at_risk − baseline_arr_at_risk, whole dollars */
  arr_at_risk_change: number;
  entered_at_risk_accounts: number;
  /** riskiest tier first */
  entered_by_tier: {tier: RiskTier; accounts: number}[];
  entered_at_risk_arr: number;
  left_at_risk_accounts: number;
  joined_accounts: number;
  left_accounts: number;
  left_arr: number;
  renewals_entering: number;
  renewals_entering_arr: number;
  renewals_entering_at_risk: number;
  renewals_entering_without_opportunity: number;
  accounts_worse: number;
  accounts_better: number;
  entered_at_risk: AccountFact[];
  worsened: AccountFact[];
  improved: AccountFact[];
  renewal_window: AccountFact[];
}

export interface BriefFacts {
  period: BriefPeriod;
  /** what the period is, in words (the generators say it; the guardrail reads its words as facts) */
  period_label: string;
  as_of: string;
  as_of_label: string;
  baseline_as_of: string | null;
  baseline_label: string | null;
  days_covered: number | null;
  /** the tiers that count as at risk (config.atRiskTiers), riskiest first */
  at_risk_tiers: RiskTier[];
  accounts: number;
  total_arr: number;
  arr_at_risk: number;
  at_risk_accounts: number;
  at_risk_arr: number;
  renewal_window_days: number;
  renewals_in_window: number;
  renewals_in_window_arr: number;
  /** null on a first build (or a backfill): nothing to compare with */
  change: BriefChange | null;
}

/** What the warehouse says about one period, with the names the tokens stand for. */
export interface BriefInput {
  facts: BriefFacts;
  /** token → company name */
  names: Map<string, string>;
  /** token → customer id (for the prompt's PII scan) */
  ids: Map<string, string>;
  digestDue: boolean;
}

interface BriefRow {
  period: BriefPeriod;
  as_of_date: string;
  baseline_as_of: string | null;
  days_covered: number | null;
  accounts: number;
  total_arr: number;
  arr_at_risk: number;
  at_risk_accounts: number;
  at_risk_arr: number;
  renewal_window_days: number;
  renewals_in_window: number;
  renewals_in_window_arr: number;
  baseline_accounts: number | null;
  baseline_arr_at_risk: number | null;
  baseline_at_risk_accounts: number | null;
  arr_at_risk_change: number | null;
  entered_at_risk_accounts: number | null;
  entered_by_tier_json: string;
  entered_at_risk_arr: number | null;
  left_at_risk_accounts: number | null;
  joined_accounts: number | null;
  left_accounts: number | null;
  left_arr: number | null;
  renewals_entering: number | null;
  renewals_entering_arr: number | null;
  renewals_entering_at_risk: number | null;
  renewals_entering_without_opportunity: number | null;
  accounts_worse: number | null;
  accounts_better: number | null;
  digest_due: boolean;
}

interface AccountRow {
  period: BriefPeriod;
  list: BriefList;
  rank: number;
  customer_id: string;
  company_name: string;
  risk_tier: RiskTier;
  baseline_risk_tier: RiskTier | null;
  health_score: number;
  baseline_health_score: number | null;
  arr: number;
  baseline_arr: number | null;
  arr_at_risk: number;
  arr_at_risk_change: number | null;
  days_to_renewal: number;
  renewal_date: string;
  has_open_renewal_opp: boolean;
  top_risk_drivers: string | null;
}

/** "Usage trend (last 30d vs prior 60d)" → "usage trend": a label as it reads inside a sentence. */
export function driverPhrase(componentId: string): string {
  const label = healthComponentLabel(componentId).replace(/\s*\([^)]*\)\s*$/, "");
  // keep acronyms ("CSAT", "NPS") as they are
  return /^[A-Z][a-z]/.test(label) ? label[0]!.toLowerCase() + label.slice(1) : label;
}

const riskiest = (tiers: readonly RiskTier[]): RiskTier[] =>
  [...tiers].sort((a, b) => RISK_TIERS.indexOf(a) - RISK_TIERS.indexOf(b));

/** Reads the brief's facts of every period from a warehouse whose brief steps have run. */
export async function readBriefInputs(conn: DuckDBConnection): Promise<BriefInput[]> {
  const rows = await all<BriefRow>(
    conn,
    `SELECT period, CAST(as_of_date AS VARCHAR) AS as_of_date, CAST(baseline_as_of AS VARCHAR) AS baseline_as_of, days_covered,
            accounts, total_arr, arr_at_risk, at_risk_accounts, at_risk_arr, renewal_window_days, renewals_in_window, renewals_in_window_arr,
            baseline_accounts, baseline_arr_at_risk, baseline_at_risk_accounts, arr_at_risk_change, entered_at_risk_accounts,
            CAST(to_json(entered_by_tier) AS VARCHAR) AS entered_by_tier_json, entered_at_risk_arr, left_at_risk_accounts,
            joined_accounts, left_accounts, left_arr, renewals_entering, renewals_entering_arr, renewals_entering_at_risk,
            renewals_entering_without_opportunity, accounts_worse, accounts_better, digest_due
     FROM marts.mart_portfolio_brief ORDER BY period_order`,
  );
  const accounts = await all<AccountRow>(
    conn,
    `SELECT period, list, rank, customer_id, company_name, risk_tier, baseline_risk_tier, health_score, baseline_health_score, arr, baseline_arr,
            arr_at_risk, arr_at_risk_change, days_to_renewal, CAST(renewal_date AS VARCHAR) AS renewal_date, has_open_renewal_opp,
            top_risk_drivers
     FROM marts.mart_portfolio_brief_accounts ORDER BY period, list, rank`,
  );
  return rows.map((r) =>
    briefInputOf(
      r,
      accounts.filter((a) => a.period === r.period),
    ),
  );
}

function briefInputOf(r: BriefRow, accounts: AccountRow[]): BriefInput {
  const names = new Map<string, string>();
  const ids = new Map<string, string>();
  const tokenOf = new Map<string, string>();
  const token = (a: AccountRow): string => {
    let t = tokenOf.get(a.customer_id);
    if (!t) {
      t = `acct_${tokenOf.size + 1}`;
      tokenOf.set(a.customer_id, t);
      names.set(t, a.company_name);
      ids.set(t, a.customer_id);
    }
    return t;
  };
  const fact = (a: AccountRow): AccountFact => {
    const driver = a.top_risk_drivers?.split(",")[0]?.trim() || null;
    return {
      account: token(a),
      risk_tier: a.risk_tier,
      previous_risk_tier: a.baseline_risk_tier,
      health_score: a.health_score,
      previous_health_score: a.baseline_health_score,
      arr: Math.round(a.arr),
      previous_arr: a.baseline_arr === null ? null : Math.round(a.baseline_arr),
      arr_at_risk: a.arr_at_risk,
      arr_at_risk_change: a.arr_at_risk_change,
      days_to_renewal: a.days_to_renewal,
      renewal_date: a.renewal_date,
      renewal_date_label: formatDate(a.renewal_date),
      has_open_renewal_opportunity: a.has_open_renewal_opp,
      main_driver: driver ? driverPhrase(driver) : null,
    };
  };
  const list = (l: BriefList) => accounts.filter((a) => a.list === l).map(fact);
  const entered = JSON.parse(r.entered_by_tier_json) as {tier: RiskTier; accounts: number}[];
  const change: BriefChange | null =
    r.baseline_as_of === null
      ? null
      : {
          baseline_accounts: r.baseline_accounts!,
          baseline_arr_at_risk: r.baseline_arr_at_risk!,
          baseline_at_risk_accounts: r.baseline_at_risk_accounts!,
          arr_at_risk_change: r.arr_at_risk_change!,
          entered_at_risk_accounts: r.entered_at_risk_accounts!,
          entered_by_tier: entered,
          entered_at_risk_arr: r.entered_at_risk_arr!,
          left_at_risk_accounts: r.left_at_risk_accounts!,
          joined_accounts: r.joined_accounts!,
          left_accounts: r.left_accounts!,
          left_arr: r.left_arr!,
          renewals_entering: r.renewals_entering!,
          renewals_entering_arr: r.renewals_entering_arr!,
          renewals_entering_at_risk: r.renewals_entering_at_risk!,
          renewals_entering_without_opportunity: r.renewals_entering_without_opportunity!,
          accounts_worse: r.accounts_worse!,
          accounts_better: r.accounts_better!,
          entered_at_risk: list("entered_at_risk"),
          worsened: list("worsened"),
          improved: list("improved"),
          renewal_window: list("renewal_window"),
        };
  const atRisk = riskiest(config.atRiskTiers);
  const facts: BriefFacts = {
    period: r.period,
    period_label: r.period === "build" ? "since the previous build" : "since the last weekly digest",
    as_of: r.as_of_date,
    as_of_label: formatDate(r.as_of_date),
    baseline_as_of: r.baseline_as_of,
    baseline_label: r.baseline_as_of ? formatDate(r.baseline_as_of) : null,
    days_covered: r.days_covered,
    at_risk_tiers: atRisk,
    accounts: r.accounts,
    total_arr: r.total_arr,
    arr_at_risk: r.arr_at_risk,
    at_risk_accounts: r.at_risk_accounts,
    at_risk_arr: r.at_risk_arr,
    renewal_window_days: r.renewal_window_days,
    renewals_in_window: r.renewals_in_window,
    renewals_in_window_arr: r.renewals_in_window_arr,
    change,
  };
  return {facts, names, ids, digestDue: r.digest_due};
}

/** Puts the company names back in place of the tokens (longest token first: acct_12 before acct_1). */
export function restoreNames(text: string, names: ReadonlyMap<string, string>): string {
  const tokens = [...names.keys()].sort((a, b) => b.length - a.length);
  if (!tokens.length) return text;
  const re = new RegExp(`\\b(${tokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})\\b`, "g");
  return text.replace(re, (t) => names.get(t) ?? t);
}
