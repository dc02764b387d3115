/**
 * CSM queue: per owner, the calls to action (CTAs) to work on now, read from
 * marts.mart_cta_queue (src/data/cta_queue.arrow). The due date of a CTA is fixed when it
 * opens — creation + its priority's act-within window (Critical 48 hours, High a week, Medium two
 * weeks; config.riskTiers) or the renewal stage's deadline if earlier — and is carried across
 * nightly builds, so an unworked CTA becomes overdue instead of being "due in 48 h" again every
 * night. The priority is the CTA rule's minimum raised by the account's play tier (the more
 * severe of the health-score tier and the churn model's tier).
 */
import * as d3 from "npm:d3";
import * as Plot from "npm:@observablehq/plot";
import * as Inputs from "npm:@observablehq/inputs";
import {html} from "npm:htl";
import {config, RISK_TIERS, type RiskTier} from "../rules/config.js";
import type {Priority} from "../rules/playbooks.js";
import {priorityLabel} from "../rules/dashboard-math.js";
import {formatDate, formatInt, formatPercent, formatUsdCompact, parseUtc} from "./format.js";
import {MIN_WIDTH, PLOT_STYLE, tierColorScale} from "./theme.js";
import {tierBadge, type Kpi} from "./ui.js";

/** One open CTA: a row of src/data/cta_queue.arrow. */
export interface Cta {
  cta_id: string;
  customer_id: string;
  company_name: string;
  csm_owner: string;
  cta_type: string;
  reason_label: string;
  detail: string;
  playbook: string;
  step: string;
  priority: Priority;
  priority_rank: number;
  created_date: Date;
  due_date: Date;
  days_open: number;
  overdue: boolean;
  play_tier: RiskTier;
  arr_at_risk: number;
  days_to_renewal: number;
  churn_probability: number;
}

const DAY = 86_400_000;

/** Whole days from the build's as-of date to the due date (negative: overdue). */
export function daysUntilDue(cta: Pick<Cta, "due_date">, asOf: string): number {
  return Math.round((cta.due_date.getTime() - parseUtc(asOf).getTime()) / DAY);
}

/**
 * The CSM with the most open CTAs (the page opens on them unless `?csm=` names another); of two
 * with as many, the first by name, so the page opens on the same CSM whatever the rows' order.
 */
export function busiestOwner(ctas: readonly Cta[]): string | undefined {
  return d3.greatest(
    d3.rollups(
      ctas,
      (g) => g.length,
      (c) => c.csm_owner,
    ),
    (a, b) => d3.ascending(a[1], b[1]) || d3.descending(a[0], b[0]),
  )?.[0];
}

/** Soonest due first; then the most urgent priority, then the most ARR at risk. */
export function byDue(a: Cta, b: Cta): number {
  return (
    a.due_date.getTime() - b.due_date.getTime() || a.priority_rank - b.priority_rank || b.arr_at_risk - a.arr_at_risk
  );
}

/** "Due soon" is the tightest act-within window of the playbooks (Critical: 48 hours). */
const SOON_HOURS = Math.min(...config.riskTiers.flatMap((t) => (t.actWithinHours === null ? [] : [t.actWithinHours])));

export function queueKpis(mine: readonly Cta[], owner: string, asOf: string): Kpi[] {
  const overdue = mine.filter((c) => c.overdue).length;
  const dueSoon = mine.filter((c) => !c.overdue && daysUntilDue(c, asOf) * 24 <= SOON_HOURS).length;
  const critical = mine.filter((c) => c.priority === "critical").length;
  // ARR at risk counts each account once, however many CTAs it has
  const arr = d3.sum(
    d3.rollups(
      mine,
      (g) => g[0]!.arr_at_risk,
      (c) => c.customer_id,
    ),
    ([, x]) => x,
  );
  return [
    {
      id: "queue-size",
      title: "Open CTAs",
      value: formatInt(mine.length),
      sub: `${formatInt(new Set(mine.map((c) => c.customer_id)).size)} accounts · ${owner}`,
    },
    {
      id: "queue-overdue",
      title: "Overdue",
      value: formatInt(overdue),
      sub: "past the due date set when the CTA opened",
      tone: overdue ? "alert" : undefined,
    },
    {
      id: "queue-due-soon",
      title: `Due within ${SOON_HOURS} h`,
      value: formatInt(dueSoon),
      sub: "not yet overdue",
      tone: dueSoon ? "alert" : undefined,
    },
    {id: "queue-critical", title: "Critical", value: formatInt(critical), sub: "executive escalation plays"},
    {id: "queue-arr", title: "ARR at risk covered", value: formatUsdCompact(arr), sub: "accounts in this queue"},
  ];
}

