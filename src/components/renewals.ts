/**
 * Renewals: the accounts renewing in the next 120 days, week by week, with the renewal
 * playbook's 120/90/60/30-day stage (config.renewalStagesDays) and their risk.
 */
import * as d3 from "npm:d3";
import * as Plot from "npm:@observablehq/plot";
import {MIN_WIDTH, PLOT_STYLE, tierColorScale} from "./theme.js";
import * as Inputs from "npm:@observablehq/inputs";
import {html} from "npm:htl";
import {config, isAtRisk, RISK_TIERS, type RiskTier} from "../rules/config.js";
import type {Account} from "./accounts.js";
import {addDays, formatDate, formatDayMonth, formatInt, formatPercent, formatUsdCompact} from "./format.js";
import {actionTier, renewalStage} from "../rules/dashboard-math.js";
import {tierBadge, type Kpi} from "./ui.js";

export interface RenewalRow {
  customer_id: string;
  company_name: string;
  plan_tier: string;
  csm_owner: string;
  arr: number;
  renewal_date: Date;
  days_to_renewal: number;
  risk_tier: RiskTier;
  model_tier: RiskTier;
  churn_probability: number;
  /** the playbook tier: the more severe of health and model tier */
  tier: RiskTier;
  /** 120, 90, 60 or 30 */
  stage: number;
  /** Monday-free week index: days_to_renewal ÷ 7 */
  week: number;
  week_start: Date;
}

export type RenewalStages = {id: string; daysBefore: number | null; name: string; actions: string[]}[];

/** Accounts renewing within the widest stage (120 days), soonest first. */
export function upcomingRenewals(accounts: readonly Account[], asOf: string): RenewalRow[] {
  const horizon = Math.max(...config.renewalStagesDays);
  return accounts
    .filter((r) => r.days_to_renewal <= horizon)
    .sort((a, b) => a.days_to_renewal - b.days_to_renewal || b.arr - a.arr)
    .map((r) => {
      const week = Math.floor(r.days_to_renewal / 7);
      return {
        customer_id: r.customer_id,
        company_name: r.company_name,
        plan_tier: r.plan_tier,
        csm_owner: r.csm_owner,
        arr: r.arr,
        days_to_renewal: r.days_to_renewal,
        risk_tier: r.risk_tier,
        model_tier: r.model_tier,
        churn_probability: r.churn_probability,
        renewal_date: addDays(asOf, r.days_to_renewal),
        tier: actionTier(r.risk_tier, r.model_tier),
        stage: renewalStage(r.days_to_renewal)!,
        week,
        week_start: addDays(asOf, week * 7),
      };
    });
}

export function renewalKpis(rows: readonly RenewalRow[]): Kpi[] {
  const risky = rows.filter((r) => isAtRisk(r.tier));
  const soon = rows.filter((r) => r.days_to_renewal <= 30);
  const exp = d3.sum(rows, (r) => r.churn_probability * r.arr);
  return [
    {
      id: "renewals",
      title: "Renewals, next 120 days",
      value: formatInt(rows.length),
      sub: `${formatUsdCompact(d3.sum(rows, (r) => r.arr))} ARR`,
    },
    {
      id: "renewals-at-risk",
      title: "At High or Critical risk",
      value: formatInt(risky.length),
      sub: `${formatUsdCompact(d3.sum(risky, (r) => r.arr))} ARR`,
      tone: "alert",
    },
    {
      id: "renewals-30",
      title: "Renewing within 30 days",
      value: formatInt(soon.length),
      sub: `${formatUsdCompact(d3.sum(soon, (r) => r.arr))} ARR — finalise contracts`,
    },
    {
      id: "renewals-expected-loss",
      title: "Expected churned ARR",
      value: formatUsdCompact(exp),
      sub: "Σ P(churn) × ARR of these renewals",
      tone: "alert",
    },
  ];
}

