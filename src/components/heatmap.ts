/**
 * Churn Heatmap: where ARR is most at risk, by plan tier × industry.
 * Reads the pre-aggregated src/data/segments.json (no DuckDB).
 */
import * as d3 from "npm:d3";
import * as Plot from "npm:@observablehq/plot";
import {BAD, HEAT_SCHEME, MIN_WIDTH, PLOT_STYLE, TIER_COLOURS, tierColorScale} from "./theme.js";
import {html, svg} from "npm:htl";
import {isAtRisk, RISK_TIERS, type RiskTier} from "../rules/config.js";
import {formatInt, formatPercent, formatUsd, formatUsdCompact} from "./format.js";
import type {Kpi} from "./ui.js";
import type {BuildInfo} from "./ui.js";

export interface SegmentRow {
  plan_tier: string;
  industry: string;
  customers: number;
  arr: number;
  avg_risk_score: number;
  high_critical_customers: number;
  high_critical_arr: number;
  arr_at_risk: number;
  churned_12m: number;
  churn_rate_12m: number;
}

export interface Segments {
  build: BuildInfo;
  kpis: {
    active_customers: number;
    total_arr: number;
    arr_at_risk: number;
    high_critical_customers: number;
    high_critical_arr: number;
    avg_health_score: number;
    logo_churn_rate_12m: number | null;
  };
  segments: SegmentRow[];
  tiers: {plan_tier: string; tier: RiskTier; accounts: number; arr: number; arr_at_risk: number}[];
  scoreHistogram: {x0: number; tier: RiskTier; accounts: number}[];
  probabilityHistogram: {x0: number; tier: RiskTier; accounts: number}[];
}

/** The metrics the heatmap can colour by. */
export const HEAT_METRICS = {
  "Average risk score": {value: (r: SegmentRow) => r.avg_risk_score, format: (x: number) => x.toFixed(1)},
  "Share High + Critical": {value: (r: SegmentRow) => r.high_critical_customers / r.customers, format: formatPercent},
  "ARR at risk": {value: (r: SegmentRow) => r.arr_at_risk, format: formatUsdCompact},
  "12-month churn rate": {value: (r: SegmentRow) => r.churn_rate_12m, format: formatPercent},
} as const;
export type HeatMetric = keyof typeof HEAT_METRICS;

export function heatmapKpis(s: Segments): Kpi[] {
  const k = s.kpis;
  return [
    {
      id: "active-customers",
      title: "Active customers",
      value: formatInt(k.active_customers),
      sub: `${formatUsdCompact(k.total_arr)} ARR`,
    },
    {
      id: "high-critical-share",
      title: "High + Critical",
      value: formatPercent(k.high_critical_customers / k.active_customers),
      sub: `${formatInt(k.high_critical_customers)} accounts · ${formatUsdCompact(k.high_critical_arr)} ARR`,
      tone: "alert",
    },
    {
      id: "arr-at-risk",
      title: "ARR at risk",
      value: formatUsdCompact(k.arr_at_risk),
      sub: `${formatPercent(k.arr_at_risk / k.total_arr)} of ARR (risk-weighted)`,
      tone: "alert",
    },
    {
      id: "avg-risk",
      title: "Average risk score",
      value: (100 - k.avg_health_score).toFixed(1),
      sub: `health score ${k.avg_health_score.toFixed(1)} / 100`,
    },
    {
      id: "churn-12m",
      title: "Logo churn, 12 months",
      value: k.logo_churn_rate_12m === null ? "—" : formatPercent(k.logo_churn_rate_12m),
      sub: "accounts active a year ago that left",
    },
  ];
}

