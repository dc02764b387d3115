/**
 * Executive overview (home page): typed view of src/data/exec_summary.json and its charts.
 * Plot only — no DuckDB — so the page stays small and draws fast.
 */
import * as Plot from "npm:@observablehq/plot";
import {BAD, MIN_WIDTH, PLOT_STYLE, TIER_COLOURS, tierColorScale} from "./theme.js";
import {html} from "npm:htl";
import {RISK_TIERS, type RiskTier} from "../rules/config.js";
import {
  formatDelta,
  formatInt,
  formatPercent,
  formatPercent0,
  formatUsd,
  formatUsdCompact,
  formatDate,
  formatDateTime,
  parseUtc,
} from "./format.js";
import {normalInterval, type Interval} from "../rules/dashboard-math.js";
import {kpiRow, tierBadge, type BuildInfo, type Kpi} from "./ui.js";

export interface ExecFigures {
  active_customers: number;
  total_arr: number;
  arr_at_risk: number;
  high_critical_customers: number;
  high_critical_arr: number;
  avg_health_score: number;
  customers_12m_ago: number;
  logo_churn_rate_12m: number | null;
  grr_12m: number | null;
  nrr_12m: number | null;
  /** Σp, Σp(1−p), Σp·ARR, Σp(1−p)·ARR² over active accounts */
  expected: {customers_mean: number; customers_variance: number; arr_mean: number; arr_variance: number};
}

export interface ExecSummary {
  schema: number;
  build: BuildInfo;
  current: ExecFigures;
  tiers: {basis: "health" | "model"; tier: RiskTier; accounts: number; arr: number; expected_arr: number}[];
  plans: {plan_tier: string; tier: RiskTier; accounts: number; arr: number}[];
  churnMonthly: {month: string; churned_customers: number; churned_arr: number}[];
  topAccounts: {
    customer_id: string;
    company_name: string;
    plan_tier: string;
    tier: RiskTier;
    arr: number;
    churn_probability: number;
    expected_arr: number;
    days_to_renewal: number;
  }[];
  previous: {build: BuildInfo; current: ExecFigures} | null;
}

/** 90% interval of churned ARR over the next 90 days. */
export function expectedChurnArr(f: ExecFigures, level = 0.9): Interval {
  return normalInterval(f.expected.arr_mean, f.expected.arr_variance, level);
}

