/**
 * Uplift Simulator: how much churning ARR could CS interventions keep,
 * and at what return? Each targeted account's expected churned ARR (the model's calibrated
 * P(churn) × ARR) is reduced by the intervention's
 * effectiveness, at a fixed cost per intervention. Defaults come from config.uplift; the
 * effectiveness is the measured one (worked vs held-out CTAs, marts.mart_playbook_effectiveness)
 * once it has enough data, with its interval's ends as the scenarios.
 */
import * as d3 from "npm:d3";
import * as Plot from "npm:@observablehq/plot";
import {config} from "../rules/config.js";
import {expectedLoss, type Account} from "./accounts.js";
import {formatInt, formatMultiple, formatPercent0, formatUsd, formatUsdCompact} from "./format.js";
import {breakEvenAccounts, roiAt, upliftCurve, type UpliftPoint} from "../rules/dashboard-math.js";
import {ACCENT, BAD, GOOD, MIN_WIDTH, MUTED, PLOT_STYLE} from "./theme.js";
import type {Kpi} from "./ui.js";

export {
  effectivenessAssumption,
  type EffectivenessAssumption,
  type MeasuredEffectiveness,
} from "./measured-effectiveness.js";

export interface UpliftAccountRow {
  customer_id: string;
  plan_tier: string;
  industry: string;
  early: boolean;
  expected: number;
}

/** Every active account with its expected churned ARR over the next 90 days. */
export function upliftAccounts(accounts: readonly Account[]): UpliftAccountRow[] {
  return accounts.map((r) => ({
    customer_id: r.customer_id,
    plan_tier: r.plan_tier,
    industry: r.industry,
    early: r.tenure_days < config.flags.onboardingWindowDays,
    expected: expectedLoss(r),
  }));
}

export interface Scenario {
  cost: number;
  effectiveness: number;
  accounts: number;
  /** the low / middle / high effectiveness scenarios (default config.uplift.scenarios) */
  scenarios?: readonly number[];
}

export function upliftKpis(rows: readonly UpliftAccountRow[], s: Scenario): Kpi[] {
  const curve = upliftCurve(rows, s.effectiveness, s.cost, s.accounts);
  const at = curve.at(-1);
  const be = breakEvenAccounts(rows, s.effectiveness, s.cost);
  const [lo, , hi] = s.scenarios ?? config.uplift.scenarios;
  const scen = (e: number) => upliftCurve(rows, e, s.cost, s.accounts).at(-1)?.recoverable ?? 0;
  return [
    {
      id: "recoverable",
      title: `Recoverable ARR, top ${formatInt(s.accounts)}`,
      value: formatUsdCompact(at?.recoverable ?? 0),
      sub: `at ${formatPercent0(s.effectiveness)} effectiveness`,
      tone: "good",
    },
    {
      id: "scenarios",
      title: "Scenario range",
      value: `${formatUsdCompact(scen(lo ?? 0.1))} – ${formatUsdCompact(scen(hi ?? 0.2))}`,
      sub: `at ${formatPercent0(lo ?? 0.1)} and ${formatPercent0(hi ?? 0.2)} effectiveness`,
    },
    {
      id: "cost",
      title: "Intervention cost",
      value: formatUsdCompact(at?.cost ?? 0),
      sub: `${formatInt(s.accounts)} × ${formatUsd(s.cost)}`,
    },
    {
      id: "roi",
      title: "Return on cost",
      value: formatMultiple(at?.roi ?? 0),
      sub: `net ${formatUsdCompact(at?.net ?? 0)}`,
      tone: (at?.roi ?? 0) >= 1 ? "good" : "alert",
    },
    {
      id: "break-even",
      title: "Worth an intervention",
      value: formatInt(be),
      sub: "accounts whose expected recovery exceeds the cost",
    },
  ];
}

