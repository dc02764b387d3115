/**
 * Risk Drill-Down: the daily at-risk queue and the three analytic
 * findings, measured from history (src/data/risk_signals.json ← marts.mart_risk_signals) —
 * never typed in. Account-level rows come from src/data/risk_scores.arrow (rows.ts).
 */
import * as Plot from "npm:@observablehq/plot";
import {BAD, GOOD, MIN_WIDTH, PLOT_STYLE, tierColorScale} from "./theme.js";
import * as Inputs from "npm:@observablehq/inputs";
import {html} from "npm:htl";
import {config, RISK_TIERS, type RiskTier} from "../rules/config.js";
import {sample, type Account} from "./accounts.js";
import {formatInt, formatMultiple, formatPercent, formatUsdCompact} from "./format.js";
import {
  actionTier,
  measureFinding,
  recommendedAction,
  type Finding,
  type SignalBucket,
} from "../rules/dashboard-math.js";

/** probabilities at or above the model's High band are highlighted */
const HIGH_PROBABILITY = config.modelTiers.find((t) => t.tier === "High")!.minProbability;
import {findingCard, tierBadge} from "./ui.js";
import {componentWords} from "../rules/labels.js";

export type AtRiskRow = Account;

/** At-risk accounts (the given health tiers and plans), largest ARR at risk first. */
export function atRiskAccounts(
  accounts: readonly Account[],
  tiers: readonly RiskTier[],
  plans: readonly string[],
): AtRiskRow[] {
  return accounts
    .filter((r) => tiers.includes(r.risk_tier) && plans.includes(r.plan_tier))
    .sort((a, b) => b.arr_at_risk - a.arr_at_risk || (a.customer_id < b.customer_id ? -1 : 1));
}

/** The at-risk table with conditional formatting and the recommended action. */
export function atRiskTable(rows: readonly AtRiskRow[]): HTMLElement {
  const maxRisk = Math.max(1, ...rows.map((r) => r.arr_at_risk));
  const data = rows.map((r) => ({...r, action: recommendedAction(actionTier(r.risk_tier, r.model_tier))}));
  return Inputs.table(data, {
    columns: [
      "company_name",
      "risk_tier",
      "churn_probability",
      "arr_at_risk",
      "arr",
      "events_last_30d",
      "open_tickets",
      "days_to_renewal",
      "top_risk_drivers",
      "action",
    ],
    header: {
      company_name: "Account",
      plan_tier: "Plan",
      risk_tier: "Tier",
      churn_probability: "P(churn)",
      arr_at_risk: "ARR at risk",
      arr: "ARR",
      events_last_30d: "Events 30d",
      open_tickets: "Open tickets",
      days_to_renewal: "Renews in",
      top_risk_drivers: "Top risk drivers",
      action: "Recommended action",
    },
    format: {
      company_name: ((name: string, i: number) =>
        html`<a href=${`./customer-360?id=${encodeURIComponent(data[i]!.customer_id)}`}>${name}</a>`) as never,
      risk_tier: ((t: RiskTier) => tierBadge(t)) as never,
      churn_probability: ((p: number) =>
        html`<span style=${p >= HIGH_PROBABILITY ? `color:${BAD};font-weight:600` : ""}>${formatPercent(p)}</span>`) as never,
      arr_at_risk: ((x: number) =>
        html`<div class="sg-bar"><span style=${`width:${(100 * x) / maxRisk}%`}></span><b>${formatUsdCompact(x)}</b></div>`) as never,
      arr: ((x: number) => formatUsdCompact(x)) as never,
      events_last_30d: ((x: number) =>
        html`<span style=${x < config.flags.lowEventsThreshold30d ? `color:${BAD};font-weight:600` : ""}>${formatInt(x)}</span>`) as never,
      open_tickets: ((x: number) => formatInt(x)) as never,
      days_to_renewal: ((x: number) =>
        html`<span style=${x <= config.playbooks.alerting.renewalAtRiskDays ? `color:${BAD};font-weight:600` : ""}>${formatInt(x)} d</span>`) as never,
      // component ids ("usage_level, support_load") as their labels
      top_risk_drivers: ((ids: string | null) =>
        html`<span style="white-space:normal">${(ids ?? "")
          .split(", ")
          .filter(Boolean)
          .map((id) => componentWords(id))
          .join("; ")}</span>`) as never,
      action: ((a: string) => html`<span style="white-space:normal">${a}</span>`) as never,
    },
    width: {
      company_name: 170,
      risk_tier: 75,
      churn_probability: 70,
      arr_at_risk: 110,
      arr: 70,
      events_last_30d: 80,
      open_tickets: 80,
      days_to_renewal: 75,
      top_risk_drivers: 170,
      action: 240,
    },
    layout: "fixed",
    rows: 14,
    select: false,
  });
}

