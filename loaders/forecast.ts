/**
 * The retention forecast: gross and net revenue retention (GRR, NRR) for each of the four
 * calendar quarters from the current one, with 50/80/90% intervals, for the portfolio and by plan
 * tier, industry, company size and CSM; the renewals due; and the accounts that move it most.
 *
 * Churn is simulated account by account from the churn horizon model's probabilities
 * (marts.mart_churn_horizons): in each run every account draws the quarter it churns in (or
 * none). Accounts are not independent in fact — a bad quarter for the economy or the product is
 * bad for many at once — so each run shifts every account's cumulative churn probability by one
 * shared amount on the log-odds scale, δ ~ N(0, τ²), with τ measured on the horizon model's
 * back-test (how much more the churn of its cells — cutoff × plan tier × industry — strayed from
 * their expectation than independent accounts would: method of moments, 0 when no more). Without
 * it the intervals of a large portfolio would be as narrow as pure sampling noise.
 *
 * Expansion and contraction are drawn account by account too, at most one of each in the year
 * (a contraction is lumpy: a small group's quarter has none, or one that takes a fifth of an
 * account): each of the ARR the plan tier's expansions added, and contractions took, over the
 * last year, as a share of the account's ARR; the chance of it in a quarter is the expected ARR
 * over that amount — expected expansion from the expansion model's 90-day probability for the
 * days it covers and the plan tier's expansion rate of the last year after that, contraction from
 * the tier's contraction rate of the last year. An account that churns in a quarter neither
 * expands nor contracts in it. An account keeps tonight's ARR; a churned one stops counting from
 * the quarter after it churns. GRR and NRR are quarterly: of the ARR
 * that starts the quarter, the share kept (GRR, without expansion) and the share kept plus
 * expansion (NRR).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {existsSync} from "node:fs";
import {all, lit, one, run, tableExists, writeTable} from "./duckdb.ts";
import {makeRng} from "./model/rng.ts";
import {
  FORECAST,
  FORECAST_GROUPS,
  FORECAST_HISTORY,
  FORECAST_MOVERS,
  FORECAST_QUANTILES,
  FORECAST_QUARTERS,
  DAYS_PER_YEAR,
  GROUP_UNKNOWN,
  HORIZON_BACKTEST_CELLS,
  HORIZON_MONTHLY,
  MOVERS_PER_QUARTER,
  OUTLOOK_QUARTERS,
} from "./forecast-tables.ts";
import {EXPANSION_SCORES} from "./score-expansion.ts";
import type {MartChecks} from "./quality.ts";

export type ForecastGroup = "portfolio" | (typeof FORECAST_GROUPS)[number];
/** Runs of the Monte Carlo (the intervals' quantiles move by < 0.1 pp between seeds at 2,000). */
export const FORECAST_RUNS = 2_000;
/**
 * Account draws a night's forecast may make: a portfolio of more than 25,000 accounts gets fewer
 * runs (at least FORECAST_MIN_RUNS), so the forecast's time stops growing with the portfolio
 * beyond it (77,654 accounts × 2,000 runs took 27 s).
 */
export const FORECAST_DRAWS = 50_000_000;
export const FORECAST_MIN_RUNS = 500;
export const forecastRuns = (accounts: number): number =>
  Math.max(FORECAST_MIN_RUNS, Math.min(FORECAST_RUNS, Math.floor(FORECAST_DRAWS / Math.max(1, accounts))));

export interface ForecastAccount {
  customer_id: string;
  arr: number;
  groups: Record<(typeof FORECAST_GROUPS)[number], string>;
  /** P(churn in outlook quarter q), q = 1…4 */
  churn: number[];
  /** P(the account expands in quarter q if it is still a customer then), and the ARR one expansion adds */
  expansion: number[];
  expansionArr: number;
  /** P(it contracts in quarter q if still a customer), and the ARR one contraction takes */
  contraction: number[];
  contractionArr: number;
  /** the outlook quarter the account's renewal falls in (null: after the fourth) */
  renewalQuarter: number | null;
}

