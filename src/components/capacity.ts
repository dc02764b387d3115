/**
 * A queue that respects capacity, on the CSM queue page: each CSM's CTAs ranked by expected ARR
 * saved per hour of work, in three lanes (marts.mart_csm_worklist, src/data/csm_worklist.arrow)
 * — what fits their week, what does not, and the weekly digest — and the team's rebalancing
 * suggestion (marts.mart_csm_capacity, src/data/csm_capacity.arrow). The build decides the lanes
 * (loaders/sql/mart_csm_worklist.sql); this module only shows them.
 */
import * as Inputs from "npm:@observablehq/inputs";
import {html} from "npm:htl";
import {config} from "../rules/config.js";
import {priorityLabel} from "../rules/dashboard-math.js";
import type {Priority} from "../rules/playbooks.js";
import {formatDate, formatInt, formatPercent, formatUsd, formatUsdCompact} from "./format.js";
import {daysUntilDue, type Cta} from "./queue.js";
import {emptyState, tierBadge} from "./ui.js";

export type Lane = "this_week" | "next" | "digest";

/** One CTA's place in its owner's week: a row of src/data/csm_worklist.arrow. */
export interface WorkItem {
  cta_id: string;
  owner: string;
  effort_hours: number;
  effectiveness: number;
  effectiveness_source: "measured" | "config";
  expected_arr_saved: number;
  value_per_hour: number;
  rank_in_queue: number;
  lane: Lane;
  lane_reason: string;
}

/** One CSM's week: a row of src/data/csm_capacity.arrow. */
export interface CsmWeek {
  csm: string;
  capacity_hours: number;
  capacity_source: "override" | "config" | "default";
  ctas_open: number;
  hours_open: number;
  ctas_this_week: number;
  hours_this_week: number;
  ctas_next: number;
  hours_next: number;
  ctas_digest: number;
  hours_digest: number;
  overload_hours: number;
  room_hours: number;
  digest_max_value_per_hour: number | null;
  move_out_hours: number;
  rebalance_to: {csm: string; hours: number}[] | null;
  receive_hours: number;
  rebalance_from: {csm: string; hours: number}[] | null;
  overload_after_hours: number;
}

export type PlannedCta = Cta & WorkItem;

const hours = (h: number) => `${h.toLocaleString("en-US", {maximumFractionDigits: 1})} h`;
const perHour = (x: number) => `${formatUsd(x)}/h`;

/** Why a CTA is in its lane, in words (the worklist's lane_reason codes). */
export const LANE_REASONS: Readonly<Record<string, string>> = {
  fits: "fits the week",
  critical: "Critical: never digested",
  in_progress: "in progress: never digested",
  within_horizon: `within ${config.capacity.digestBeyondWeeks} weeks of capacity`,
  outvalues_kept: "worth more an hour than a Critical or started CTA kept in the queue",
  beyond_horizon: `beyond ${config.capacity.digestBeyondWeeks === 1 ? "the week" : `${config.capacity.digestBeyondWeeks} weeks`} of capacity`,
  below_value_floor: `below ${perHour(config.capacity.digestBelowValuePerHour)} expected ARR saved`,
};

/** The owner's CTAs with their place in the week, best value per hour first. */
export function plannedCtas(ctas: readonly Cta[], work: readonly WorkItem[], owner: string): PlannedCta[] {
  const byId = new Map(ctas.map((c) => [c.cta_id, c]));
  return work
    .filter((w) => w.owner === owner && byId.has(w.cta_id))
    .map((w) => ({...byId.get(w.cta_id)!, ...w}))
    .sort((a, b) => a.rank_in_queue - b.rank_in_queue);
}

const SOURCE = {override: "set in SaaSGuard", config: "config.capacity.perCsm", default: "the team default"} as const;

