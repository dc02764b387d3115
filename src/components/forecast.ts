/**
 * Renewal forecast page: GRR and NRR per outlook quarter with their 50/80/90% intervals
 * (src/data/forecast.json, loaders/forecast.ts), the cut by plan tier, industry, company size or
 * CSM, the accounts that move each quarter most, the churn horizon model's back-test, and the
 * forecast's record on closed quarters (loaders/forecast-record.ts).
 */
import * as Plot from "npm:@observablehq/plot";
import * as Inputs from "npm:@observablehq/inputs";
import {html} from "npm:htl";
import {ACCENT, INK, MIN_WIDTH, MUTED, PLOT_STYLE} from "./theme.js";
import {formatInt, formatPercent, formatUsdCompact} from "./format.js";
import type {LiveApi} from "./live-api.js";
import {apiKeyInput} from "./cta-work.js";
import {emptyState} from "./ui.js";

export type Metric = "grr" | "nrr";
export type Breakdown = "plan_tier" | "industry" | "company_size" | "csm_owner";
export const METRIC_LABELS: Record<Metric, string> = {grr: "Gross revenue retention", nrr: "Net revenue retention"};
export const BREAKDOWN_LABELS: Record<Breakdown, string> = {
  plan_tier: "Plan tier",
  industry: "Industry",
  company_size: "Company size",
  csm_owner: "CSM",
};

export interface Quarter {
  quarter: number;
  label: string;
  first_day: string;
  last_day: string;
}

export interface ForecastCell {
  quarter: number;
  group_kind: string;
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
  [quantile: string]: number | string;
}

export interface Mover {
  quarter: number;
  rank: number;
  customer_id: string;
  company_name: string;
  plan_tier: string;
  csm_owner: string | null;
  arr: number;
  churn_probability: number;
  expected_churn_arr: number;
  variance_share: number;
  churn_before_renewal: number;
  renewal_date: string;
}

/** A cell's value at a quantile of the Monte Carlo (5, 10, 25, 50, 75, 90, 95). */
export const at = (c: Readonly<Record<string, unknown>>, metric: Metric, p: number): number =>
  c[`${metric}_p${String(p).padStart(2, "0")}`] as number;

/** "97.3% (95.8–98.1)": the median and the 80% interval. */
export function withInterval(c: ForecastCell, metric: Metric): string {
  // null for a group with no ARR at the quarter's start
  if (typeof at(c, metric, 50) !== "number") return "—";
  return `${formatPercent(at(c, metric, 50))} (${formatPercent(at(c, metric, 10))}–${formatPercent(at(c, metric, 90))})`;
}

type Quantiles = Record<"p05" | "p10" | "p25" | "p50" | "p75" | "p90" | "p95", number>;

/** A cell's FORECAST_QUANTILES (5, 10, 25, 50, 75, 90, 95) from a getter by percentile. */
const quantiles = (get: (p: number) => number): Quantiles => ({
  p05: get(5),
  p10: get(10),
  p25: get(25),
  p50: get(50),
  p75: get(75),
  p90: get(90),
  p95: get(95),
});

/** The frame of a chart of quarters (x) against a retention metric (y). */
const quarterFrame = (rows: readonly {quarter: string}[], metric: Metric, width: number, height: number) => ({
  width: Math.max(width, MIN_WIDTH),
  height,
  marginLeft: 60,
  style: PLOT_STYLE,
  x: {label: null, domain: rows.map((r) => r.quarter), padding: 0.4},
  y: {label: `${METRIC_LABELS[metric]} in the quarter`, tickFormat: "%", grid: true, zero: false},
});

/** The 90, 80 and 50% intervals as nested bars, one per quarter. */
const intervalBars = (rows: readonly (Quantiles & {quarter: string})[]) => [
  Plot.barY(rows, {x: "quarter", y1: "p05", y2: "p95", fill: ACCENT, fillOpacity: 0.15, inset: 8}),
  Plot.barY(rows, {x: "quarter", y1: "p10", y2: "p90", fill: ACCENT, fillOpacity: 0.25, inset: 14}),
  Plot.barY(rows, {x: "quarter", y1: "p25", y2: "p75", fill: ACCENT, fillOpacity: 0.45, inset: 20}),
];