/** Cumulative recoverable ARR vs number of accounts targeted, per effectiveness scenario, with cost. */
export function recoveryCurveChart(
  rows: readonly UpliftAccountRow[],
  s: Scenario,
  {width}: {width: number},
): SVGSVGElement | HTMLElement {
  const maxN = Math.min(rows.length, Math.max(200, s.accounts * 2));
  const effs = [...new Set([...(s.scenarios ?? config.uplift.scenarios), s.effectiveness])].sort((a, b) => a - b);
  const lines = effs.flatMap((e) =>
    upliftCurve(rows, e, s.cost, maxN).map((p) => ({
      ...p,
      scenario: `${formatPercent0(e)} effective`,
      mine: e === s.effectiveness,
    })),
  );
  const cost = d3.range(0, maxN + 1, Math.max(1, Math.floor(maxN / 100))).map((n) => ({n, cost: n * s.cost}));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 320,
    marginLeft: 60,
    style: PLOT_STYLE,
    x: {label: "accounts targeted (largest expected loss first) →", grid: true},
    y: {label: "↑ cumulative ARR", tickFormat: (d: number) => formatUsdCompact(d), grid: true},
    color: {
      legend: true,
      domain: [...new Set(lines.map((l) => l.scenario))],
      range: ["#56b4e9", "#0072b2", "#009e73", "#cc79a7"],
    },
    marks: [
      Plot.line(lines, {
        x: "n",
        y: "recoverable",
        stroke: "scenario",
        strokeWidth: (d: {mine: boolean}) => (d.mine ? 3 : 1.5),
        tip: {format: {y: (v: number) => formatUsd(v)}},
        channels: {ROI: (d: UpliftPoint) => formatMultiple(d.roi)},
      }),
      Plot.line(cost, {x: "n", y: "cost", stroke: MUTED, strokeDasharray: "4,3"}),
      Plot.text(cost.slice(-1), {
        x: "n",
        y: "cost",
        text: () => "intervention cost",
        dy: -8,
        textAnchor: "end",
        fill: MUTED,
      }),
      Plot.ruleX([s.accounts], {stroke: ACCENT, strokeDasharray: "2,2"}),
      Plot.ruleY([0]),
    ],
  });
}

/** Break-even table at config.uplift.accountCounts (10/25/50/100) for each scenario. */
export function roiTable(rows: readonly UpliftAccountRow[], s: Scenario): HTMLElement {
  const counts = config.uplift.accountCounts;
  const effs = [...new Set([...(s.scenarios ?? config.uplift.scenarios), s.effectiveness])].sort((a, b) => a - b);
  const points = effs.map((e) => ({e, pts: roiAt(upliftCurve(rows, e, s.cost, Math.max(...counts)), counts)}));
  const cell = (tag: "td" | "th", text: string, numeric = true, style = "") => {
    const el = document.createElement(tag);
    el.textContent = text;
    if (numeric) el.className = "num";
    if (style) el.setAttribute("style", style);
    return el;
  };
  const table = document.createElement("table");
  table.className = "sg-table";
  table.id = "roi-table";
  const head = table.createTHead().insertRow();
  head.append(cell("th", "Accounts", false), cell("th", "Cost"), cell("th", "Expected loss targeted"));
  for (const p of points)
    head.append(
      cell("th", `Recovered at ${formatPercent0(p.e)}${p.e === s.effectiveness ? " (yours)" : ""}`),
      cell("th", "ROI"),
    );
  const body = table.createTBody();
  counts.forEach((k, i) => {
    const tr = body.insertRow();
    const first = points[0]?.pts[i];
    tr.append(
      cell("td", `Top ${k}`, false),
      cell("td", formatUsdCompact(first?.cost ?? 0)),
      cell("td", formatUsdCompact(first?.atRisk ?? 0)),
    );
    for (const p of points) {
      const x = p.pts[i];
      tr.append(
        cell("td", formatUsdCompact(x?.recoverable ?? 0)),
        cell("td", formatMultiple(x?.roi ?? 0), true, `color:${(x?.roi ?? 0) >= 1 ? GOOD : BAD};font-weight:600`),
      );
    }
  });
  return table;
}