export interface ForecastCell {
  quarter: number;
  group_kind: ForecastGroup;
  group_value: string;
  accounts: number;
  start_arr: number;
  renewals_due: number;
  renewal_arr_due: number;
  expected_churn_arr: number;
  expected_contraction_arr: number;
  expected_expansion_arr: number;
  grr_expected: number;
  nrr_expected: number;
  /** GRR and NRR at FORECAST_QUANTILES */
  grr: number[];
  nrr: number[];
}

/** Standard normal draws (Box–Muller) from a uniform source. */
function normal(next: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = Math.max(next(), 1e-300);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  const x = q * (sorted.length - 1);
  const lo = Math.floor(x);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (x - lo);
}

/**
 * The Monte Carlo over accounts: `tau` the shared shock's sd on the log-odds scale. Pure (no
 * database), so tests can run it on hand-made portfolios whose truth they know.
 */
export function simulateForecast(
  accounts: readonly ForecastAccount[],
  opts: {tau: number; runs?: number; seed?: number},
): ForecastCell[] {
  const runs = opts.runs ?? FORECAST_RUNS;
  const Q = OUTLOOK_QUARTERS;
  // the groups: 0 is the portfolio
  const keys: {kind: ForecastGroup; value: string}[] = [{kind: "portfolio", value: "all"}];
  const index = new Map<string, number>([["portfolio\u0000all", 0]]);
  const memberOf = accounts.map((a) =>
    Int32Array.from([
      0,
      ...FORECAST_GROUPS.map((g) => {
        const k = `${g}\u0000${a.groups[g]}`;
        let i = index.get(k);
        if (i === undefined) {
          i = keys.length;
          keys.push({kind: g, value: a.groups[g]});
          index.set(k, i);
        }
        return i;
      }),
    ]),
  );
  const G = keys.length;
  const cell = (g: number, q: number) => g * Q + q;
  // the expected values of each group's quarter
  const startArr = new Float64Array(G);
  const expChurn = new Float64Array(G * Q);
  const expContr = new Float64Array(G * Q);
  const expExp = new Float64Array(G * Q);
  const expStart = new Float64Array(G * Q);
  const renewals = new Float64Array(G * Q);
  const renewalArr = new Float64Array(G * Q);
  const accountsIn = new Float64Array(G);
  // each account's cumulative churn probability through quarter q, on the log-odds scale, and
  // the cumulative probabilities of its one expansion and one contraction by quarter q
  const logitThrough = new Float64Array(accounts.length * Q);
  const expandBy = new Float64Array(accounts.length * Q);
  const contractBy = new Float64Array(accounts.length * Q);
  accounts.forEach((a, i) => {
    let through = 0;
    let e = 0;
    let c = 0;
    for (let q = 0; q < Q; q++) {
      const alive = 1 - through;
      through = Math.min(through + a.churn[q]!, 1);
      const t = Math.min(Math.max(through, 1e-12), 1 - 1e-12);
      logitThrough[i * Q + q] = Math.log(t / (1 - t));
      e = Math.min(e + a.expansion[q]!, 1);
      c = Math.min(c + a.contraction[q]!, 1);
      expandBy[i * Q + q] = e;
      contractBy[i * Q + q] = c;
      for (const g of memberOf[i]!) {
        expStart[cell(g, q)] += alive * a.arr;
        expChurn[cell(g, q)] += a.churn[q]! * a.arr;
        // an account that churns in the quarter neither expands nor contracts in it
        expContr[cell(g, q)] += (1 - through) * a.contraction[q]! * a.contractionArr;
        expExp[cell(g, q)] += (1 - through) * a.expansion[q]! * a.expansionArr;
        if (a.renewalQuarter === q + 1) {
          renewals[cell(g, q)] += 1;
          renewalArr[cell(g, q)] += a.arr;
        }
      }
    }
    for (const g of memberOf[i]!) {
      startArr[g] += a.arr;
      accountsIn[g] += 1;
    }
  });
  const rng = makeRng(opts.seed ?? 20261207);
  const gauss = normal(rng.next);
  const grr = new Float64Array(G * Q * runs);
  const nrr = new Float64Array(G * Q * runs);
  const churned = new Float64Array(G * Q);
  const contracted = new Float64Array(G * Q);
  const expanded = new Float64Array(G * Q);
  // the hot loop reads flat typed arrays (a million accounts × 500 runs): each account's groups'
  // first cells, ARR and the ARR one contraction takes or one expansion adds
  const M = memberOf[0]?.length ?? 0;
  const firstCell = new Int32Array(accounts.length * M);
  memberOf.forEach((gs, i) => gs.forEach((g, k) => (firstCell[i * M + k] = cell(g, 0))));
  const arr = Float64Array.from(accounts, (a) => a.arr);
  const contractionArr = Float64Array.from(accounts, (a) => a.contractionArr);
  const expansionArr = Float64Array.from(accounts, (a) => a.expansionArr);
  for (let s = 0; s < runs; s++) {
    churned.fill(0);
    contracted.fill(0);
    expanded.fill(0);
    const delta = opts.tau > 0 ? opts.tau * gauss() : 0;
    for (let i = 0; i < accounts.length; i++) {
      // churns by quarter q when u < sigmoid(logit F(q) + δ), i.e. logit(u) − δ < logit F(q)
      const u = Math.min(Math.max(rng.next(), 1e-12), 1 - 1e-12);
      const x = Math.log(u / (1 - u)) - delta;
      const base = i * Q;
      let qc = 0;
      while (qc < Q && x >= logitThrough[base + qc]!) qc++;
      // the quarter of its one contraction and of its one expansion (Q: none in the outlook)
      const ux = rng.next();
      let qx = 0;
      while (qx < Q && ux >= contractBy[base + qx]!) qx++;
      const ue = rng.next();
      let qe = 0;
      while (qe < Q && ue >= expandBy[base + qe]!) qe++;
      for (let k = i * M, end = k + M; k < end; k++) {
        const c0 = firstCell[k]!;
        if (qc < Q) churned[c0 + qc] += arr[i]!;
        if (qx < qc) contracted[c0 + qx] += contractionArr[i]!;
        if (qe < qc) expanded[c0 + qe] += expansionArr[i]!;
      }
    }
    for (let g = 0; g < G; g++) {
      let lost = 0;
      for (let q = 0; q < Q; q++) {
        const start = startArr[g]! - lost;
        const c = cell(g, q);
        const o = c * runs + s;
        grr[o] = start > 0 ? 1 - (churned[c]! + contracted[c]!) / start : NaN;
        nrr[o] = start > 0 ? 1 - (churned[c]! + contracted[c]! - expanded[c]!) / start : NaN;
        lost += churned[c]!;
      }
    }
  }
  const out: ForecastCell[] = [];
  // a cell's runs, sorted, in a buffer reused cell after cell (thousands of cells)
  const buffer = new Float64Array(runs);
  const quantilesOf = (a: Float64Array, c: number) => {
    let n = 0;
    for (let o = c * runs, end = o + runs; o < end; o++) {
      // a run in which the group has no ARR left at the quarter's start measures no retention
      if (Number.isFinite(a[o]!)) buffer[n++] = a[o]!;
    }
    const sorted = buffer.subarray(0, n).sort();
    return FORECAST_QUANTILES.map((p) => quantile(sorted, p));
  };
  for (let g = 0; g < G; g++)
    for (let q = 0; q < Q; q++) {
      const c = cell(g, q);
      const start = expStart[c]!;
      out.push({
        quarter: q + 1,
        group_kind: keys[g]!.kind,
        group_value: keys[g]!.value,
        accounts: accountsIn[g]!,
        start_arr: start,
        renewals_due: renewals[c]!,
        renewal_arr_due: renewalArr[c]!,
        expected_churn_arr: expChurn[c]!,
        expected_contraction_arr: expContr[c]!,
        expected_expansion_arr: expExp[c]!,
        grr_expected: start > 0 ? 1 - (expChurn[c]! + expContr[c]!) / start : NaN,
        nrr_expected: start > 0 ? 1 - (expChurn[c]! + expContr[c]! - expExp[c]!) / start : NaN,
        grr: quantilesOf(grr, c),
        nrr: quantilesOf(nrr, c),
      });
    }
  return out;
}