/** One line on the CSM's week: hours, what fits, what does not, the digest. */
export function weekSummary(week: CsmWeek | undefined): HTMLElement {
  if (!week) return emptyState("No open CTAs.");
  const over = week.overload_hours > 0;
  return html`<p class="sg-capacity-summary" data-capacity=${week.csm}>
    <strong>${hours(week.capacity_hours)}</strong> a week for CTAs (${SOURCE[week.capacity_source]}) ·
    <strong>${hours(week.hours_this_week)}</strong> planned in ${formatInt(week.ctas_this_week)} CTAs ·
    ${over ? html`<strong class="sg-overdue">${formatInt(week.ctas_next)} CTAs (${hours(week.hours_next)}) do not fit</strong>` : `${formatInt(week.ctas_next)} do not fit`} ·
    ${formatInt(week.ctas_digest)} in the weekly digest (${hours(week.hours_digest)}) ·
    ${formatInt(week.ctas_open)} open CTAs would take ${hours(week.hours_open)}</p>` as HTMLElement;
}

/** A lane's CTAs, ranked by expected ARR saved per hour. */
export function laneTable(rows: readonly PlannedCta[], asOf: string, {why}: {why?: string} = {}): HTMLElement {
  if (!rows.length) return emptyState("None.");
  const due = (c: PlannedCta) => {
    const days = daysUntilDue(c, asOf);
    return html`<span data-due=${c.due_date.toISOString().slice(0, 10)}>${formatDate(c.due_date)}</span><br><span class="sg-meta">${c.overdue ? html`<strong class="sg-overdue">overdue ${formatInt(-days)} d</strong>` : days === 0 ? "today" : `in ${formatInt(days)} d`}</span>`;
  };
  const wrap = (x: unknown) => html`<div style="white-space:normal">${x}</div>`;
  const data = [...rows];
  return Inputs.table(data, {
    columns: [
      "rank_in_queue",
      "company_name",
      "priority",
      "step",
      "effort_hours",
      "expected_arr_saved",
      "value_per_hour",
      "due_date",
      ...(why ? (["lane_reason"] as const) : []),
    ],
    header: {
      rank_in_queue: "#",
      company_name: "Account",
      priority: "Priority",
      step: "Play → step",
      effort_hours: "Effort",
      expected_arr_saved: "Expected ARR saved",
      value_per_hour: "Per hour",
      due_date: "Due",
      lane_reason: why ?? "Why",
    },
    format: {
      company_name: ((n: string, i: number) =>
        wrap(html`<a href=${`./customer-360?id=${encodeURIComponent(data[i]!.customer_id)}`}>${n}</a>`)) as never,
      priority: ((p: Priority) => tierBadge(priorityLabel(p))) as never,
      step: ((s: string, i: number) => wrap(html`<span class="sg-meta">${data[i]!.playbook} →</span> ${s}`)) as never,
      effort_hours: ((h: number) => hours(h)) as never,
      expected_arr_saved: ((x: number, i: number) =>
        html`${formatUsdCompact(x)}<br><span class="sg-meta">P(churn) ${formatPercent(data[i]!.churn_probability)}</span>`) as never,
      value_per_hour: ((x: number) => html`<strong>${perHour(x)}</strong>`) as never,
      due_date: ((_d: Date, i: number) => due(data[i]!)) as never,
      lane_reason: ((r: string) => wrap(LANE_REASONS[r] ?? r)) as never,
    },
    width: {rank_in_queue: 36, priority: 75, effort_hours: 55, value_per_hour: 75, due_date: 95, lane_reason: 150},
    height: Math.min(480, 60 + rows.length * 44),
    select: false,
  }) as HTMLElement;
}

/** The weekly digest, collapsed: CTAs that will not be reached, batched instead of queued. */
export function digestDetails(rows: readonly PlannedCta[], week: CsmWeek | undefined, asOf: string): HTMLElement {
  const worth = week?.digest_max_value_per_hour;
  return html`<details class="sg-digest" id="csm-digest-list">
    <summary><strong>Weekly digest: ${formatInt(rows.length)} CTAs (${hours(rows.reduce((s, r) => s + r.effort_hours, 0))})</strong>
      <span class="sg-meta">${worth === null || worth === undefined ? "" : `— each worth at most ${perHour(worth)}, no more than any CTA kept in the queue`}</span></summary>
    ${laneTable(rows, asOf, {why: "Why in the digest"})}
  </details>` as HTMLElement;
}