/** The portfolio's metric per quarter: the 90, 80 and 50% intervals as nested bars, the median as a tick. */
export function forecastChart(
  cells: readonly ForecastCell[],
  quarters: readonly Quarter[],
  {metric, width}: {metric: Metric; width: number},
): SVGSVGElement | HTMLElement {
  const label = new Map(quarters.map((q) => [q.quarter, q.label]));
  const rows = cells
    .filter((c) => c.group_kind === "portfolio")
    .map((c) => ({
      quarter: label.get(c.quarter) ?? String(c.quarter),
      ...quantiles((p) => at(c, metric, p)),
      expected: metric === "grr" ? c.grr_expected : c.nrr_expected,
    }));
  return Plot.plot({
    ...quarterFrame(rows, metric, width, 320),
    marks: [
      ...intervalBars(rows),
      Plot.tickY(rows, {x: "quarter", y: "p50", stroke: INK, strokeWidth: 2}),
      ...(metric === "nrr" ? [Plot.ruleY([1], {stroke: MUTED, strokeDasharray: "4,3"})] : []),
      Plot.tip(
        rows,
        Plot.pointerX({
          x: "quarter",
          y: "p50",
          title: (r: (typeof rows)[number]) =>
            `${r.quarter}\nmedian ${formatPercent(r.p50)} · expected ${formatPercent(r.expected)}\n50%: ${formatPercent(r.p25)}–${formatPercent(r.p75)}\n80%: ${formatPercent(r.p10)}–${formatPercent(r.p90)}\n90%: ${formatPercent(r.p05)}–${formatPercent(r.p95)}`,
        }),
      ),
    ],
  });
}

/** The portfolio per quarter: renewals due, the ARR at stake and both retention figures with their 80% intervals (the chart shows the others). */
export function quarterTable(cells: readonly ForecastCell[], quarters: readonly Quarter[]): HTMLElement {
  const byQ = new Map(cells.filter((c) => c.group_kind === "portfolio").map((c) => [c.quarter, c]));
  return html`<table class="sg-table" id="forecast-quarters"><thead><tr><th>Quarter</th><th class="num">Renewals due</th><th class="num">ARR renewing</th>
    <th class="num">Expected churn</th><th class="num">Expected expansion</th><th class="num">GRR, median (80%)</th><th class="num">NRR, median (80%)</th></tr></thead><tbody>
    ${quarters.map((q) => {
      const c = byQ.get(q.quarter);
      if (!c) return html``;
      return html`<tr data-quarter=${q.label}><td><strong>${q.label}</strong>${q.quarter === 1 ? html` <span class="sg-meta">(from ${q.first_day})</span>` : ""}</td>
        <td class="num">${formatInt(c.renewals_due)}</td><td class="num">${formatUsdCompact(c.renewal_arr_due)}</td>
        <td class="num">${formatUsdCompact(c.expected_churn_arr + c.expected_contraction_arr)}</td><td class="num">${formatUsdCompact(c.expected_expansion_arr)}</td>
        <td class="num">${withInterval(c, "grr")}</td><td class="num">${withInterval(c, "nrr")}</td></tr>`;
    })}</tbody></table>` as HTMLElement;
}

/** One group per row, one quarter per column: the metric's median and 80% interval, the ARR behind it. */
export function breakdownTable(
  cells: readonly ForecastCell[],
  quarters: readonly Quarter[],
  breakdown: Breakdown,
  metric: Metric,
): HTMLElement {
  const groups = [...new Set(cells.filter((c) => c.group_kind === breakdown).map((c) => c.group_value))].sort();
  const cellOf = new Map(
    cells.filter((c) => c.group_kind === breakdown).map((c) => [`${c.group_value}|${c.quarter}`, c]),
  );
  return html`<table class="sg-table" id="forecast-breakdown"><thead><tr><th>${BREAKDOWN_LABELS[breakdown]}</th><th class="num">Accounts</th><th class="num">ARR</th>
    ${quarters.map((q) => html`<th class="num">${q.label}</th>`)}</tr></thead><tbody>
    ${groups.map((g) => {
      const first = cellOf.get(`${g}|1`);
      return html`<tr data-group=${g}><td>${g}</td><td class="num">${formatInt(first?.accounts ?? 0)}</td><td class="num">${formatUsdCompact(first?.start_arr ?? 0)}</td>
        ${quarters.map((q) => {
          const c = cellOf.get(`${g}|${q.quarter}`);
          return html`<td class="num">${c ? withInterval(c, metric) : "—"}</td>`;
        })}</tr>`;
    })}</tbody></table>` as HTMLElement;
}