/** Plan tier × industry heatmap, coloured by `metric`, labelled with value and account count. */
export function segmentHeatmap(
  rows: readonly SegmentRow[],
  metric: HeatMetric,
  planTiers: readonly string[],
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  const m = HEAT_METRICS[metric];
  const industries = d3.groupSort(
    rows,
    (g) => -d3.sum(g, (r) => r.arr_at_risk),
    (r) => r.industry,
  );
  const data = rows.map((r) => ({...r, v: m.value(r)}));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 260,
    marginLeft: 90,
    marginBottom: 50,
    padding: 0.04,
    style: PLOT_STYLE,
    x: {domain: industries, label: null, tickRotate: width < 700 ? -30 : 0},
    y: {domain: planTiers.filter((p) => rows.some((r) => r.plan_tier === p)), label: null},
    color: {
      scheme: HEAT_SCHEME,
      legend: true,
      label: metric,
      tickFormat: (x: number) => m.format(x),
      zero: metric !== "Average risk score",
    },
    marks: [
      Plot.cell(data, {
        x: "industry",
        y: "plan_tier",
        fill: "v",
        inset: 1,
        rx: 3,
        tip: {format: {fill: (x: number) => m.format(x)}},
        channels: {
          Accounts: "customers",
          ARR: (r: SegmentRow) => formatUsdCompact(r.arr),
          "ARR at risk": (r: SegmentRow) => formatUsdCompact(r.arr_at_risk),
          "High + Critical": "high_critical_customers",
          "Churned (12m)": "churned_12m",
        },
      }),
      Plot.text(data, {
        x: "industry",
        y: "plan_tier",
        text: (r: {v: number}) => m.format(r.v),
        dy: -7,
        fontWeight: 600,
        fill: (r: {v: number}) => "black",
        stroke: "white",
        strokeWidth: 2.5,
        paintOrder: "stroke",
      }),
      Plot.text(data, {
        x: "industry",
        y: "plan_tier",
        text: (r: SegmentRow) => `${formatInt(r.customers)} accts`,
        dy: 8,
        fontSize: 10,
        fill: "#333",
        stroke: "white",
        strokeWidth: 2,
        paintOrder: "stroke",
      }),
    ],
  });
}

/** Risk-tier distribution as a donut with the share of accounts in each tier. */
export function tierDonut(s: Segments, {width}: {width: number}): HTMLElement {
  const byTier = RISK_TIERS.map((tier) => ({
    tier,
    accounts: d3.sum(
      s.tiers.filter((t) => t.tier === tier),
      (t) => t.accounts,
    ),
  }));
  const total = d3.sum(byTier, (t) => t.accounts);
  const size = Math.max(Math.min(width, 260), 160);
  const r = size / 2;
  const arcs = d3
    .pie<{tier: RiskTier; accounts: number}>()
    .value((d) => d.accounts)
    .sort(null)(byTier);
  const arc = d3
    .arc<d3.PieArcDatum<{tier: RiskTier; accounts: number}>>()
    .innerRadius(r * 0.58)
    .outerRadius(r - 2);
  const hc = byTier.filter((t) => isAtRisk(t.tier)).reduce((a, t) => a + t.accounts, 0);
  return html`<div class="sg-row" style="align-items:center">
    <svg width=${size} height=${size} viewBox=${`${-r} ${-r} ${size} ${size}`} role="img" aria-label="Risk tier distribution">
      ${arcs.map((a) => svg`<path d=${arc(a)} fill=${TIER_COLOURS[a.data.tier]} stroke="white" stroke-width="1.5"><title>${a.data.tier}: ${formatInt(a.data.accounts)} accounts (${formatPercent(a.data.accounts / total)})</title></path>`)}
      <text text-anchor="middle" dy="-0.1em" font-size="22" font-weight="700" fill="${BAD}">${formatPercent(hc / total)}</text>
      <text text-anchor="middle" dy="1.3em" font-size="12" fill="#5b6573">High + Critical</text>
    </svg>
    <table class="sg-table" style="width:auto">${byTier.map((t) => html`<tr><td><span class="sg-swatch" style=${`background:${TIER_COLOURS[t.tier]}`}></span>${t.tier}</td><td class="num">${formatInt(t.accounts)}</td><td class="num">${formatPercent(t.accounts / total)}</td></tr>`)}</table>
  </div>` as HTMLElement;
}