const list = (xs: {csm: string; hours: number}[] | null) =>
  (xs ?? []).map((x) => `${x.csm} (${hours(x.hours)})`).join(", ");

/** What the rebalancing suggests for this CSM: hand overflow on, or take some in. */
export function rebalanceAdvice(week: CsmWeek | undefined): HTMLElement {
  if (!week) return html`<span></span>` as HTMLElement;
  if (week.overload_hours > 0)
    return html`<p class="sg-rebalance" data-rebalance="give">${week.move_out_hours > 0 ? html`Suggested: hand <strong>${hours(week.move_out_hours)}</strong> of this overflow to ${list(week.rebalance_to)}` : "No CSM has room this week"}${week.overload_after_hours > 0 ? `; ${hours(week.overload_after_hours)} stay over the week` : ""}.</p>` as HTMLElement;
  if (week.receive_hours > 0)
    return html`<p class="sg-rebalance" data-rebalance="take">Suggested: take <strong>${hours(week.receive_hours)}</strong> from ${list(week.rebalance_from)}, handing your own lowest-value CTAs to next week or the digest.</p>` as HTMLElement;
  return html`<p class="sg-meta">Everything kept fits the week.</p>` as HTMLElement;
}

/** The team's overloaded CSMs and where the greedy suggests their overflow goes. */
export function rebalanceTable(weeks: readonly CsmWeek[]): HTMLElement {
  const over = weeks.filter((w) => w.overload_hours > 0).sort((a, b) => b.overload_hours - a.overload_hours);
  if (!over.length) return emptyState("Every CSM's queue fits their week.");
  return Inputs.table(over, {
    columns: ["csm", "capacity_hours", "overload_hours", "rebalance_to", "overload_after_hours"],
    header: {
      csm: "CSM",
      capacity_hours: "Week",
      overload_hours: "Over by",
      rebalance_to: "Suggested: hand to",
      overload_after_hours: "Still over",
    },
    format: {
      capacity_hours: ((h: number) => hours(h)) as never,
      overload_hours: ((h: number) => hours(h)) as never,
      rebalance_to: ((xs: CsmWeek["rebalance_to"]) =>
        html`<div style="white-space:normal">${list(xs) || "no one has room"}</div>`) as never,
      overload_after_hours: ((h: number) => (h > 0 ? hours(h) : "—")) as never,
    },
    width: {csm: 140, capacity_hours: 60, overload_hours: 70, overload_after_hours: 75},
    height: Math.min(400, 60 + over.length * 36),
    select: false,
  }) as HTMLElement;
}

/** How the lanes are decided, for the note under the cards. */
export function capacityNote(work: readonly WorkItem[]): string {
  const measured = work.some((w) => w.effectiveness_source === "measured");
  const c = config.capacity;
  const effort = Object.entries(c.effortHoursByPlaybook)
    .map(([id, h]) => `${id.replace(/_/g, " ")} ${hours(h)}`)
    .join(", ");
  return (
    `Each CTA is worth P(churn) × ARR × the play's effectiveness (${measured ? "measured per playbook where there is enough data, else " : ""}${formatPercent(config.uplift.effectiveness)} from config.uplift) ÷ its effort (${effort}; config.capacity). ` +
    `A CSM's week (${hours(c.defaultHoursPerWeek)} unless set per CSM) takes the best value per hour first; what will never be reached, or is worth less than ${perHour(c.digestBelowValuePerHour)}, goes to the weekly digest — ` +
    `but never a Critical or started CTA, nor one worth more per hour than a CTA kept in the queue. The rebalancing offers overflow to the CSMs with the most hours not held by Critical or started work.`
  );
}