/** The accounts that move a quarter most: largest expected churned ARR first, with their share of its uncertainty. */
export function moversTable(movers: readonly Mover[]): HTMLElement {
  return Inputs.table(movers, {
    columns: [
      "company_name",
      "plan_tier",
      "csm_owner",
      "arr",
      "churn_probability",
      "expected_churn_arr",
      "variance_share",
      "churn_before_renewal",
      "renewal_date",
    ],
    header: {
      company_name: "Account",
      plan_tier: "Plan",
      csm_owner: "CSM",
      arr: "ARR",
      churn_probability: "Churn in quarter",
      expected_churn_arr: "Expected churn",
      variance_share: "Share of uncertainty",
      churn_before_renewal: "Churn before renewal",
      renewal_date: "Renews",
    },
    format: {
      company_name: ((n: string, i: number) =>
        html`<a href=${`./customer-360?id=${encodeURIComponent(movers[i]!.customer_id)}`}>${n}</a>`) as never,
      arr: ((x: number) => formatUsdCompact(x)) as never,
      churn_probability: ((x: number) => formatPercent(x)) as never,
      expected_churn_arr: ((x: number) => formatUsdCompact(x)) as never,
      variance_share: ((x: number) => formatPercent(x)) as never,
      churn_before_renewal: ((x: number) => formatPercent(x)) as never,
    },
    width: {company_name: 190},
    rows: 12,
    select: false,
  });
}

export interface HorizonBacktestRow {
  cutoff: string;
  months: number;
  accounts: number;
  predicted: number;
  observed: number;
  auc: number;
  churn_model_predicted: number | null;
  churn_model_auc: number | null;
}

/** The churn horizon model against what happened, beside the 90-day model on the same outcome. */
export function horizonBacktestTable(rows: readonly HorizonBacktestRow[]): HTMLElement {
  return html`<table class="sg-table" id="horizon-backtest"><thead><tr><th>From</th><th class="num">Months</th><th class="num">Accounts</th>
    <th class="num">Expected churn</th><th class="num">Churned</th><th class="num">AUC</th><th class="num">90-day model: expected</th><th class="num">90-day model: AUC</th></tr></thead><tbody>
    ${rows.map(
      (r) => html`<tr><td>${r.cutoff}</td><td class="num">${r.months}</td><td class="num">${formatInt(r.accounts)}</td>
        <td class="num">${formatPercent(r.predicted)}</td><td class="num">${formatPercent(r.observed)}</td><td class="num">${r.auc.toFixed(3)}</td>
        <td class="num">${r.churn_model_predicted === null ? "—" : formatPercent(r.churn_model_predicted)}</td>
        <td class="num">${r.churn_model_auc === null ? "—" : r.churn_model_auc.toFixed(3)}</td></tr>`,
    )}</tbody></table>` as HTMLElement;
}

export interface CallsRow {
  quarter: number;
  renewals: number;
  arr: number;
  called: number;
  called_arr: number;
  commit_arr: number;
  likely_arr: number;
  at_risk_arr: number;
  lost_arr: number;
  model_churn_called_arr: number;
  disagreements: number;
  due: number;
}

/** Per quarter: the renewals, how many the CSMs have called and how, against the model's churn on the same renewals. */
export function callsTable(rows: readonly CallsRow[], quarters: readonly Quarter[]): HTMLElement {
  const label = new Map(quarters.map((q) => [q.quarter, q.label]));
  return html`<table class="sg-table" id="forecast-calls"><thead><tr><th>Quarter</th><th class="num">Renewals</th><th class="num">Called</th>
    <th class="num">Commit</th><th class="num">Likely</th><th class="num">At risk</th><th class="num">Lost</th>
    <th class="num">Model: churn of the called</th><th class="num">Disagree</th><th class="num">Due a call</th></tr></thead><tbody>
    ${rows.map(
      (
        r,
      ) => html`<tr data-quarter=${label.get(r.quarter) ?? r.quarter}><td><strong>${label.get(r.quarter) ?? r.quarter}</strong></td>
        <td class="num">${formatInt(r.renewals)} · ${formatUsdCompact(r.arr)}</td><td class="num">${formatInt(r.called)} · ${formatUsdCompact(r.called_arr)}</td>
        <td class="num">${formatUsdCompact(r.commit_arr)}</td><td class="num">${formatUsdCompact(r.likely_arr)}</td>
        <td class="num">${formatUsdCompact(r.at_risk_arr)}</td><td class="num">${formatUsdCompact(r.lost_arr)}</td>
        <td class="num">${formatUsdCompact(r.model_churn_called_arr)}</td><td class="num">${formatInt(r.disagreements)}</td><td class="num">${formatInt(r.due)}</td></tr>`,
    )}</tbody></table>` as HTMLElement;
}