/**
 * The accounts of tonight's outlook, with each quarter's churn (the horizon model), expansion
 * and contraction (see the header), and the quarter their renewal falls in.
 */
export interface ForecastInputs {
  /** the accounts' features as of the night (one row each; the forecast's groups come from it) */
  features: string;
  /** their months ahead as HORIZON_MONTHLY holds them */
  monthly: string;
  /** the expansion model's scores (EXPANSION_SCORES), or null: the tier's rate of the last year throughout */
  expansion: string | null;
}

/** Tonight's inputs: the build's features, horizon scores and expansion scores. */
export const TONIGHT: ForecastInputs = {
  features: "SELECT * FROM marts.mart_customer_churn_features",
  monthly: HORIZON_MONTHLY,
  expansion: EXPANSION_SCORES,
};

export async function forecastAccounts(
  conn: DuckDBConnection,
  asOf: string,
  from: ForecastInputs = TONIGHT,
): Promise<ForecastAccount[]> {
  const d = `DATE ${lit(asOf)}`;
  // the days of a quarter the expansion model's 90 days cover (none without the model)
  const modelDays = from.expansion
    ? `greatest(0, least(max(period_through), ${d} + 90) - greatest(min(period_after), ${d}))`
    : "0";
  const rows = await all<{
    customer_id: string;
    arr: number;
    plan_tier: string | null;
    industry: string | null;
    company_size: string | null;
    csm_owner: string | null;
    churn: number[];
    days: number[];
    model_days: number[];
    renewal_quarter: number | null;
    e90: number;
    expansion_amount: number;
    expansion_rate: number;
    contraction_rate: number;
    contraction_share: number;
  }>(
    conn,
    `WITH q AS (
       SELECT customer_id, outlook_quarter AS quarter, sum(churn_in_month) AS churn,
              max(period_through) - min(period_after) AS days,
              ${modelDays} AS model_days, bool_or(renews_in_period) AS renews
       FROM ${from.monthly} WHERE outlook_quarter <= ${OUTLOOK_QUARTERS} GROUP BY ALL
     ),
     per_account AS (
       SELECT customer_id, list(churn ORDER BY quarter) AS churn, list(days ORDER BY quarter) AS days,
              list(model_days ORDER BY quarter) AS model_days, min(quarter) FILTER (WHERE renews) AS renewal_quarter
       FROM q GROUP BY customer_id
     ),
     -- each plan tier's expansion and contraction over the last year, per ARR at its start
     rates AS (
       SELECT c.plan_tier,
              sum(greatest(r.arr_end - r.arr_start, 0)) / nullif(sum(r.arr_start), 0) AS expansion_rate,
              sum(greatest(r.arr_start - r.arr_end, 0)) FILTER (WHERE NOT r.churned) / nullif(sum(r.arr_start), 0) AS contraction_rate,
              -- the ARR one expansion adds and one contraction takes, as a share of the account's
              sum(r.arr_end - r.arr_start) FILTER (WHERE r.arr_end > r.arr_start) / nullif(sum(r.arr_start) FILTER (WHERE r.arr_end > r.arr_start), 0) AS expansion_share,
              sum(r.arr_start - r.arr_end) FILTER (WHERE r.arr_end < r.arr_start AND NOT r.churned)
                / nullif(sum(r.arr_start) FILTER (WHERE r.arr_end < r.arr_start AND NOT r.churned), 0) AS contraction_share
       FROM marts.int_retention_between(${d} - ${DAYS_PER_YEAR}, ${d}) r JOIN raw.customers c USING (customer_id)
       GROUP BY c.plan_tier
     )
     SELECT f.customer_id, f.arr::DOUBLE AS arr, f.plan_tier, f.industry, f.company_size, f.csm_owner,
            a.churn, a.days, a.model_days, a.renewal_quarter,
            ${from.expansion ? "x.expected_expansion_arr" : "0"} AS e90,
            -- the ARR one expansion adds: the model's share of ARR for the tier, or the tier's last year
            ${from.expansion ? "CASE WHEN x.expansion_probability > 0 THEN x.expected_expansion_arr / x.expansion_probability ELSE 0 END" : "coalesce(t.expansion_share, 0) * f.arr"} AS expansion_amount,
            coalesce(t.expansion_rate, 0) AS expansion_rate, coalesce(t.contraction_rate, 0) AS contraction_rate,
            coalesce(t.contraction_share, 0) AS contraction_share
     FROM (${from.features}) f JOIN per_account a USING (customer_id)
     ${from.expansion ? `JOIN ${from.expansion} x USING (customer_id)` : ""} LEFT JOIN rates t USING (plan_tier)
     ORDER BY f.customer_id`,
  );
  return rows.map((r) => {
    const expansionArr = Math.max(0, r.expansion_amount);
    const contractionArr = Math.max(0, r.contraction_share * r.arr);
    // each quarter's chance of the account's expansion and contraction while it is a customer:
    // the expected ARR over the ARR one adds or takes
    const expansion: number[] = [];
    const contraction: number[] = [];
    r.days.forEach((days, q) => {
      const covered = Number(r.model_days[q]);
      const rest = Number(days) - covered;
      // the expansion model for the days it covers, the tier's rate after them
      const e = (covered / 90) * r.e90 + (rest / DAYS_PER_YEAR) * r.expansion_rate * r.arr;
      const c = (Number(days) / DAYS_PER_YEAR) * r.contraction_rate * r.arr;
      expansion.push(expansionArr > 0 ? Math.min(e / expansionArr, 1) : 0);
      contraction.push(contractionArr > 0 ? Math.min(c / contractionArr, 1) : 0);
    });
    return {
      customer_id: r.customer_id,
      arr: r.arr,
      groups: {
        plan_tier: r.plan_tier ?? GROUP_UNKNOWN.plan_tier,
        industry: r.industry ?? GROUP_UNKNOWN.industry,
        company_size: r.company_size ?? GROUP_UNKNOWN.company_size,
        csm_owner: r.csm_owner ?? GROUP_UNKNOWN.csm_owner,
      },
      churn: r.churn.map(Number),
      expansion,
      expansionArr,
      contraction,
      contractionArr,
      renewalQuarter: r.renewal_quarter === null ? null : Number(r.renewal_quarter),
    };
  });
}