/** The KPI cards, with change since the previous build where there is one. */
export function execKpis(s: ExecSummary): HTMLElement {
  const c = s.current;
  const p = s.previous?.current ?? null;
  const since = s.previous
    ? `since the build of ${formatDateTime(s.previous.build.built_at)} (data as of ${formatDate(s.previous.build.as_of)})`
    : "";
  /** delta of a figure; `upIsGood` decides the colour */
  const d = (
    now: number | null | undefined,
    before: number | null | undefined,
    kind: "usd" | "int" | "pp",
    upIsGood: boolean,
  ): Kpi["delta"] => {
    if (p === null || now === null || now === undefined || before === null || before === undefined) return null;
    const x = now - before;
    return {
      text: `${formatDelta(x, kind)} since last build`,
      better: x === 0 ? null : x > 0 === upIsGood,
      title: since,
    };
  };
  const exp = expectedChurnArr(c);
  const expPrev = p ? expectedChurnArr(p) : null;
  const kpis: Kpi[] = [
    {
      id: "total-arr",
      title: "Total ARR",
      value: formatUsdCompact(c.total_arr),
      sub: formatUsd(c.total_arr),
      delta: d(c.total_arr, p?.total_arr, "usd", true),
    },
    {
      id: "active-customers",
      title: "Active customers",
      value: formatInt(c.active_customers),
      sub: "accounts with a live subscription",
      delta: d(c.active_customers, p?.active_customers, "int", true),
    },
    {
      id: "churn-rate",
      title: "Logo churn, 12 months",
      value: c.logo_churn_rate_12m === null ? "—" : formatPercent(c.logo_churn_rate_12m),
      sub: `of the ${formatInt(c.customers_12m_ago)} accounts active a year ago`,
      delta: d(c.logo_churn_rate_12m, p?.logo_churn_rate_12m, "pp", false),
    },
    {
      id: "grr",
      title: "Gross revenue retention",
      value: c.grr_12m === null ? "—" : formatPercent(c.grr_12m),
      sub: "12 months, capped at starting ARR",
      delta: d(c.grr_12m, p?.grr_12m, "pp", true),
    },
    {
      id: "nrr",
      title: "Net revenue retention",
      value: c.nrr_12m === null ? "—" : formatPercent(c.nrr_12m),
      sub: "12 months, with expansion",
      tone: c.nrr_12m !== null && c.nrr_12m >= 1 ? "good" : undefined,
      delta: d(c.nrr_12m, p?.nrr_12m, "pp", true),
    },
  ];
  const risk: Kpi[] = [
    {
      id: "expected-churn",
      title: "Expected churned ARR, next 90 days",
      tone: "alert",
      value: formatUsdCompact(exp.mean),
      sub: html`<span data-interval>90% interval ${formatUsdCompact(exp.lo)} – ${formatUsdCompact(exp.hi)}</span> · ${formatPercent(exp.mean / c.total_arr)} of ARR · ≈${formatInt(c.expected.customers_mean)} accounts`,
      delta: d(exp.mean, expPrev?.mean, "usd", false),
    },
    {
      id: "arr-at-risk",
      title: "ARR at risk (health score)",
      tone: "alert",
      value: formatUsdCompact(c.arr_at_risk),
      sub: `${formatPercent(c.arr_at_risk / c.total_arr)} of ARR, weighted by the 0–100 risk score`,
      delta: d(c.arr_at_risk, p?.arr_at_risk, "usd", false),
    },
    {
      id: "high-critical",
      title: "High + Critical accounts",
      tone: "alert",
      value: formatInt(c.high_critical_customers),
      sub: `${formatPercent(c.high_critical_customers / c.active_customers)} of accounts · ${formatUsdCompact(c.high_critical_arr)} ARR (health tiers)`,
      delta: d(c.high_critical_customers, p?.high_critical_customers, "int", false),
    },
  ];
  return html`<div>${kpiRow(kpis)}${kpiRow(risk)}
    <p class="sg-meta" id="since-previous">${s.previous ? html`Changes are ${since}.` : "This is the first build here: changes appear from the next build on."}</p></div>` as HTMLElement;
}

/** Tier mix: share of accounts and of ARR per tier, as two 100% bars. */
export function tierMixChart(
  s: ExecSummary,
  {width, basis}: {width: number; basis?: "health" | "model"},
): SVGSVGElement | HTMLElement {
  const rows = s.tiers.filter((t) => t.basis === (basis ?? "model"));
  const totalA = rows.reduce((x, r) => x + r.accounts, 0);
  const totalR = rows.reduce((x, r) => x + r.arr, 0);
  const data = rows.flatMap((r) => [
    {measure: "Accounts", tier: r.tier, share: r.accounts / totalA, label: `${formatInt(r.accounts)} accounts`},
    {measure: "ARR", tier: r.tier, share: r.arr / totalR, label: formatUsdCompact(r.arr)},
  ]);
  const order = (t: RiskTier) => RISK_TIERS.indexOf(t);
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 150,
    marginLeft: 80,
    marginRight: 10,
    style: PLOT_STYLE,
    x: {percent: true, label: "share (%) →", domain: [0, 100]},
    y: {label: null, domain: ["Accounts", "ARR"]},
    color: {...tierColorScale, legend: true},
    marks: [
      Plot.barX(
        data,
        Plot.stackX({
          x: "share",
          y: "measure",
          fill: "tier",
          order: (d: {tier: RiskTier}) => order(d.tier),
          inset: 0.5,
          tip: {format: {x: (v: number) => formatPercent(v / 100)}},
          channels: {Amount: "label"},
        }),
      ),
      Plot.text(
        data,
        Plot.stackX({
          x: "share",
          y: "measure",
          order: (d: {tier: RiskTier}) => order(d.tier),
          text: (d: {share: number}) => (d.share > 0.06 ? formatPercent0(d.share) : ""),
          fill: (d: {tier: RiskTier}) => (d.tier === "Medium" || d.tier === "High" ? "#1b2430" : "white"),
        }),
      ),
    ],
  });
}