/** ARR at risk by plan tier, stacked by risk tier. */
export function arrAtRiskByPlan(
  s: Segments,
  planTiers: readonly string[],
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 220,
    marginLeft: 60,
    style: PLOT_STYLE,
    x: {domain: planTiers, label: null},
    y: {label: "ARR at risk ↑", tickFormat: (d: number) => formatUsdCompact(d), grid: true},
    color: {...tierColorScale, legend: true},
    marks: [
      Plot.barY(s.tiers, {
        x: "plan_tier",
        y: "arr_at_risk",
        fill: "tier",
        order: (d: {tier: RiskTier}) => RISK_TIERS.indexOf(d.tier),
        inset: 0.5,
        tip: {format: {y: (v: number) => formatUsd(v)}},
        channels: {Accounts: "accounts", ARR: (d: {arr: number}) => formatUsdCompact(d.arr)},
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** Trailing-12-month logo churn rate per industry (churned ÷ (active + churned)). */
export function churnByIndustry(s: Segments, {width}: {width: number}): SVGSVGElement | HTMLElement {
  const rows = d3
    .rollups(
      s.segments,
      (g) => ({churned: d3.sum(g, (r) => r.churned_12m), active: d3.sum(g, (r) => r.customers)}),
      (r) => r.industry,
    )
    .map(([industry, v]) => ({
      industry,
      rate: v.churned / (v.active + v.churned),
      churned: v.churned,
      active: v.active,
    }));
  const mean = d3.sum(rows, (r) => r.churned) / d3.sum(rows, (r) => r.churned + r.active);
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 40 + rows.length * 26,
    marginLeft: 100,
    marginRight: 50,
    style: PLOT_STYLE,
    x: {label: "12-month logo churn rate →", tickFormat: "%", grid: true},
    y: {label: null, domain: d3.sort(rows, (r) => -r.rate).map((r) => r.industry)},
    marks: [
      Plot.barX(rows, {
        x: "rate",
        y: "industry",
        fill: (r: {rate: number}) => (r.rate > mean ? BAD : "#9aa9bb"),
        tip: {format: {x: (v: number) => formatPercent(v)}},
        channels: {Churned: "churned", Active: "active"},
      }),
      Plot.text(rows, {
        x: "rate",
        y: "industry",
        text: (r: {rate: number}) => formatPercent(r.rate),
        dx: 4,
        textAnchor: "start",
        fill: "#5b6573",
      }),
      Plot.ruleX([mean], {stroke: "#1b2430", strokeDasharray: "3,3"}),
      Plot.ruleX([0]),
    ],
  });
}

/** Distribution of the 0–100 risk score (or the model's churn probability), stacked by tier. */
export function scoreHistogram(
  s: Segments,
  basis: "Risk score" | "Churn probability",
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  const prob = basis === "Churn probability";
  const rows = prob ? s.probabilityHistogram : s.scoreHistogram;
  const step = prob ? 0.025 : 2.5;
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 240,
    marginLeft: 50,
    style: PLOT_STYLE,
    x: {
      label: prob ? "P(churn in 90 days) →" : "risk score (100 − health) →",
      tickFormat: prob ? "%" : undefined,
      domain: prob ? [0, 1] : [0, 100],
    },
    y: {label: "accounts ↑", grid: true},
    color: {...tierColorScale, legend: true},
    marks: [
      Plot.rectY(rows, {
        x1: "x0",
        x2: (d: {x0: number}) => d.x0 + step,
        y: "accounts",
        fill: "tier",
        order: (d: {tier: RiskTier}) => RISK_TIERS.indexOf(d.tier),
        inset: 0.5,
        tip: true,
      }),
      Plot.ruleY([0]),
    ],
  });
}