/**
 * τ, the sd of the shock all accounts share, from the horizon model's back-test cells (cutoff ×
 * plan tier × industry at 3 months), in ARR as the forecast is. A shared shift δ of the log-odds
 * moves a cell's churned ARR by about δ·Σarr·p(1−p), so E[(observed − expected)² / Σarr²p(1−p)]
 * = 1 + τ²·(Σarr·p(1−p))² / Σarr²p(1−p): summed over the cells, a method of moments in which each
 * cell counts by its own noise. In ARR, not accounts: what strays is the large accounts' churn;
 * and standardised, as summing the raw squares let one cell of a few large accounts decide τ (on
 * the default data it gave 0 tonight and 0.4–0.95 at the back-filled quarters).
 */
export async function sharedShock(
  conn: DuckDBConnection,
  cells: string = HORIZON_BACKTEST_CELLS,
): Promise<{tau: number; cells: number}> {
  const r = await one<{excess: number | null; scale: number | null; cells: number}>(
    conn,
    `SELECT sum(power(observed_arr_musd - expected_arr_musd, 2) / arr_variance_musd2 - 1) AS excess,
            sum(power(arr_slope_musd, 2) / arr_variance_musd2) AS scale,
            count(*)::INTEGER AS cells
     FROM ${cells} WHERE arr_variance_musd2 > 0`,
  );
  const tau = r.excess !== null && r.scale ? Math.sqrt(Math.max(0, r.excess / r.scale)) : 0;
  return {tau, cells: r.cells};
}

