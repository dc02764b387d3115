/**
 * Playbook results: whether the team works its CTAs (completion and time to first action per
 * CSM and playbook, marts.mart_cta_performance) and whether working them prevents churn (worked
 * against held-out CTAs, marts.mart_playbook_effectiveness). The second is the one no CS platform
 * reports: a play can be done every time and change nothing.
 */
import * as Plot from "npm:@observablehq/plot";
import {html} from "npm:htl";
import {formatInt, formatPercent0} from "./format.js";
import type {MeasuredEffectiveness} from "./measured-effectiveness.js";
import {PLOT_STYLE} from "./theme.js";
import type {Kpi} from "./ui.js";

/** A row of data/cta_performance.arrow. */
export interface CtaPerformance {
  owner: string;
  playbook_id: string;
  playbook: string;
  ctas_raised: number;
  ctas_worked: number;
  ctas_done: number;
  ctas_dismissed: number;
  ctas_open: number;
  ctas_overdue: number;
  worked_rate: number;
  completion_rate: number;
  median_days_to_first_action: number | null;
  window_days: number;
}

/** The measured rows as the page shows them, with the churn reduction's interval. */
export interface EffectRow extends MeasuredEffectiveness {
  churn_rate_worked: number | null;
  churn_rate_holdout: number | null;
  churn_reduction: number | null;
  churn_reduction_lo: number | null;
  churn_reduction_hi: number | null;
}

const pp = (x: number | null) => (x === null ? "—" : `${(100 * x).toFixed(1)} pts`);
const pct = (x: number | null) => (x === null ? "—" : formatPercent0(x));
const days = (x: number | null) => (x === null ? "—" : `${x.toFixed(1)} d`);

/** The team's headline figures over the window. */
export function teamKpis(rows: readonly CtaPerformance[], effects: readonly EffectRow[]): Kpi[] {
  const team = rows.filter((r) => r.owner === "all");
  const sum = (k: "ctas_raised" | "ctas_worked" | "ctas_done") => team.reduce((s, r) => s + r[k], 0);
  const raised = sum("ctas_raised");
  const all = effects.find((e) => e.playbook_id === "all" && e.play_tier === "all");
  return [
    {id: "ctas-raised", title: `CTAs raised, last ${team[0]?.window_days ?? "—"} days`, value: formatInt(raised)},
    {
      id: "worked-rate",
      title: "Worked (any action)",
      value: raised ? formatPercent0(sum("ctas_worked") / raised) : "—",
    },
    {id: "completion-rate", title: "Completed", value: raised ? formatPercent0(sum("ctas_done") / raised) : "—"},
    {
      id: "measured-effectiveness",
      title: "Churn prevented by working a CTA",
      value: all?.enough_data && all.effectiveness !== null ? formatPercent0(all.effectiveness) : "not enough data yet",
      sub:
        all?.enough_data && all.effectiveness_lo !== null
          ? `${formatPercent0(all.interval_level)} interval ${pct(all.effectiveness_lo)} to ${pct(all.effectiveness_hi)}`
          : (all?.note ?? null),
    },
  ];
}