export interface ScatterRow {
  events_last_30d: number;
  y: number;
  risk_tier: RiskTier;
  company_name: string;
}

/** Accounts for the usage-decay scatter (a repeatable sample of at most `limit`). */
export function scatterSample(accounts: readonly Account[], limit = 4000): ScatterRow[] {
  return sample(accounts, limit).map((r) => ({
    events_last_30d: r.events_last_30d,
    y: r.churn_probability,
    risk_tier: r.model_tier,
    company_name: r.company_name,
  }));
}

/** Churn score vs events: is the usage-decay signal visible? */
export function usageScatter(
  rows: readonly ScatterRow[],
  label: string,
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 320,
    marginLeft: 50,
    style: PLOT_STYLE,
    x: {
      type: "symlog",
      label: "engagement events, last 30 days →",
      grid: true,
      ticks: [0, 1, 5, 10, 100, 1000, 10000],
      tickFormat: (d: number) => (d >= 1000 ? `${d / 1000}k` : String(d)),
    },
    y: {label: `↑ ${label}`, tickFormat: "%", grid: true, domain: [0, 1]},
    color: {...tierColorScale, legend: true},
    marks: [
      Plot.rectX([0], {x1: 0, x2: config.flags.lowEventsThreshold30d, fill: "#fdecdf"}),
      Plot.dot(rows, {
        x: "events_last_30d",
        y: "y",
        fill: "risk_tier",
        r: 2.2,
        fillOpacity: 0.6,
        tip: {format: {y: (v: number) => formatPercent(v)}},
        channels: {Account: "company_name"},
      }),
      Plot.text([`< ${config.flags.lowEventsThreshold30d} events`], {frameAnchor: "top-left", dx: 6, dy: 6, fill: BAD}),
    ],
  });
}

/** Usage-decay funnel: how many accounts are at each engagement stage today. */
export function usageFunnel(accounts: readonly Account[]): {stage: string; accounts: number}[] {
  const t = config.flags.lowEventsThreshold30d;
  const n = (min: number) => accounts.filter((r) => r.events_last_30d >= min).length;
  return [
    {stage: "Active accounts", accounts: accounts.length},
    {stage: "Any engagement (≥ 1 event)", accounts: n(1)},
    {stage: `Above the low-usage line (≥ ${t})`, accounts: n(t)},
    {stage: "Regular use (≥ 25)", accounts: n(25)},
    {stage: "Heavy use (≥ 100)", accounts: n(100)},
  ];
}

export function funnelChart(
  rows: readonly {stage: string; accounts: number}[],
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  const top = rows[0]?.accounts ?? 1;
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 40 + rows.length * 36,
    marginLeft: 10,
    marginRight: 10,
    style: PLOT_STYLE,
    x: {axis: null, domain: [-top / 2, top / 2]},
    y: {axis: null, domain: rows.map((r) => r.stage)},
    marks: [
      Plot.barX(rows, {
        x1: (r: {accounts: number}) => -r.accounts / 2,
        x2: (r: {accounts: number}) => r.accounts / 2,
        y: "stage",
        fill: "#0072b2",
        fillOpacity: (_: unknown, i: number) => 1 - i * 0.15,
        rx: 3,
        tip: true,
        channels: {Accounts: "accounts"},
      }),
      Plot.text(rows, {
        x: 0,
        y: "stage",
        text: (r: {stage: string; accounts: number}) =>
          `${r.stage}: ${formatInt(r.accounts)} (${formatPercent(r.accounts / top)})`,
        fill: "white",
        stroke: "#0b3d66",
        strokeWidth: 2,
        paintOrder: "stroke",
        fontWeight: 600,
      }),
    ],
  });
}