/** The quarters of a forecast made from `monthly` (HORIZON_MONTHLY's shape), with its runs and shared shock. */
export function forecastQuartersSql(monthly: string, runs: number, tau: number): string {
  return `SELECT outlook_quarter AS quarter, year(max(period_through)) || '-Q' || quarter(max(period_through)) AS label,
            min(period_after) + 1 AS first_day, max(period_through) AS last_day, ${runs} AS runs, ${tau}::DOUBLE AS tau
     FROM ${monthly} WHERE outlook_quarter <= ${OUTLOOK_QUARTERS} GROUP BY ALL ORDER BY quarter`;
}

/** Writes the forecast's cells to `table` (FORECAST's columns). */
export async function writeForecastCells(
  conn: DuckDBConnection,
  table: `${string}.${string}`,
  cells: readonly ForecastCell[],
): Promise<void> {
  const q = FORECAST_QUANTILES.map((p) => String(Math.round(p * 100)).padStart(2, "0"));
  const columns = {
    quarter: "INTEGER",
    group_kind: "VARCHAR",
    group_value: "VARCHAR",
    accounts: "INTEGER",
    start_arr: "DOUBLE",
    renewals_due: "INTEGER",
    renewal_arr_due: "DOUBLE",
    expected_churn_arr: "DOUBLE",
    expected_contraction_arr: "DOUBLE",
    expected_expansion_arr: "DOUBLE",
    grr_expected: "DOUBLE",
    nrr_expected: "DOUBLE",
    ...Object.fromEntries(q.map((p) => [`grr_p${p}`, "DOUBLE"])),
    ...Object.fromEntries(q.map((p) => [`nrr_p${p}`, "DOUBLE"])),
  } as const;
  await writeTable(
    conn,
    table,
    columns,
    cells.map((c) =>
      [
        c.quarter,
        c.group_kind,
        c.group_value,
        c.accounts,
        c.start_arr,
        c.renewals_due,
        c.renewal_arr_due,
        c.expected_churn_arr,
        c.expected_contraction_arr,
        c.expected_expansion_arr,
        c.grr_expected,
        c.nrr_expected,
        ...c.grr,
        ...c.nrr,
      ].map((v) => (typeof v === "number" && Number.isNaN(v) ? null : v)),
    ),
  );
}