/** ARR renewing per week, stacked by playbook tier; stage boundaries marked. */
export function renewalsByWeekChart(
  rows: readonly RenewalRow[],
  asOf: string,
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  const stages = [...config.renewalStagesDays].sort((a, b) => a - b);
  const weekly = d3
    .flatRollup(
      rows,
      (g) => ({arr: d3.sum(g, (r) => r.arr), accounts: g.length, week_start: g[0]!.week_start}),
      (r) => r.week,
      (r) => r.tier,
    )
    .map(([, tier, v]) => ({tier, ...v}));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 300,
    marginLeft: 60,
    marginBottom: 40,
    style: PLOT_STYLE,
    x: {type: "utc", label: "week of renewal →", domain: [addDays(asOf, 0), addDays(asOf, Math.max(...stages) + 7)]},
    y: {label: "↑ ARR renewing", tickFormat: (d: number) => formatUsdCompact(d), grid: true},
    color: {...tierColorScale, legend: true, label: "Risk tier"},
    marks: [
      Plot.rectY(
        weekly,
        Plot.stackY({
          x1: "week_start",
          x2: (r: {week_start: Date}) => addDays(r.week_start, 7),
          y: "arr",
          fill: "tier",
          order: (r: {tier: RiskTier}) => RISK_TIERS.indexOf(r.tier),
          insetLeft: 1,
          insetRight: 1,
          tip: {
            format: {x1: (d: Date) => `week of ${formatDayMonth(d)}`, x2: false, y: (v: number) => formatUsdCompact(v)},
          },
          channels: {Accounts: "accounts"},
        }),
      ),
      Plot.ruleX(
        stages.map((s) => addDays(asOf, s)),
        {stroke: "#1b2430", strokeDasharray: "3,3"},
      ),
      Plot.text(stages, {
        x: (s: number) => addDays(asOf, s),
        frameAnchor: "top",
        text: (s: number) => `${s}-day stage ends`,
        dx: -4,
        dy: 4,
        textAnchor: "end",
        fill: "#5b6573",
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** Accounts and ARR per playbook stage, with the stage's actions. */
export function stageTable(rows: readonly RenewalRow[], stages: RenewalStages): HTMLElement {
  const days = [...config.renewalStagesDays].sort((a, b) => b - a);
  return html`<table class="sg-table" id="renewal-stages"><thead><tr><th>Stage</th><th class="num">Accounts</th><th class="num">ARR</th><th class="num">High + Critical</th><th>Playbook actions</th></tr></thead><tbody>
    ${days.map((d) => {
      const g = rows.filter((r) => r.stage === d);
      const risky = g.filter((r) => isAtRisk(r.tier));
      const st = stages.find((s) => s.daysBefore === d);
      const lower = days[days.indexOf(d) + 1] ?? 0;
      return html`<tr data-stage=${d}><td><strong>${d}-day</strong><br><span class="sg-meta">${lower + 1}–${d} days out</span></td><td class="num">${formatInt(g.length)}</td><td class="num">${formatUsdCompact(d3.sum(g, (r) => r.arr))}</td>
        <td class="num">${formatInt(risky.length)}</td><td>${st ? st.actions.join(" · ") : ""}</td></tr>`;
    })}</tbody></table>` as HTMLElement;
}

/** The renewals themselves, with stage, risk and the stage's first action. */
export function renewalTable(rows: readonly RenewalRow[], stages: RenewalStages): HTMLElement {
  const first = (d: number) => stages.find((s) => s.daysBefore === d)?.actions[0] ?? "";
  const data = rows.map((r) => ({
    ...r,
    next: isAtRisk(r.tier) ? "Escalate and begin risk mitigation" : first(r.stage),
  }));
  return Inputs.table(data, {
    columns: [
      "company_name",
      "renewal_date",
      "days_to_renewal",
      "stage",
      "tier",
      "churn_probability",
      "arr",
      "csm_owner",
      "next",
    ],
    header: {
      company_name: "Account",
      renewal_date: "Renews",
      days_to_renewal: "Days",
      stage: "Stage",
      tier: "Risk",
      churn_probability: "P(churn)",
      arr: "ARR",
      plan_tier: "Plan",
      csm_owner: "CSM",
      next: "Next step",
    },
    format: {
      company_name: ((n: string, i: number) =>
        html`<a href=${`./customer-360?id=${encodeURIComponent(data[i]!.customer_id)}`}>${n}</a>`) as never,
      renewal_date: ((d: Date) => formatDate(d)) as never,
      stage: ((s: number) => `${s}-day`) as never,
      tier: ((t: RiskTier) => tierBadge(t)) as never,
      churn_probability: ((p: number) => formatPercent(p)) as never,
      arr: ((x: number) => formatUsdCompact(x)) as never,
      next: ((x: string) => html`<span style="white-space:normal">${x}</span>`) as never,
    },
    width: {
      company_name: 180,
      renewal_date: 100,
      days_to_renewal: 50,
      stage: 65,
      tier: 80,
      churn_probability: 70,
      arr: 75,
      csm_owner: 130,
      next: 250,
    },
    layout: "fixed",
    rows: 14,
    select: false,
  });
}