export interface CallRow {
  customer_id: string;
  company_name?: string;
  csm_owner: string | null;
  renewal_date: string;
  arr: number;
  call: string | null;
  churn_before_renewal: number;
  disagreement: string | null;
  call_due?: boolean;
  called_by: string | null;
  called_at: string | null;
}

const CALL_LABELS: Record<string, string> = {commit: "Commit", likely: "Likely", at_risk: "At risk", lost: "Lost"};
const DISAGREEMENT_LABELS: Record<string, string> = {
  hopeful: "CSM more hopeful than the model",
  worried: "CSM more worried than the model",
};

/** Renewals where the CSM's call and the model disagree (or any list of renewals with their calls). */
export function callList(rows: readonly CallRow[], id = "forecast-disagreements"): HTMLElement {
  if (!rows.length) {
    const empty = emptyState("None: every call agrees with the model, or no renewal is called yet.");
    empty.id = id;
    return empty;
  }
  return html`<table class="sg-table" id=${id}><thead><tr><th>Account</th><th>CSM</th><th>Renews</th><th class="num">ARR</th><th>Call</th>
    <th class="num">Model: churn before renewal</th><th>Where they differ</th><th>Called by</th></tr></thead><tbody>
    ${rows.slice(0, 50).map(
      (
        r,
      ) => html`<tr data-customer=${r.customer_id}><td><a href=${`./customer-360?id=${encodeURIComponent(r.customer_id)}`}>${r.company_name ?? r.customer_id}</a></td>
        <td>${r.csm_owner ?? "—"}</td><td>${r.renewal_date}</td><td class="num">${formatUsdCompact(r.arr)}</td>
        <td>${r.call ? CALL_LABELS[r.call] : r.call_due ? html`<strong>due</strong>` : "—"}</td><td class="num">${formatPercent(r.churn_before_renewal)}</td>
        <td>${r.disagreement ? DISAGREEMENT_LABELS[r.disagreement] : ""}</td><td>${r.called_by ?? ""}</td></tr>`,
    )}</tbody></table>` as HTMLElement;
}

/**
 * Record a call live through the API: an account id, the call and a note. Shows the API's
 * answer; the forecast's tables show the call after the next build, `GET /renewals/calls` at once.
 */
export function callForm(api: LiveApi | {unavailable: string}, onSaved: () => void = () => {}): HTMLElement {
  if ("unavailable" in api)
    return html`<p class="sg-callout" id="call-form" data-state="unavailable">Recording calls is <strong>unavailable</strong>: ${api.unavailable}.</p>` as HTMLElement;
  const account =
    html`<input name="account" placeholder="Account id (e.g. C000123)" aria-label="Account id" required>` as HTMLInputElement;
  const call =
    html`<select name="call" aria-label="Call">${Object.entries(CALL_LABELS).map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>` as HTMLSelectElement;
  const note =
    html`<input name="note" placeholder="Note (optional)" aria-label="Note" maxlength="1000" size="40">` as HTMLInputElement;
  const key = apiKeyInput();
  const status = html`<span class="sg-meta" id="call-form-status"></span>` as HTMLElement;
  const form =
    html`<form id="call-form" data-state="live">${account} ${call} ${note} <button type="submit">Record call</button> ${key} ${status}</form>` as HTMLFormElement;
  form.onsubmit = async (e) => {
    e.preventDefault();
    status.textContent = "Saving…";
    try {
      const saved = await api.call<{renewal_date: string; call: string}>(
        `renewals/${encodeURIComponent(account.value.trim())}/call`,
        {
          method: "POST",
          body: {call: call.value, note: note.value.trim() || null},
        },
      );
      status.textContent = `Recorded: ${CALL_LABELS[saved.call]} on the renewal of ${saved.renewal_date}.`;
      note.value = "";
      onSaved();
    } catch (err) {
      status.textContent = `Not recorded: ${(err as Error).message}`;
    }
  };
  return form;
}

export interface RecordRow {
  made_on: string;
  quarter_label: string;
  quarters_ahead: number;
  backfilled: boolean;
  actual_grr: number;
  actual_nrr: number;
  naive_grr: number | null;
  naive_nrr: number | null;
  [quantile: string]: number | string | boolean | null;
}