/** Measured effectiveness per playbook and tier: worked against held out, with intervals, or why not yet. */
export function effectivenessTable(effects: readonly EffectRow[]): HTMLElement {
  const rows = effects
    .filter((e) => e.playbook_id !== "all")
    .sort(
      (a, b) =>
        a.playbook.localeCompare(b.playbook) ||
        (a.play_tier === "all" ? -1 : b.play_tier === "all" ? 1 : a.play_tier.localeCompare(b.play_tier)),
    );
  return html`<table class="sg-table" id="effectiveness-table"><thead><tr><th>Playbook</th><th>Tier</th><th>Worked</th><th>Held out</th>
    <th>Churn, worked</th><th>Churn, held out</th><th>Churn prevented</th><th>Relative</th><th></th></tr></thead><tbody>
    ${rows.map(
      (e) => html`<tr data-playbook=${e.playbook_id} data-tier=${e.play_tier} data-enough=${String(e.enough_data)}>
        <td>${e.playbook}</td><td>${e.play_tier === "all" ? "all tiers" : e.play_tier}</td>
        <td>${formatInt(e.n_worked)}</td><td>${formatInt(e.n_holdout)}</td>
        <td>${pct(e.churn_rate_worked)}</td><td>${pct(e.churn_rate_holdout)}</td>
        <td>${e.enough_data ? html`${pp(e.churn_reduction)} <span class="sg-meta">(${pp(e.churn_reduction_lo)} to ${pp(e.churn_reduction_hi)})</span>` : "—"}</td>
        <td>${e.enough_data ? html`${pct(e.effectiveness)} <span class="sg-meta">(${pct(e.effectiveness_lo)} to ${pct(e.effectiveness_hi)})</span>` : "—"}</td>
        <td class="sg-meta">${e.enough_data ? "" : e.note}</td></tr>`,
    )}</tbody></table>` as HTMLElement;
}

/** Completion per CSM and playbook: raised, worked, done, overdue and the median days to first action. */
export function completionTable(rows: readonly CtaPerformance[], owner: string): HTMLElement {
  const mine = rows.filter((r) => r.owner === owner).sort((a, b) => b.ctas_raised - a.ctas_raised);
  return html`<table class="sg-table" id="completion-table"><thead><tr><th>Playbook</th><th>Raised</th><th>Worked</th><th>Done</th>
    <th>Dismissed</th><th>Open</th><th>Overdue</th><th>Median to first action</th></tr></thead><tbody>
    ${mine.map(
      (r) => html`<tr data-playbook=${r.playbook_id}><td>${r.playbook}</td><td>${formatInt(r.ctas_raised)}</td>
        <td>${formatInt(r.ctas_worked)} <span class="sg-meta">(${formatPercent0(r.worked_rate)})</span></td>
        <td>${formatInt(r.ctas_done)} <span class="sg-meta">(${formatPercent0(r.completion_rate)})</span></td>
        <td>${formatInt(r.ctas_dismissed)}</td><td>${formatInt(r.ctas_open)}</td><td>${formatInt(r.ctas_overdue)}</td>
        <td>${days(r.median_days_to_first_action)}</td></tr>`,
    )}</tbody></table>` as HTMLElement;
}

/** Completion rate per CSM (all playbooks), lowest first: who needs help, or fewer CTAs. */
export function completionByCsmChart(
  rows: readonly CtaPerformance[],
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  const byCsm = new Map<string, {raised: number; done: number; worked: number}>();
  for (const r of rows) {
    if (r.owner === "all") continue;
    const t = byCsm.get(r.owner) ?? {raised: 0, done: 0, worked: 0};
    t.raised += r.ctas_raised;
    t.done += r.ctas_done;
    t.worked += r.ctas_worked;
    byCsm.set(r.owner, t);
  }
  const data = [...byCsm].map(([owner, t]) => ({
    owner,
    worked: t.worked / t.raised,
    done: t.done / t.raised,
    raised: t.raised,
  }));
  data.sort((a, b) => a.worked - b.worked);
  const shown = data.slice(0, 25);
  return Plot.plot({
    ...PLOT_STYLE,
    width,
    height: 24 * shown.length + 40,
    marginLeft: 130,
    x: {label: "share of CTAs raised", tickFormat: "%", domain: [0, 1]},
    y: {label: null, domain: shown.map((d) => d.owner)},
    marks: [
      Plot.barX(shown, {
        y: "owner",
        x: "worked",
        fill: "#9db4d0",
        title: (d) => `${d.owner}: ${formatPercent0(d.worked)} worked of ${formatInt(d.raised)}`,
      }),
      Plot.barX(shown, {
        y: "owner",
        x: "done",
        fill: "#3b6ea5",
        title: (d) => `${d.owner}: ${formatPercent0(d.done)} done`,
      }),
      Plot.ruleX([0]),
    ],
  });
}
