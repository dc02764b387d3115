/**
 * CSM queue: per owner, the accounts to act on now and by when. Due dates follow the playbook
 * timelines of config.riskTiers[].actWithinHours (Critical 48 hours, High a week, Medium two
 * weeks), counted from the build's as-of date; the tier is the playbook tier (the more severe of
 * the health-score tier and the churn model's tier).
 */
import * as d3 from "npm:d3";
import * as Plot from "npm:@observablehq/plot";
import { MIN_WIDTH } from "./theme.js";
import * as Inputs from "npm:@observablehq/inputs";
import { html } from "npm:htl";
import { RISK_TIERS, type RiskTier } from "./config.js";
import { expectedLoss, type Account } from "./accounts.js";
import { formatDate, formatInt, formatPercent, formatUsdCompact, parseUtc } from "./format.js";
import { actionTier, dueDate, recommendedAction } from "./metrics.js";
import { PLOT_STYLE, tierColorScale } from "./theme.js";
import { tierBadge, type Kpi } from "./ui.js";

export interface QueueRow {
  customer_id: string;
  company_name: string;
  csm_owner: string;
  plan_tier: string;
  tier: RiskTier;
  risk_tier: RiskTier;
  model_tier: RiskTier | null;
  churn_probability: number | null;
  arr: number;
  expected_loss: number;
  due: Date;
  hours: number;
  action: string;
  flags: string;
  days_to_renewal: number;
}

/** All accounts whose playbook has an act-within window, soonest due first. */
export function actionQueue(accounts: readonly Account[], asOf: string): QueueRow[] {
  const start = parseUtc(asOf);
  const out: QueueRow[] = [];
  for (const r of accounts) {
    const tier = actionTier(r.risk_tier, r.model_tier);
    const due = dueDate(start, tier);
    if (!due) continue;
    out.push({
      customer_id: r.customer_id, company_name: r.company_name, csm_owner: r.csm_owner, plan_tier: r.plan_tier,
      tier, risk_tier: r.risk_tier, model_tier: r.model_tier, churn_probability: r.churn_probability,
      arr: r.arr, expected_loss: expectedLoss(r),
      due, hours: (due.getTime() - start.getTime()) / 3_600_000, action: recommendedAction(tier),
      flags: [r.low_events ? "low events" : "", r.support_overload ? "support overload" : "", r.onboarding_at_risk ? "onboarding at risk" : ""].filter(Boolean).join(", "),
      days_to_renewal: r.days_to_renewal,
    });
  }
  return out.sort((a, b) => a.due.getTime() - b.due.getTime() || b.expected_loss - a.expected_loss);
}

export function queueKpis(rows: readonly QueueRow[], owner: string): Kpi[] {
  const mine = rows.filter((r) => r.csm_owner === owner);
  const count = (t: RiskTier) => mine.filter((r) => r.tier === t).length;
  const first = mine[0];
  return [
    { id: "queue-size", title: "Accounts to act on", value: formatInt(mine.length), sub: `${owner}` },
    { id: "queue-critical", title: "Critical — within 48 h", value: formatInt(count("Critical")), sub: "executive escalation", tone: count("Critical") ? "alert" : undefined },
    { id: "queue-high", title: "High — within a week", value: formatInt(count("High")), sub: "focused CSM outreach", tone: count("High") ? "alert" : undefined },
    { id: "queue-medium", title: "Medium — within two weeks", value: formatInt(count("Medium")), sub: "proactive check-in" },
    { id: "queue-next-due", title: "Next due", value: first ? formatDate(first.due) : "—", sub: `${formatUsdCompact(d3.sum(mine, (r) => r.expected_loss))} expected loss covered` },
  ];
}

/**
 * Workload across the team: accounts to act on per CSM, by tier, for the `top` longest queues
 * plus the chosen CSM (highlighted).
 */
export function workloadChart(rows: readonly QueueRow[], owner: string, { width, top = 20 }: { width: number; top?: number }): SVGSVGElement | HTMLElement {
  const ranked = d3.groupSort(rows, (g) => -g.length, (r) => r.csm_owner);
  const order = ranked.slice(0, top);
  if (!order.includes(owner) && ranked.includes(owner)) order.push(owner);
  const shown = new Set(order);
  const data = d3.flatRollup(rows.filter((r) => shown.has(r.csm_owner)), (g) => g.length, (r) => r.csm_owner, (r) => r.tier).map(([csm, tier, n]) => ({ csm, tier, n }));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH), height: 40 + order.length * 20, marginLeft: 140, style: PLOT_STYLE,
    x: { label: "accounts to act on →", grid: true },
    y: { label: null, domain: order, tickFormat: (d: string) => (d === owner ? `▶ ${d}` : d) },
    color: { ...tierColorScale, domain: RISK_TIERS.slice(0, 3), range: tierColorScale.range.slice(0, 3), legend: true },
    marks: [
      Plot.barX(data, { x: "n", y: "csm", fill: "tier", order: (d: { tier: RiskTier }) => RISK_TIERS.indexOf(d.tier), fillOpacity: (d: { csm: string }) => (d.csm === owner ? 1 : 0.45), tip: true }),
      Plot.ruleX([0]),
    ],
  });
}

/** The chosen CSM's queue. */
export function queueTable(rows: readonly QueueRow[]): HTMLElement {
  return Inputs.table(rows, {
    columns: ["due", "company_name", "tier", "action", "churn_probability", "expected_loss", "flags", "days_to_renewal"],
    header: { due: "Due", company_name: "Account", tier: "Tier", action: "Action", churn_probability: "P(churn)", expected_loss: "Expected loss", arr: "ARR", flags: "Flags", days_to_renewal: "Renews in" },
    format: {
      due: ((d: Date, i: number) => html`<strong>${formatDate(d)}</strong><br><span class="sg-meta">within ${rows[i]!.hours < 72 ? `${rows[i]!.hours} h` : `${rows[i]!.hours / 24} days`}</span>`) as never,
      company_name: ((n: string, i: number) => html`<a href=${`./customer-360?id=${encodeURIComponent(rows[i]!.customer_id)}`}>${n}</a>`) as never,
      tier: ((t: RiskTier) => tierBadge(t)) as never,
      action: ((a: string) => html`<span style="white-space:normal">${a}</span>`) as never,
      churn_probability: ((p: number | null) => (p === null ? "—" : formatPercent(p))) as never,
      expected_loss: ((x: number) => formatUsdCompact(x)) as never,
      arr: ((x: number) => formatUsdCompact(x)) as never,
      flags: ((x: string) => html`<span style="white-space:normal">${x}</span>`) as never,
      days_to_renewal: ((x: number) => `${formatInt(x)} d`) as never,
    },
    width: { due: 110, company_name: 170, tier: 80, action: 230, churn_probability: 70, expected_loss: 90, flags: 130, days_to_renewal: 70 },
    layout: "fixed",
    rows: 16,
    select: false,
  });
}
