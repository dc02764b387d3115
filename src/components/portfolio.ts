/**
 * Portfolio-level figures and charts for the home page, computed with SQL over the
 * `risk` table (marts.mart_customer_risk_scores, one row per active customer) loaded by db.ts.
 */
import * as Plot from "npm:@observablehq/plot";
import { html } from "npm:htl";
import { config, RISK_TIERS, type RiskTier } from "./config.js";
import type { Tables } from "./db.js";
import { formatInt, formatPercent, formatUsd, formatUsdCompact } from "./format.js";
import { TIER_COLOURS, tierColorScale } from "./theme.js";

export interface PortfolioKpis {
  activeCustomers: number;
  totalArr: number;
  /** accounts in the High or Critical tier */
  highCriticalAccounts: number;
  highCriticalArr: number;
  /** sum of arr_at_risk (ARR weighted by risk score) */
  arrAtRisk: number;
}

export async function portfolioKpis(db: Tables, table = "risk"): Promise<PortfolioKpis> {
  const row = await db.queryRow<Record<keyof PortfolioKpis, number>>(`
    SELECT count(*)::DOUBLE AS "activeCustomers",
           coalesce(sum(arr), 0)::DOUBLE AS "totalArr",
           count(*) FILTER (WHERE risk_tier IN ('High', 'Critical'))::DOUBLE AS "highCriticalAccounts",
           coalesce(sum(arr) FILTER (WHERE risk_tier IN ('High', 'Critical')), 0)::DOUBLE AS "highCriticalArr",
           coalesce(sum(arr_at_risk), 0)::DOUBLE AS "arrAtRisk"
    FROM ${table}`);
  if (!row) throw new Error(`portfolioKpis: no result from table ${table}`);
  return {
    activeCustomers: Number(row.activeCustomers),
    totalArr: Number(row.totalArr),
    highCriticalAccounts: Number(row.highCriticalAccounts),
    highCriticalArr: Number(row.highCriticalArr),
    arrAtRisk: Number(row.arrAtRisk),
  };
}

/** The home page's KPI cards. */
export function kpiCards(k: PortfolioKpis): HTMLElement {
  const share = (x: number, of: number) => (of > 0 ? formatPercent(x / of) : "—");
  const card = (id: string, title: string, big: string, sub: string, alert = false) =>
    html`<div class="card sg-kpi${alert ? " sg-alert" : ""}" data-kpi=${id}>
      <h2>${title}</h2><div class="big">${big}</div><div class="sub">${sub}</div></div>`;
  return html`<div class="grid grid-cols-4 sg-kpis">
    ${card("active-customers", "Active customers", formatInt(k.activeCustomers), "accounts with a live subscription")}
    ${card("total-arr", "Total ARR", formatUsdCompact(k.totalArr), formatUsd(k.totalArr))}
    ${card("high-critical", "High + Critical risk", formatInt(k.highCriticalAccounts),
      `${share(k.highCriticalAccounts, k.activeCustomers)} of accounts · ${formatUsdCompact(k.highCriticalArr)} ARR`, true)}
    ${card("arr-at-risk", "ARR at risk", formatUsdCompact(k.arrAtRisk), `${share(k.arrAtRisk, k.totalArr)} of ARR, risk-weighted`, true)}
  </div>` as HTMLElement;
}

export interface TierPlanRow {
  plan_tier: string;
  risk_tier: RiskTier;
  accounts: number;
  arr: number;
}

export async function arrByTierAndPlan(db: Tables, table = "risk"): Promise<TierPlanRow[]> {
  const rows = await db.query<Record<string, unknown>>(`
    SELECT plan_tier, risk_tier, count(*)::DOUBLE AS accounts, sum(arr)::DOUBLE AS arr
    FROM ${table} GROUP BY ALL ORDER BY plan_tier, risk_tier`);
  return rows.map((r) => ({
    plan_tier: String(r.plan_tier),
    risk_tier: r.risk_tier as RiskTier,
    accounts: Number(r.accounts),
    arr: Number(r.arr),
  }));
}

/** Stacked horizontal bars: ARR per plan tier, split by risk tier (Critical first). */
export function arrByTierChart(rows: TierPlanRow[], { width }: { width: number }): SVGSVGElement | HTMLElement {
  const plans = ["Enterprise", "Growth", "Starter"].filter((p) => rows.some((r) => r.plan_tier === p));
  for (const p of new Set(rows.map((r) => r.plan_tier))) if (!plans.includes(p)) plans.push(p);
  const order = (t: RiskTier) => RISK_TIERS.indexOf(t);
  return Plot.plot({
    width,
    height: 60 + plans.length * 56,
    marginLeft: 90,
    style: { fontSize: "12px" },
    marginRight: 20,
    x: { label: "ARR (USD) →", tickFormat: (d: number) => formatUsdCompact(d), grid: true },
    y: { label: null, domain: plans },
    color: { ...tierColorScale, legend: true, label: "Risk tier" },
    marks: [
      Plot.barX(rows, {
        x: "arr",
        y: "plan_tier",
        fill: "risk_tier",
        order: (d: TierPlanRow) => order(d.risk_tier),
        tip: {
          format: { x: (d: number) => formatUsd(d), fill: true, y: true },
        },
        channels: { Accounts: "accounts" },
        inset: 0.5,
      }),
      Plot.ruleX([0]),
    ],
  });
}

/** Legend-sized summary table of accounts and ARR per risk tier. */
export async function tierSummary(db: Tables, table = "risk"): Promise<{ tier: RiskTier; accounts: number; arr: number; colour: string }[]> {
  const rows = await db.query<Record<string, unknown>>(`
    SELECT risk_tier, count(*)::DOUBLE AS accounts, sum(arr)::DOUBLE AS arr FROM ${table} GROUP BY 1`);
  return RISK_TIERS.map((tier) => {
    const r = rows.find((x) => x.risk_tier === tier);
    return { tier, accounts: Number(r?.accounts ?? 0), arr: Number(r?.arr ?? 0), colour: TIER_COLOURS[tier] };
  });
}

/** "Critical ≥ 80, High ≥ 60, Medium ≥ 40" from the shared config, for explanatory notes. */
export function tierBandsNote(): HTMLElement {
  const bands = config.riskTiers.filter((t) => t.minScore > 0);
  return html`<span>${bands.map((t, i) => html`${i ? ", " : ""}<strong>${t.tier}</strong> ≥ ${t.minScore}`)}</span>` as HTMLElement;
}