/** Historical churn rate per bucket of one analysis; risk-group buckets in red. */
export function signalChart(
  rows: readonly SignalBucket[],
  analysis: string,
  xLabel: string,
  {width, base}: {width: number; base?: number},
): SVGSVGElement | HTMLElement {
  const data = rows
    .filter((r) => r.analysis === analysis)
    .map((r) => ({
      ...r,
      bucket: r.bucket.replace(/ (high-priority tickets|integrations|events)$/, ""),
      rate: r.churned / r.observations,
    }));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 240,
    marginLeft: 50,
    style: PLOT_STYLE,
    x: {domain: data.map((d) => d.bucket), label: xLabel},
    // headroom above the tallest bar, so its value label clears the axis label
    y: {
      label: "churned within 90 days ↑",
      tickFormat: "%",
      grid: true,
      domain: [0, 1.15 * Math.max(0.001, base ?? 0, ...data.map((d) => d.rate))],
    },
    marks: [
      Plot.barY(data, {
        x: "bucket",
        y: "rate",
        fill: (d: {in_signal: boolean}) => (d.in_signal ? BAD : "#0072b2"),
        tip: {format: {y: (v: number) => formatPercent(v)}},
        channels: {Observations: "observations", Churned: "churned"},
      }),
      Plot.text(data, {x: "bucket", y: "rate", text: (d: {rate: number}) => formatPercent(d.rate), dy: -8}),
      base === undefined ? null : Plot.ruleY([base], {stroke: "#1b2430", strokeDasharray: "3,3"}),
      Plot.ruleY([0]),
    ],
  });
}

/** The three risk findings, with the multipliers measured on this warehouse. */
export function findings(
  rows: readonly SignalBucket[],
  window: string,
): {cards: HTMLElement; usage: Finding; support: Finding; activation: Finding} {
  const usage = measureFinding(rows, "usage_decay", "rest");
  const support = measureFinding(rows, "support_load", "all");
  const activation = measureFinding(rows, "activation_gate", "rest");
  const f = config.flags;
  const cards = html`<div class="grid grid-cols-3">
    ${findingCard(
      "usage-decay",
      formatMultiple(usage.multiplier),
      html`<strong>Usage decay:</strong> accounts with fewer than ${f.lowEventsThreshold30d} engagement events in 30 days churned at <strong>${formatMultiple(usage.multiplier)}</strong> the rate of active accounts (${formatPercent(usage.signalRate)} vs ${formatPercent(usage.baseRate)} within 90 days).`,
      `${formatInt(usage.signalObservations + usage.baseObservations)} account-months, ${window}. The usual benchmark is 3.2×.`,
    )}
    ${findingCard(
      "support-overload",
      formatMultiple(support.multiplier),
      html`<strong>Support overload:</strong> accounts with ≥ ${f.supportOverloadHighTickets} high-priority tickets in 30 days churned at <strong>${formatMultiple(support.multiplier)}</strong> the base rate (${formatPercent(support.signalRate)} vs ${formatPercent(support.baseRate)}).`,
      `${formatInt(support.signalObservations)} overloaded account-months of ${formatInt(support.baseObservations)}, ${window}. The usual benchmark is 2.1×.`,
    )}
    ${findingCard(
      "activation-gate",
      formatPercent(activation.reduction),
      activation.reduction >= 0
        ? html`<strong>Activation gate:</strong> new accounts that connected ≥ ${f.activationGateIntegrations} integrations in their first 30 days had <strong>${formatPercent(activation.reduction)} lower</strong> first-90-day churn (${formatPercent(activation.baseRate)} vs ${formatPercent(activation.signalRate)}).`
        : html`<strong>Activation gate:</strong> in this data, new accounts that connected ≥ ${f.activationGateIntegrations} integrations in their first 30 days did <strong>not</strong> churn less in their first 90 days (${formatPercent(activation.baseRate)} vs ${formatPercent(activation.signalRate)} below the gate).`,
      `${formatInt(activation.signalObservations + activation.baseObservations)} new accounts with a full first 90 days. The usual benchmark is 63%.`,
    )}
  </div>` as HTMLElement;
  return {cards, usage, support, activation};
}

export {GOOD, RISK_TIERS};