/** Stacked horizontal bars: ARR per plan tier, split by risk tier (Critical first). */
export function arrByPlanChart(
  rows: ExecSummary["plans"],
  planTiers: readonly string[],
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  const plans = planTiers.filter((p) => rows.some((r) => r.plan_tier === p));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 60 + plans.length * 50,
    marginLeft: 90,
    marginRight: 20,
    style: PLOT_STYLE,
    x: {label: "ARR (USD) →", tickFormat: (d: number) => formatUsdCompact(d), grid: true},
    y: {label: null, domain: plans},
    color: {...tierColorScale, legend: true, label: "Risk tier"},
    marks: [
      Plot.barX(rows, {
        x: "arr",
        y: "plan_tier",
        fill: "tier",
        order: (d: {tier: RiskTier}) => RISK_TIERS.indexOf(d.tier),
        inset: 0.5,
        tip: {format: {x: (d: number) => formatUsd(d)}},
        channels: {Accounts: "accounts"},
      }),
      Plot.ruleX([0]),
    ],
  });
}

/** Churned ARR per month over the last two years. */
export function churnTrendChart(
  rows: ExecSummary["churnMonthly"],
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  const data = rows.map((r) => ({...r, date: parseUtc(r.month)}));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 220,
    marginLeft: 60,
    style: PLOT_STYLE,
    x: {
      label: null,
      type: "band",
      tickFormat: (d: Date) =>
        d.getUTCMonth() % 3 === 0
          ? d.toLocaleDateString("en-GB", {month: "short", year: "2-digit", timeZone: "UTC"})
          : "",
    },
    y: {label: "churned ARR ↑", tickFormat: (d: number) => formatUsdCompact(d), grid: true},
    marks: [
      Plot.barY(data, {
        x: "date",
        y: "churned_arr",
        fill: BAD,
        fillOpacity: 0.85,
        inset: 1,
        tip: {
          format: {
            x: (d: Date) => d.toLocaleDateString("en-GB", {month: "long", year: "numeric", timeZone: "UTC"}),
            y: (d: number) => formatUsd(d),
          },
        },
        channels: {Accounts: "churned_customers"},
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** The accounts with the most expected churned ARR, linking to Customer 360. */
export function topAccountsTable(s: ExecSummary): HTMLElement {
  return html`<table class="sg-table" id="top-accounts"><thead><tr><th>Account</th><th>Plan</th><th>Tier</th><th class="num">ARR</th><th class="num">P(churn 90d)</th><th class="num">Expected loss</th><th class="num">Renews in</th></tr></thead>
    <tbody>${s.topAccounts.map(
      (a) => html`<tr>
      <td><a href=${`./customer-360?id=${encodeURIComponent(a.customer_id)}`}>${a.company_name}</a> <span class="sg-id">${a.customer_id}</span></td>
      <td>${a.plan_tier}</td><td>${tierBadge(a.tier)}</td><td class="num">${formatUsdCompact(a.arr)}</td>
      <td class="num">${formatPercent(a.churn_probability)}</td>
      <td class="num">${formatUsdCompact(a.expected_arr)}</td><td class="num">${formatInt(a.days_to_renewal)} d</td></tr>`,
    )}</tbody></table>` as HTMLElement;
}

export {TIER_COLOURS};
