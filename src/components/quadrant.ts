/**
 * Propensity Quadrant: churn risk × expansion propensity per account, from
 * marts.mart_propensity_quadrant (src/data/quadrant.arrow). Thresholds and labels come from
 * config.quadrant. The mart places every account on two churn axes that can disagree — the
 * health score's risk (rule-based, transparent; the page's default) and the churn model's
 * calibrated probability (what the API's is_flight_risk uses) — and on two expansion axes: the
 * expansion model's calibrated probability (the default) and the rule-based proxy beside it.
 * `onAxis` picks one of each; the agreement table shows where the churn axes differ.
 */
import * as Plot from "npm:@observablehq/plot";
import {MIN_WIDTH, MUTED, PLOT_STYLE, QUADRANT_COLOURS} from "./theme.js";
import * as Inputs from "npm:@observablehq/inputs";
import {html} from "npm:htl";
import {config} from "../rules/config.js";
import {sample} from "./accounts.js";
import {formatInt, formatPercent, formatUsdCompact} from "./format.js";

const L = config.quadrant.labels;
export const QUADRANTS = [L.flightRisk, L.growthEngine, L.churnCandidate, L.stableBase];

/** What to do in each quadrant. */
export const QUADRANT_ACTIONS: Record<string, string> = {
  [L.flightRisk]: "Senior exec intervention — restore health before any upsell motion",
  [L.growthEngine]: "Active upgrade conversation — highest-ROI segment",
  [L.churnCandidate]: "Retention priority — defer expansion until health is restored",
  [L.stableBase]: "Nurture — product-led expansion signals, no active outreach",
};

export type Contacted = "All accounts" | "Contacted" | "Not contacted";

/** The rows the filters keep. */
export function filterQuadrant(
  rows: readonly QuadrantPoint[],
  contacted: Contacted,
  plans: readonly string[],
): QuadrantPoint[] {
  return rows.filter(
    (r) =>
      plans.includes(r.plan_tier) && (contacted === "All accounts" || r.was_contacted === (contacted === "Contacted")),
  );
}

/** One row of quadrant.arrow: the account on both churn axes. */
export interface QuadrantRow {
  customer_id: string;
  company_name: string;
  plan_tier: string;
  industry: string;
  days_since_last_outreach: number | null;
  health_risk: number;
  health_quadrant: string;
  churn_probability: number;
  model_quadrant: string;
  upgrade_propensity_proxy: number;
  expected_arr_uplift_proxy: number;
  expansion_probability: number;
  expected_expansion_arr: number;
  health_quadrant_by_expansion_model: string;
  model_quadrant_by_expansion_model: string;
  was_contacted: boolean;
  arr: number;
}

export type ChurnAxis = "health" | "model";
export type ExpansionAxis = "model" | "proxy";

/** The axis names the page shows. */
export const AXIS_LABELS: Record<ChurnAxis, string> = {
  health: "Health-score risk (rule-based)",
  model: "Churn model probability (90 days)",
};
export const EXPANSION_AXIS_LABELS: Record<ExpansionAxis, string> = {
  model: "Expansion model probability (90 days)",
  proxy: "Expansion proxy (rule-based)",
};

/**
 * The rows on one churn axis and one expansion axis: `risk` is the x value, `growth` the y value,
 * `uplift` the expected expansion ARR on that expansion axis, and `quadrant` the account's quadrant.
 */
export function onAxis(
  rows: readonly QuadrantRow[],
  axis: ChurnAxis,
  expansion: ExpansionAxis = "model",
): QuadrantPoint[] {
  return rows.map((r) => ({
    ...r,
    risk: axis === "health" ? r.health_risk : r.churn_probability,
    growth: expansion === "model" ? r.expansion_probability : r.upgrade_propensity_proxy,
    uplift: expansion === "model" ? r.expected_expansion_arr : r.expected_arr_uplift_proxy,
    quadrant:
      expansion === "model"
        ? axis === "health"
          ? r.health_quadrant_by_expansion_model
          : r.model_quadrant_by_expansion_model
        : axis === "health"
          ? r.health_quadrant
          : r.model_quadrant,
  }));
}