/**
 * Team workload: open CTAs per CSM by priority, for the `top` longest queues plus the chosen
 * CSM (highlighted).
 */
export function workloadChart(
  ctas: readonly Cta[],
  owner: string,
  {width, top = 20}: {width: number; top?: number},
): SVGSVGElement | HTMLElement {
  const ranked = d3.groupSort(
    ctas,
    (g) => -g.length,
    (c) => c.csm_owner,
  );
  const order = ranked.slice(0, top);
  if (!order.includes(owner) && ranked.includes(owner)) order.push(owner);
  const shown = new Set(order);
  const data = d3
    .flatRollup(
      ctas.filter((c) => shown.has(c.csm_owner)),
      (g) => g.length,
      (c) => c.csm_owner,
      (c) => c.priority,
    )
    .map(([csm, priority, n]) => ({csm, priority: priorityLabel(priority), n}));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 40 + order.length * 20,
    marginLeft: 140,
    style: PLOT_STYLE,
    x: {label: "open CTAs →", grid: true},
    y: {label: null, domain: order, tickFormat: (d: string) => (d === owner ? `▶ ${d}` : d)},
    color: {...tierColorScale, legend: true},
    marks: [
      Plot.barX(data, {
        x: "n",
        y: "csm",
        fill: "priority",
        order: (d: {priority: RiskTier}) => RISK_TIERS.indexOf(d.priority),
        fillOpacity: (d: {csm: string}) => (d.csm === owner ? 1 : 0.45),
        tip: true,
      }),
      Plot.ruleX([0]),
    ],
  });
}

/** The chosen CSM's CTAs, soonest due first. */
export function queueTable(mine: readonly Cta[], asOf: string): HTMLElement {
  const rows = [...mine].sort(byDue);
  const due = (c: Cta) => {
    const days = daysUntilDue(c, asOf);
    const when = c.overdue
      ? html`<strong class="sg-overdue">overdue ${formatInt(-days)} d</strong>`
      : days === 0
        ? "today"
        : `in ${formatInt(days)} d`;
    return html`<strong data-due=${c.due_date.toISOString().slice(0, 10)}>${formatDate(c.due_date)}</strong><br><span class="sg-meta">${when} · open ${formatInt(c.days_open)} d</span>`;
  };
  const wrap = (x: unknown) => html`<div style="white-space:normal">${x}</div>`;
  return Inputs.table(rows, {
    columns: ["due_date", "company_name", "priority", "step", "reason_label", "arr_at_risk", "churn_probability"],
    header: {
      due_date: "Due",
      company_name: "Account",
      priority: "Priority",
      step: "Play → step",
      reason_label: "Why",
      arr_at_risk: "ARR at risk",
      churn_probability: "P(churn)",
    },
    format: {
      due_date: ((_d: Date, i: number) => due(rows[i]!)) as never,
      company_name: ((n: string, i: number) =>
        wrap(html`<a href=${`./customer-360?id=${encodeURIComponent(rows[i]!.customer_id)}`}>${n}</a>`)) as never,
      priority: ((p: Priority) => tierBadge(priorityLabel(p))) as never,
      step: ((s: string, i: number) => wrap(html`<span class="sg-meta">${rows[i]!.playbook} →</span> ${s}`)) as never,
      reason_label: ((r: string, i: number) =>
        wrap(html`${r}<br><span class="sg-meta">${rows[i]!.detail}</span>`)) as never,
      arr_at_risk: ((x: number) => formatUsdCompact(x)) as never,
      churn_probability: ((p: number) => formatPercent(p)) as never,
    },
    width: {due_date: 120, company_name: 130, priority: 75, step: 150, arr_at_risk: 75, churn_probability: 65},
    height: 560,
    select: false,
  });
}