export interface SegmentUplift {
  segment: string;
  /** accounts whose expected recovery exceeds the intervention cost */
  worth: number;
  recoverable: number;
  cost: number;
  net: number;
  roi: number;
}

/** Per segment: the accounts worth an intervention and what treating them returns. */
export function segmentUplift(
  rows: readonly UpliftAccountRow[],
  key: (r: UpliftAccountRow) => string,
  s: Scenario,
): SegmentUplift[] {
  return d3
    .rollups(
      rows,
      (g) => {
        const worth = g.filter((r) => r.expected * s.effectiveness >= s.cost);
        const recoverable = d3.sum(worth, (r) => r.expected) * s.effectiveness;
        const cost = worth.length * s.cost;
        return {
          worth: worth.length,
          recoverable,
          cost,
          net: recoverable - cost,
          roi: cost > 0 ? recoverable / cost : 0,
        };
      },
      key,
    )
    .map(([segment, v]) => ({segment, ...v}))
    .sort((a, b) => b.net - a.net);
}

export function segmentUpliftChart(
  data: readonly SegmentUplift[],
  {width: w, height}: {width: number; height?: number},
): SVGSVGElement | HTMLElement {
  const width = Math.max(w, 360);
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: height ?? 40 + data.length * 34,
    marginLeft: 100,
    marginRight: Math.min(130, width * 0.25),
    style: PLOT_STYLE,
    x: {
      label: "net recoverable ARR (after intervention cost) →",
      tickFormat: (d: number) => formatUsdCompact(d),
      grid: true,
    },
    y: {label: null, domain: data.map((d) => d.segment)},
    marks: [
      Plot.barX(data, {
        x: "net",
        y: "segment",
        fill: (d: SegmentUplift) => (d.net >= 0 ? GOOD : BAD),
        tip: {format: {x: (v: number) => formatUsd(v)}},
        channels: {"Accounts worth it": "worth", ROI: (d: SegmentUplift) => formatMultiple(d.roi)},
      }),
      Plot.text(data, {
        x: "net",
        y: "segment",
        text: (d: SegmentUplift) => `${formatInt(d.worth)} accts · ${formatMultiple(d.roi)}`,
        dx: 5,
        textAnchor: "start",
        fill: MUTED,
      }),
      Plot.ruleX([0]),
    ],
  });
}

/** Early-stage (onboarding window) vs established accounts: recovery per intervention. */
export function earlyStageChart(
  rows: readonly UpliftAccountRow[],
  s: Scenario,
  {width: w}: {width: number},
): SVGSVGElement | HTMLElement {
  const width = Math.max(w, 420);
  const data = segmentUplift(
    rows,
    (r) => (r.early ? `Onboarding (< ${config.flags.onboardingWindowDays} days)` : "Established"),
    s,
  ).map((d) => ({...d, perIntervention: d.worth > 0 ? d.recoverable / d.worth : 0}));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 170,
    marginLeft: 160,
    marginRight: Math.min(130, width * 0.25),
    style: PLOT_STYLE,
    x: {label: "recoverable ARR per intervention →", tickFormat: (d: number) => formatUsdCompact(d), grid: true},
    y: {label: null},
    marks: [
      Plot.barX(data, {
        x: "perIntervention",
        y: "segment",
        fill: ACCENT,
        tip: {format: {x: (v: number) => formatUsd(v)}},
        channels: {"Accounts worth it": "worth", "Net recoverable": (d: SegmentUplift) => formatUsdCompact(d.net)},
      }),
      Plot.text(data, {
        x: "perIntervention",
        y: "segment",
        text: (d: SegmentUplift & {perIntervention: number}) =>
          `${formatUsdCompact(d.perIntervention)} · ${formatInt(d.worth)} accts`,
        dx: 5,
        textAnchor: "start",
        fill: MUTED,
      }),
      Plot.ruleX([s.cost], {stroke: BAD, strokeDasharray: "4,3"}),
      Plot.ruleX([0]),
    ],
  });
}