export interface RecordSummary {
  cut: "all" | "group" | "quarters ahead";
  value: string;
  cells: number;
  quarters: number;
  forecasts: number;
  grr_coverage_50: number;
  grr_coverage_80: number;
  grr_coverage_90: number;
  nrr_coverage_80: number;
  grr_error: number | null;
  naive_grr_error: number | null;
  nrr_error: number | null;
  naive_nrr_error: number | null;
}

/**
 * Closed quarters, each as forecast `ahead` quarters before (on a quarter's first day): the
 * portfolio's 90/80/50% intervals, the actual (dot) and the naive last-year forecast (cross).
 */
export function recordChart(
  rows: readonly RecordRow[],
  {metric, ahead, width}: {metric: Metric; ahead: number; width: number},
): SVGSVGElement | HTMLElement {
  const shown = rows.filter((r) => r.quarters_ahead === ahead);
  if (!shown.length) return emptyState("No closed quarter was forecast that far ahead yet.");
  const data = shown.map((r) => ({
    quarter: r.quarter_label,
    made_on: r.made_on,
    ...quantiles((p) => at(r, metric, p)),
    actual: metric === "grr" ? r.actual_grr : r.actual_nrr,
    naive: metric === "grr" ? r.naive_grr : r.naive_nrr,
    backfilled: r.backfilled,
  }));
  return Plot.plot({
    ...quarterFrame(data, metric, width, 300),
    marks: [
      ...intervalBars(data),
      Plot.tickY(data, {x: "quarter", y: "p50", stroke: INK, strokeWidth: 1, strokeDasharray: "3,2"}),
      Plot.dot(data, {x: "quarter", y: "actual", fill: INK, r: 5}),
      Plot.dot(
        data.filter((r) => r.naive !== null),
        {x: "quarter", y: "naive", symbol: "times", stroke: MUTED, strokeWidth: 2, r: 5},
      ),
      Plot.tip(
        data,
        Plot.pointerX({
          x: "quarter",
          y: "actual",
          title: (r: (typeof data)[number]) =>
            `${r.quarter}, forecast on ${r.made_on}${r.backfilled ? " (back-filled)" : ""}\nactual ${formatPercent(r.actual)}\nmedian ${formatPercent(r.p50)} · 80%: ${formatPercent(r.p10)}–${formatPercent(r.p90)}\nnaive (last year's rate) ${r.naive === null ? "—" : formatPercent(r.naive)}`,
        }),
      ),
    ],
  });
}

const RECORD_CUT_LABELS: Record<string, string> = {portfolio: "Portfolio", ...BREAKDOWN_LABELS};

/** Coverage of the intervals and the error against the naive forecast: over all cells, by group and by quarters ahead. */
export function recordTable(rows: readonly RecordSummary[]): HTMLElement {
  if (!rows.length) return emptyState("No quarter has closed since the first forecast.");
  const order = (r: RecordSummary) => (r.cut === "all" ? 0 : r.cut === "group" ? 1 : 2);
  const name = (r: RecordSummary) =>
    r.cut === "all"
      ? html`<strong>Every cell</strong>`
      : r.cut === "group"
        ? (RECORD_CUT_LABELS[r.value] ?? r.value)
        : `${r.value} quarter${r.value === "1" ? "" : "s"} ahead`;
  const err = (model: number | null, naive: number | null) =>
    model === null || naive === null
      ? "—"
      : `${(model * 100).toFixed(2)} vs ${(naive * 100).toFixed(2)} pp${model < naive ? "" : " (naive better)"}`;
  return html`<table class="sg-table" id="forecast-record"><thead><tr><th>Cells</th><th class="num">Count</th>
    <th class="num">GRR in 50%</th><th class="num">in 80%</th><th class="num">in 90%</th><th class="num">NRR in 80%</th>
    <th class="num">GRR error vs naive</th><th class="num">NRR error vs naive</th></tr></thead><tbody>
    ${[...rows]
      .sort((a, b) => order(a) - order(b))
      .map(
        (
          r,
        ) => html`<tr data-cut=${r.cut} data-value=${r.value}><td>${name(r)}</td><td class="num">${formatInt(r.cells)}</td>
          <td class="num">${formatPercent(r.grr_coverage_50)}</td><td class="num">${formatPercent(r.grr_coverage_80)}</td>
          <td class="num">${formatPercent(r.grr_coverage_90)}</td><td class="num">${formatPercent(r.nrr_coverage_80)}</td>
          <td class="num">${err(r.grr_error, r.naive_grr_error)}</td><td class="num">${err(r.nrr_error, r.naive_nrr_error)}</td></tr>`,
      )}</tbody></table>` as HTMLElement;
}