/** How many accounts each pair (health quadrant, model quadrant) holds on one expansion axis: where the two churn axes disagree. */
export function quadrantAgreement(rows: readonly QuadrantRow[], expansion: ExpansionAxis = "model"): HTMLElement {
  const health = onAxis(rows, "health", expansion);
  const model = onAxis(rows, "model", expansion);
  const count = (h: string, m: string) => health.filter((r, i) => r.quadrant === h && model[i]!.quadrant === m).length;
  const same = health.filter((r, i) => r.quadrant === model[i]!.quadrant).length;
  return html`<div>
    <p class="sg-meta" id="quadrant-agreement-share">
      ${formatInt(same)} of ${formatInt(rows.length)} accounts
      (${rows.length ? formatPercent(same / rows.length) : "—"}) sit in the same quadrant on both axes.
    </p>
    <table class="sg-table" id="quadrant-agreement">
      <thead>
        <tr>
          <th>Health-score quadrant ↓ / model quadrant →</th>
          ${QUADRANTS.map((m) => html`<th class="num">${m}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${QUADRANTS.map(
          (h) =>
            html`<tr data-health-quadrant=${h}>
              <td><strong>${h}</strong></td>
              ${QUADRANTS.map((m) => html`<td class="num" data-model-quadrant=${m}>${formatInt(count(h, m))}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>` as HTMLElement;
}

/** A row on the chosen churn axis. */
export interface QuadrantPoint extends QuadrantRow {
  risk: number;
  growth: number;
  uplift: number;
  quadrant: string;
}

/**
 * The points to draw: each quadrant's accounts, a repeatable sample of at most `limit` per
 * quadrant (Stable Base at most `stableLimit`), so 100,000 accounts still draw quickly.
 */
export function quadrantPoints(
  rows: readonly QuadrantPoint[],
  stableLimit = 3000,
  limit = 4000,
): {points: QuadrantPoint[]; stableTotal: number; stableShown: number; sampled: boolean} {
  const points: QuadrantPoint[] = [];
  let stableTotal = 0;
  let stableShown = 0;
  let sampled = false;
  for (const q of [L.stableBase, L.churnCandidate, L.growthEngine, L.flightRisk]) {
    const all = rows.filter((r) => r.quadrant === q);
    const shown = sample(all, q === L.stableBase ? stableLimit : limit, 7);
    sampled ||= shown.length < all.length;
    if (q === L.stableBase) ((stableTotal = all.length), (stableShown = shown.length));
    points.push(...shown);
  }
  return {points, stableTotal, stableShown, sampled};
}

export function quadrantScatter(
  points: readonly QuadrantPoint[],
  {width, axis = "health", expansion = "model"}: {width: number; axis?: ChurnAxis; expansion?: ExpansionAxis},
): SVGSVGElement | HTMLElement {
  const q = config.quadrant;
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: Math.min(560, Math.max(360, width * 0.6)),
    marginLeft: 50,
    style: PLOT_STYLE,
    x: {domain: [0, 1], label: `${AXIS_LABELS[axis].toLowerCase()} →`, tickFormat: "%", grid: true},
    y: {domain: [0, 1], label: `↑ ${EXPANSION_AXIS_LABELS[expansion].toLowerCase()}`, tickFormat: "%", grid: true},
    r: {range: [1.5, 14]},
    color: {domain: QUADRANTS, range: QUADRANTS.map((l) => QUADRANT_COLOURS[l] ?? "#999"), legend: true},
    marks: [
      Plot.rect([{x1: q.highChurn, x2: 1, y1: q.highExpansion, y2: 1}], {
        x1: "x1",
        x2: "x2",
        y1: "y1",
        y2: "y2",
        fill: QUADRANT_COLOURS[L.flightRisk],
        fillOpacity: 0.05,
      }),
      Plot.rect([{x1: 0, x2: q.lowChurn, y1: q.highExpansion, y2: 1}], {
        x1: "x1",
        x2: "x2",
        y1: "y1",
        y2: "y2",
        fill: QUADRANT_COLOURS[L.growthEngine],
        fillOpacity: 0.05,
      }),
      Plot.rect([{x1: q.highChurn, x2: 1, y1: 0, y2: q.lowExpansion}], {
        x1: "x1",
        x2: "x2",
        y1: "y1",
        y2: "y2",
        fill: QUADRANT_COLOURS[L.churnCandidate],
        fillOpacity: 0.05,
      }),
      Plot.dot(points, {
        x: "risk",
        y: "growth",
        r: "uplift",
        fill: "quadrant",
        fillOpacity: (d: QuadrantPoint) => (d.quadrant === L.stableBase ? 0.3 : 0.65),
        stroke: (d: QuadrantPoint) => (d.was_contacted ? "#1b2430" : "none"),
        strokeWidth: 0.6,
        strokeOpacity: 0.6,
        tip: {
          format: {
            x: (v: number) => formatPercent(v),
            y: (v: number) => formatPercent(v),
            r: (v: number) => formatUsdCompact(v),
          },
        },
        channels: {
          Account: "company_name",
          ARR: (d: QuadrantPoint) => formatUsdCompact(d.arr),
          Contacted: (d: QuadrantPoint) => (d.was_contacted ? "yes" : "no"),
        },
      }),
      Plot.ruleX([q.highChurn], {stroke: "#1b2430", strokeDasharray: "4,3"}),
      Plot.ruleY([q.highExpansion], {stroke: "#1b2430", strokeDasharray: "4,3"}),
      Plot.ruleX([q.lowChurn], {stroke: MUTED, strokeDasharray: "1,3"}),
      Plot.ruleY([q.lowExpansion], {stroke: MUTED, strokeDasharray: "1,3"}),
      Plot.text([L.growthEngine], {
        x: q.lowChurn / 2,
        y: 0.98,
        fill: QUADRANT_COLOURS[L.growthEngine],
        fontWeight: 700,
        fontSize: 14,
        stroke: "white",
        strokeWidth: 4,
        paintOrder: "stroke",
      }),
      Plot.text([L.flightRisk], {
        x: (1 + q.highChurn) / 2,
        y: 0.98,
        fill: QUADRANT_COLOURS[L.flightRisk],
        fontWeight: 700,
        fontSize: 14,
        stroke: "white",
        strokeWidth: 4,
        paintOrder: "stroke",
      }),
      Plot.text([L.churnCandidate], {
        x: (1 + q.highChurn) / 2,
        y: 0.02,
        fill: QUADRANT_COLOURS[L.churnCandidate],
        fontWeight: 700,
        fontSize: 14,
        stroke: "white",
        strokeWidth: 4,
        paintOrder: "stroke",
      }),
    ],
  });
}

/** Accounts, ARR, expected expansion ARR (on the chosen expansion axis) and contact coverage per quadrant. */
export function quadrantSummary(rows: readonly QuadrantPoint[]): HTMLElement {
  const by = new Map(QUADRANTS.map((q) => [q, rows.filter((r) => r.quadrant === q)]));
  const sum = (g: readonly QuadrantPoint[], f: (r: QuadrantPoint) => number) => g.reduce((a, r) => a + f(r), 0);
  return html`<table class="sg-table" id="quadrant-summary"><thead><tr><th>Quadrant</th><th class="num">Accounts</th><th class="num">ARR</th><th class="num">Expected expansion ARR</th><th class="num">Contacted (${config.quadrant.contactedWithinDays} d)</th><th>Action</th></tr></thead><tbody>
    ${QUADRANTS.map((label) => {
      const g = by.get(label) ?? [];
      return html`<tr data-quadrant=${label}><td><span class="sg-swatch" style=${`background:${QUADRANT_COLOURS[label]}`}></span><strong>${label}</strong></td>
      <td class="num">${formatInt(g.length)}</td><td class="num">${formatUsdCompact(sum(g, (r) => r.arr))}</td><td class="num">${formatUsdCompact(sum(g, (r) => r.uplift))}</td>
      <td class="num">${g.length ? formatPercent(g.filter((r) => r.was_contacted).length / g.length) : "—"}</td><td>${QUADRANT_ACTIONS[label]}</td></tr>`;
    })}</tbody></table>` as HTMLElement;
}

/** The largest Flight Risk and Growth Engine accounts (expected expansion ARR first), with both expansion axes side by side. */
export function priorityAccounts(rows: readonly QuadrantPoint[]): HTMLElement {
  const data = rows
    .filter((r) => r.quadrant === L.flightRisk || r.quadrant === L.growthEngine)
    .sort((a, b) => b.uplift - a.uplift)
    .slice(0, 200);
  return Inputs.table(data, {
    columns: [
      "company_name",
      "quadrant",
      "plan_tier",
      "arr",
      "risk",
      "expansion_probability",
      "upgrade_propensity_proxy",
      "uplift",
      "was_contacted",
      "days_since_last_outreach",
    ],
    header: {
      company_name: "Account",
      quadrant: "Quadrant",
      plan_tier: "Plan",
      arr: "ARR",
      risk: "Churn",
      expansion_probability: "Expansion (model)",
      upgrade_propensity_proxy: "Expansion (proxy)",
      uplift: "Expected expansion ARR",
      was_contacted: "Contacted",
      days_since_last_outreach: "Days since touch",
    },
    format: {
      company_name: ((n: string, i: number) =>
        html`<a href=${`./customer-360?id=${encodeURIComponent(data[i]!.customer_id)}`}>${n}</a>`) as never,
      arr: ((x: number) => formatUsdCompact(x)) as never,
      risk: ((x: number) => formatPercent(x)) as never,
      expansion_probability: ((x: number) => formatPercent(x)) as never,
      upgrade_propensity_proxy: ((x: number) => formatPercent(x)) as never,
      uplift: ((x: number) => formatUsdCompact(x)) as never,
      was_contacted: ((x: boolean) => (x ? "yes" : html`<strong style="color:#b34700">no</strong>`)) as never,
      days_since_last_outreach: ((x: number | null) => (x === null ? "never" : formatInt(x))) as never,
    },
    width: {company_name: 190},
    rows: 12,
    select: false,
  });
}