/**
 * Writes FORECAST_QUARTERS, FORECAST (quarter × group: renewals due, start ARR, expected churn,
 * contraction and expansion, GRR and NRR expected and at FORECAST_QUANTILES) and FORECAST_MOVERS.
 */
export async function writeForecast(
  conn: DuckDBConnection,
  asOf: string,
  log: (m: string) => void,
  previousWarehouse: string | null = null,
): Promise<{cells: number; tau: number}> {
  const t0 = performance.now();
  const accounts = await forecastAccounts(conn, asOf);
  if (!accounts.length) log("retention forecast: no churn horizon scores tonight, so no forecast");
  const {tau, cells: btCells} = await sharedShock(conn);
  const runs = forecastRuns(accounts.length);
  const cells = accounts.length ? simulateForecast(accounts, {tau, runs}) : [];
  await run(conn, `CREATE OR REPLACE TABLE ${FORECAST_QUARTERS} AS ${forecastQuartersSql(HORIZON_MONTHLY, runs, tau)}`);
  await writeForecastCells(conn, FORECAST, cells);
  // the accounts that move each quarter most: the largest expected churned ARR, with each one's
  // share of the quarter's churn variance (ARR² · p(1 − p)): what a CSM's call on it would change
  const movers: (string | number)[][] = [];
  for (let k = 0; k < OUTLOOK_QUARTERS; k++) {
    const v = (a: ForecastAccount) => a.arr * a.arr * a.churn[k]! * (1 - a.churn[k]!);
    const total = accounts.reduce((s, a) => s + v(a), 0);
    [...accounts]
      .sort((a, b) => b.arr * b.churn[k]! - a.arr * a.churn[k]! || (a.customer_id < b.customer_id ? -1 : 1))
      .slice(0, MOVERS_PER_QUARTER)
      .forEach((a, i) =>
        movers.push([
          k + 1,
          i + 1,
          a.customer_id,
          a.arr,
          a.churn[k]!,
          a.arr * a.churn[k]!,
          total > 0 ? v(a) / total : 0,
        ]),
      );
  }
  await writeTable(
    conn,
    FORECAST_MOVERS,
    {
      quarter: "INTEGER",
      rank: "INTEGER",
      customer_id: "VARCHAR",
      arr: "DOUBLE",
      churn_probability: "DOUBLE",
      expected_churn_arr: "DOUBLE",
      variance_share: "DOUBLE",
    },
    movers,
  );
  const kept = await recordForecast(conn, asOf, previousWarehouse);
  log(`forecast history: tonight's forecast kept beside those of ${kept} earlier night(s)`);
  log(
    `retention forecast: ${OUTLOOK_QUARTERS} quarters × ${cells.length / OUTLOOK_QUARTERS} groups, ${runs.toLocaleString("en-US")} runs over ${accounts.length.toLocaleString("en-US")} accounts (shared shock τ = ${tau.toFixed(3)} from ${btCells} back-test cells) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return {cells: cells.length, tau};
}

/**
 * FORECAST_HISTORY: the previous warehouse's forecasts made before tonight (a rebuild of the same
 * night replaces its own; a backfill of an older date inherits nothing from after it), and
 * tonight's, with the quarter each cell is about. Once a quarter has closed, what was forecast for
 * it can be set against what happened. Returns the number of earlier nights kept.
 */
async function recordForecast(conn: DuckDBConnection, asOf: string, previousWarehouse: string | null): Promise<number> {
  const alias = "saasguard_previous_forecast";
  const tonight = `SELECT DATE ${lit(asOf)} AS made_on, q.label AS quarter_label, q.first_day, q.last_day, f.*, q.runs, q.tau,
      false AS backfilled, 1 AS sample_modulus
    FROM ${FORECAST} f JOIN ${FORECAST_QUARTERS} q USING (quarter)`;
  let earlier = false;
  if (previousWarehouse && existsSync(previousWarehouse)) {
    try {
      await run(conn, `ATTACH ${lit(previousWarehouse)} AS ${alias} (READ_ONLY)`);
    } catch (e) {
      // never silently drop the record of what was forecast (as the CTA carry-over does not)
      throw new Error(
        `cannot read the previous warehouse ${previousWarehouse} for the forecast history: ${(e as Error).message}. ` +
          `Move the file away to start the forecast, CTA and alert history afresh.`,
      );
    }
    earlier = await tableExists(conn, alias, FORECAST_HISTORY);
  }
  try {
    await run(
      conn,
      `CREATE OR REPLACE TABLE ${FORECAST_HISTORY} AS
       ${earlier ? `SELECT * FROM ${alias}.${FORECAST_HISTORY} WHERE made_on < DATE ${lit(asOf)} UNION ALL BY NAME` : ""}
       ${tonight}`,
    );
  } finally {
    if (previousWarehouse && existsSync(previousWarehouse)) await run(conn, `DETACH ${alias}`);
  }
  return (
    await one<{n: number}>(
      conn,
      `SELECT count(DISTINCT made_on)::INTEGER AS n FROM ${FORECAST_HISTORY} WHERE made_on < DATE ${lit(asOf)}`,
    )
  ).n;
}

/** Data-quality checks of the tables written here (loaders/quality.ts runs them with the marts'). */
export const FORECAST_TABLE_CHECKS: readonly MartChecks[] = [
  {
    table: FORECAST,
    unique: ["quarter", "group_kind", "group_value"],
    // GRR and NRR are null for a group with no ARR at the quarter's start
    notNull: ["quarter", "group_kind", "group_value", "start_arr"],
    ranges: {
      quarter: [1, OUTLOOK_QUARTERS],
      grr_expected: [0, 1],
      grr_p05: [0, 1],
      grr_p95: [0, 1],
      start_arr: [0, null],
    },
  },
  {
    table: FORECAST_MOVERS,
    unique: ["quarter", "rank"],
    notNull: ["quarter", "rank", "customer_id", "churn_probability", "expected_churn_arr"],
    ranges: {churn_probability: [0, 1], variance_share: [0, 1]},
  },
  {
    table: FORECAST_HISTORY,
    unique: ["made_on", "quarter", "group_kind", "group_value"],
    notNull: ["made_on", "quarter_label", "quarter", "group_kind", "group_value", "start_arr"],
  },
];
