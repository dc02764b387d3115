/**
 * Model and score quality: the churn model's card and back-test (calibration, lift, metrics per
 * cutoff, drift) and the health-score accuracy audit — the share of churned accounts that
 * were scored healthy, with its red flag. Reads src/data/model_quality.json (no DuckDB).
 */
import * as d3 from "npm:d3";
import * as Plot from "npm:@observablehq/plot";
import {ACCENT, BAD, GOOD, MIN_WIDTH, MUTED, PLOT_STYLE} from "./theme.js";
import {html} from "npm:htl";
import {config} from "../rules/config.js";
import {formatDate, formatDateTime, formatInt, formatMultiple, formatPercent, parseUtc} from "./format.js";
import type {BuildInfo, Kpi} from "./ui.js";
import {rateCell, type AssistantPoint, type AssistantQuality, type AssistantQualityWeek} from "./assistant-accuracy.js";

/**
 * Red flag for the monthly health-score accuracy audit: more than 20% of churned
 * accounts were scored "healthy" (config.governance.healthyChurnRedFlag).
 */
export const HEALTHY_CHURN_RED_FLAG: number = config.governance.healthyChurnRedFlag;

interface Metrics {
  roc_auc: number;
  pr_auc: number;
  brier: number;
  ece: number;
  lift_top_decile: number;
  precision_at_50: number;
  precision_at_100: number;
  churned_scored_low_share: number;
}

export interface ModelQuality {
  build: BuildInfo;
  card: {
    version: string;
    trained_at: string;
    metrics: Metrics;
    calibration: {
      method: string;
      curve: {lo: number; hi: number; count: number; meanPredicted: number; observedRate: number}[];
    };
    baseline: {model: string; metrics: Metrics};
    truth_auc: number | null;
    features: {name: string}[];
    training?: {rows?: Record<string, number>; cutoffs?: Record<string, string[]>};
  } | null;
  backtest: {
    perCutoff: {
      cutoff_date: string;
      accounts: number;
      churned: number;
      churn_rate: number;
      mean_predicted: number;
      brier: number;
      model_auc: number | null;
      health_auc: number | null;
      churned_scored_healthy: number;
      churned_scored_low: number;
    }[];
    deciles: {decile: number; accounts: number; mean_predicted: number; observed_rate: number; churned: number}[];
    thresholds: {healthy_below: number; low_below: number};
  } | null;
  drift: {decile: number; n: number; predicted: number; observed: number}[];
  /** the health score's components with the weights used on this installation's data */
  /** `needs` is null for a component every installation can measure (the contract's renewal date) */
  healthWeights: {label: string; needs: string | null; measured: boolean; configured_weight: number; weight: number}[];
  healthSegments: {segment_by: string; segment: string; churned: number; own_weights: boolean; min_churned: number}[];
  /** per score and monthly cutoff: accounts active at the cutoff before too, and how many changed tier */
  stability: {
    score: "health score" | "churn model";
    as_of_date: string;
    accounts: number;
    changed_tier: number;
    change_rate: number;
  }[];
  /** the CSM assistant's weeks (marts.mart_assistant_quality): see assistant-accuracy.ts */
  assistant: AssistantQualityWeek[];
}

/** Share of churned accounts scored healthy (health score) and Low (model), over all cutoffs. */
export function healthyChurnShare(q: ModelQuality): {health: number; model: number; churned: number} | null {
  const rows = q.backtest?.perCutoff ?? [];
  const churned = d3.sum(rows, (r) => r.churned);
  if (!churned) return null;
  return {
    health: d3.sum(rows, (r) => r.churned_scored_healthy) / churned,
    model: d3.sum(rows, (r) => r.churned_scored_low) / churned,
    churned,
  };
}

/** Mean |predicted − observed| over the drift deciles (config.governance.maxCalibrationDrift gate). */
export function driftGap(q: ModelQuality): number | null {
  if (!q.drift.length) return null;
  return d3.sum(q.drift, (d) => d.n * Math.abs(d.predicted - d.observed)) / d3.sum(q.drift, (d) => d.n);
}

export function qualityKpis(q: ModelQuality): Kpi[] {
  const m = q.card?.metrics;
  const b = q.card?.baseline.metrics;
  const h = healthyChurnShare(q);
  const gap = driftGap(q);
  const max = config.governance.maxCalibrationDrift;
  return [
    {
      id: "roc-auc",
      title: "ROC-AUC (test)",
      value: m ? m.roc_auc.toFixed(3) : "—",
      sub: b
        ? `baseline ${b.roc_auc.toFixed(3)}${q.card?.truth_auc ? ` · ceiling ${q.card.truth_auc.toFixed(3)}` : ""}`
        : "no model card",
    },
    {
      id: "lift",
      title: "Lift, top decile",
      value: m ? formatMultiple(m.lift_top_decile) : "—",
      sub: m ? `precision@50 ${formatPercent(m.precision_at_50)} · @100 ${formatPercent(m.precision_at_100)}` : "",
    },
    {
      id: "calibration",
      title: "Calibration error (ECE)",
      value: m ? `${(m.ece * 100).toFixed(1)} pp` : "—",
      sub: m ? `Brier ${m.brier.toFixed(4)} · ${q.card!.calibration.method}` : "",
    },
    {
      id: "drift",
      title: "Calibration drift",
      value: gap === null ? "—" : `${(gap * 100).toFixed(1)} pp`,
      sub:
        gap === null
          ? "no matured cohort yet"
          : `gate ${(max * 100).toFixed(0)} pp — ${gap <= max ? "within" : "OVER"}`,
      tone: gap !== null && gap > max ? "alert" : gap !== null ? "good" : undefined,
    },
    {
      id: "healthy-churn",
      title: "Churned but scored healthy",
      value: h ? formatPercent(h.health) : "—",
      sub: h
        ? `health score; model scored ${formatPercent(h.model)} of them Low · red flag > ${formatPercent(HEALTHY_CHURN_RED_FLAG)}`
        : "no back-test",
      tone: h ? (h.health > HEALTHY_CHURN_RED_FLAG ? "alert" : "good") : undefined,
    },
  ];
}

/** Reliability diagram: predicted vs observed churn, card curve (test set) and back-test deciles. */
export function calibrationChart(q: ModelQuality, {width}: {width: number}): SVGSVGElement | HTMLElement {
  const card = (q.card?.calibration.curve ?? [])
    .filter((c) => c.count >= 20)
    .map((c) => ({x: c.meanPredicted, y: c.observedRate, n: c.count, source: "test set (model card)"}));
  const bt = (q.backtest?.deciles ?? []).map((d) => ({
    x: d.mean_predicted,
    y: d.observed_rate,
    n: d.accounts,
    source: "back-test deciles",
  }));
  const all = [...card, ...bt];
  const max = Math.min(1, Math.max(0.1, ...all.map((d) => Math.max(d.x, d.y))) * 1.05);
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: Math.min(360, width * 0.75),
    marginLeft: 50,
    style: PLOT_STYLE,
    x: {domain: [0, max], label: "predicted P(churn 90d) →", tickFormat: "%", grid: true},
    y: {domain: [0, max], label: "↑ observed churn rate", tickFormat: "%", grid: true},
    r: {range: [2, 9]},
    color: {domain: ["test set (model card)", "back-test deciles"], range: [ACCENT, "#e69f00"], legend: true},
    marks: [
      Plot.line(
        [
          [0, 0],
          [max, max],
        ],
        {stroke: MUTED, strokeDasharray: "4,3"},
      ),
      Plot.line(card, {x: "x", y: "y", stroke: "source"}),
      Plot.line(bt, {x: "x", y: "y", stroke: "source"}),
      Plot.dot(all, {
        x: "x",
        y: "y",
        r: "n",
        fill: "source",
        tip: {format: {x: (v: number) => formatPercent(v), y: (v: number) => formatPercent(v)}},
      }),
    ],
  });
}

/** Lift per back-test decile: observed churn rate ÷ the overall rate. */
export function liftChart(q: ModelQuality, {width}: {width: number}): SVGSVGElement | HTMLElement {
  const d = q.backtest?.deciles ?? [];
  const overall =
    d3.sum(d, (x) => x.churned) /
    Math.max(
      1,
      d3.sum(d, (x) => x.accounts),
    );
  const rows = d.map((x) => ({...x, lift: overall > 0 ? x.observed_rate / overall : 0}));
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 260,
    marginLeft: 45,
    style: PLOT_STYLE,
    x: {label: "decile of predicted risk (1 = riskiest 10%) →", type: "band"},
    y: {label: "↑ lift over the average", grid: true},
    marks: [
      Plot.barY(rows, {
        x: "decile",
        y: "lift",
        fill: (r: {lift: number}) => (r.lift >= 1 ? BAD : "#9aa9bb"),
        tip: true,
        channels: {Accounts: "accounts", Churned: "churned"},
      }),
      Plot.text(rows, {x: "decile", y: "lift", text: (r: {lift: number}) => formatMultiple(r.lift), dy: -8}),
      Plot.ruleY([1], {stroke: "#1b2430", strokeDasharray: "3,3"}),
      Plot.ruleY([0]),
    ],
  });
}

/** ROC-AUC per back-test cutoff: churn model vs the health score. */
/** The back-test's cutoffs as month labels, oldest first. */
const cutoffLabels = (q: ModelQuality) => (q.backtest?.perCutoff ?? []).map((r) => monthLabel(r.cutoff_date));

export function aucByCutoffChart(q: ModelQuality, {width}: {width: number}): SVGSVGElement | HTMLElement {
  const rows = (q.backtest?.perCutoff ?? [])
    .flatMap((r) => [
      {date: monthLabel(r.cutoff_date), auc: r.model_auc, score: "churn model"},
      {date: monthLabel(r.cutoff_date), auc: r.health_auc, score: "health score"},
    ])
    .filter((r) => r.auc !== null);
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 240,
    marginLeft: 45,
    style: PLOT_STYLE,
    // in cutoff order (a point scale would sort the month labels alphabetically)
    x: {type: "point", label: "cutoff →", padding: 0.3, domain: cutoffLabels(q)},
    y: {label: "↑ ROC-AUC", domain: [0.5, 1], grid: true},
    color: {domain: ["churn model", "health score"], range: [ACCENT, "#e69f00"], legend: true},
    marks: [
      Plot.lineY(rows, {
        x: "date",
        y: "auc",
        stroke: "score",
        marker: "circle",
        tip: {format: {y: (v: number) => v.toFixed(3)}},
      }),
      Plot.ruleY([0.5]),
    ],
  });
}

/** "Feb 2026" for a cutoff date. */
const monthLabel = (d: string) =>
  parseUtc(d).toLocaleDateString("en-GB", {month: "short", year: "numeric", timeZone: "UTC"});

/** Audit: share of churned accounts scored healthy, per cutoff, against the red flag. */
export function healthyChurnChart(q: ModelQuality, {width}: {width: number}): SVGSVGElement | HTMLElement {
  const rows = (q.backtest?.perCutoff ?? []).flatMap((r) => [
    {
      date: monthLabel(r.cutoff_date),
      share: r.churned ? r.churned_scored_healthy / r.churned : NaN,
      score: "health score: Green",
      churned: r.churned,
    },
    {
      date: monthLabel(r.cutoff_date),
      share: r.churned ? r.churned_scored_low / r.churned : NaN,
      score: "churn model: Low tier",
      churned: r.churned,
    },
  ]);
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 260,
    marginLeft: 45,
    style: PLOT_STYLE,
    // in cutoff order (a point scale would sort the month labels alphabetically)
    x: {type: "point", label: "cutoff →", padding: 0.3, domain: cutoffLabels(q)},
    y: {label: "↑ churned accounts scored healthy", tickFormat: "%", domain: [0, 1], grid: true},
    color: {domain: ["health score: Green", "churn model: Low tier"], range: ["#e69f00", ACCENT], legend: true},
    marks: [
      Plot.ruleY([HEALTHY_CHURN_RED_FLAG], {stroke: BAD, strokeDasharray: "4,3"}),
      Plot.text([`red flag > ${formatPercent(HEALTHY_CHURN_RED_FLAG)} (monthly audit)`], {
        frameAnchor: "top-right",
        dy: 4,
        dx: -4,
        fill: BAD,
      }),
      Plot.lineY(rows, {
        x: "date",
        y: "share",
        stroke: "score",
        marker: "circle",
        tip: {format: {y: (v: number) => formatPercent(v)}},
        channels: {Churned: "churned"},
      }),
    ],
  });
}

/** Drift: predicted vs observed per decile of a matured cohort. */
export function driftChart(q: ModelQuality, {width}: {width: number}): SVGSVGElement | HTMLElement {
  const rows = q.drift.flatMap((d) => [
    {decile: d.decile, v: d.predicted, kind: "predicted", n: d.n},
    {decile: d.decile, v: d.observed, kind: "observed", n: d.n},
  ]);
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 240,
    marginLeft: 45,
    style: PLOT_STYLE,
    x: {label: "decile of predicted risk →", ticks: q.drift.map((d) => d.decile), tickFormat: "d"},
    y: {label: "↑ churn rate", tickFormat: "%", grid: true, zero: true},
    color: {domain: ["predicted", "observed"], range: [ACCENT, "#e69f00"], legend: true},
    marks: [
      Plot.ruleX(q.drift, {x: "decile", y1: "predicted", y2: "observed", stroke: MUTED}),
      Plot.dot(rows, {
        x: "decile",
        y: "v",
        fill: "kind",
        r: 4,
        tip: {format: {y: (v: number) => formatPercent(v)}},
        channels: {Accounts: "n"},
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** The model against its baseline on the held-out test set (model card). */
export function metricsTable(q: ModelQuality): HTMLElement {
  const c = q.card;
  if (!c) return html`<div class="sg-empty">No model card.</div>` as HTMLElement;
  const rows: [string, keyof Metrics, (x: number) => string, boolean][] = [
    ["ROC-AUC", "roc_auc", (x) => x.toFixed(3), true],
    ["PR-AUC", "pr_auc", (x) => x.toFixed(3), true],
    ["Brier score", "brier", (x) => x.toFixed(4), false],
    ["Calibration error (ECE)", "ece", (x) => `${(x * 100).toFixed(2)} pp`, false],
    ["Lift, top decile", "lift_top_decile", formatMultiple, true],
    ["Precision at 50", "precision_at_50", formatPercent, true],
    ["Precision at 100", "precision_at_100", formatPercent, true],
    ["Churned scored Low", "churned_scored_low_share", formatPercent, false],
  ];
  return html`<table class="sg-table" id="metrics-table"><thead><tr><th>Metric (test set)</th><th class="num">Churn model</th><th class="num">${c.baseline.model}</th></tr></thead><tbody>
    ${rows.map(([label, k, f, up]) => {
      const better = up ? c.metrics[k] >= c.baseline.metrics[k] : c.metrics[k] <= c.baseline.metrics[k];
      return html`<tr><td>${label}</td><td class="num" style=${`font-weight:600;color:${better ? GOOD : BAD}`}>${f(c.metrics[k])}</td><td class="num">${f(c.baseline.metrics[k])}</td></tr>`;
    })}</tbody></table>` as HTMLElement;
}

/** The health score's components: configured weight, and the weight used with this installation's data. */
export function healthWeightsTable(q: ModelQuality): HTMLElement {
  return html`<table class="sg-table" id="health-weights-table"><thead><tr><th>Component</th><th>Needs</th><th class="num">Configured weight</th><th class="num">Weight used</th></tr></thead><tbody>
    ${q.healthWeights.map(
      (h) =>
        html`<tr><td>${h.label}</td><td>${h.needs?.replaceAll("_", " ") ?? "the contract (always there)"}</td><td class="num">${formatPercent(h.configured_weight)}</td><td class="num" style=${h.measured ? "" : `color:${BAD}`}>${h.measured ? formatPercent(h.weight) : "not measured: no data"}</td></tr>`,
    )}</tbody></table>${segmentsNote(q)}` as HTMLElement;
}

/** Which segments score with weights of their own (fitted by npm run health:tune), and why the others do not. */
function segmentsNote(q: ModelQuality): HTMLElement | string {
  const s = q.healthSegments;
  if (!s.length) return "";
  const by = s[0]!.segment_by.replaceAll("_", " ");
  const own = s.filter((x) => x.own_weights);
  const global = s.filter((x) => !x.own_weights);
  return html`<div class="sg-meta" id="health-segments">
    The weights above score every account whose ${by} has no weights of its own. A ${by} gets its own
    (fitted by <code>npm run health:tune</code>) with at least ${formatInt(s[0]!.min_churned)} churned accounts on the
    fitting cutoffs.
    ${own.length ? html`Own weights: ${own.map((x) => `${x.segment} (${formatInt(x.churned)} churned)`).join(", ")}.` : ""}
    ${global.length ? html`On these weights, too little history: ${global.map((x) => `${x.segment} (${formatInt(x.churned)})`).join(", ")}.` : ""}
  </div>` as HTMLElement;
}

/** How often each score's tier changed from one monthly cutoff to the next. */
export function stabilityTable(q: ModelQuality): HTMLElement {
  const dates = [...new Set(q.stability.map((r) => r.as_of_date))].sort();
  const cell = (score: string, d: string) => {
    const r = q.stability.find((x) => x.score === score && x.as_of_date === d);
    return r ? `${formatPercent(r.change_rate)} (${formatInt(r.changed_tier)} of ${formatInt(r.accounts)})` : "—";
  };
  return html`<table class="sg-table" id="stability-table"><thead><tr><th>Cutoff</th><th class="num">Health score: tier changed</th><th class="num">Churn model: tier changed</th></tr></thead><tbody>
    ${dates.map((d) => html`<tr><td>${formatDate(d)}</td><td class="num">${cell("health score", d)}</td><td class="num">${cell("churn model", d)}</td></tr>`)}
  </tbody></table>` as HTMLElement;
}

/** Per-cutoff back-test table. */
export function backtestTable(q: ModelQuality): HTMLElement {
  const rows = q.backtest?.perCutoff ?? [];
  return html`<table class="sg-table" id="backtest-table"><thead><tr><th>Cutoff</th><th class="num">Accounts</th><th class="num">Churned (90 d)</th><th class="num">Observed</th><th class="num">Predicted</th><th class="num">AUC model</th><th class="num">AUC health</th><th class="num">Churned scored healthy</th></tr></thead><tbody>
    ${rows.map(
      (
        r,
      ) => html`<tr><td>${formatDate(r.cutoff_date)}</td><td class="num">${formatInt(r.accounts)}</td><td class="num">${formatInt(r.churned)}</td>
      <td class="num">${formatPercent(r.churn_rate)}</td><td class="num">${formatPercent(r.mean_predicted)}</td>
      <td class="num">${r.model_auc?.toFixed(3) ?? "—"}</td><td class="num">${r.health_auc?.toFixed(3) ?? "—"}</td>
      <td class="num" style=${r.churned && r.churned_scored_healthy / r.churned > HEALTHY_CHURN_RED_FLAG ? `color:${BAD};font-weight:600` : `color:${GOOD}`}>${r.churned ? formatPercent(r.churned_scored_healthy / r.churned) : "—"}</td></tr>`,
    )}
  </tbody></table>` as HTMLElement;
}

/** Identity of the model: version, training date, features, cutoffs. */
export function cardSummary(q: ModelQuality): HTMLElement {
  const c = q.card;
  if (!c)
    return html`<div class="sg-callout sg-warn">No model card in models/ — train the churn model (<code>npm run train</code>) and rebuild.</div>` as HTMLElement;
  const t = c.training;
  return html`<div class="sg-callout" id="model-card">Model <strong>${c.version}</strong>, trained ${formatDateTime(c.trained_at.replace("T", " ").replace("Z", ""))} · ${c.features.length} features ·
    calibration: ${c.calibration.method} · baseline: ${c.baseline.model}${
      t?.rows
        ? html` · rows: ${Object.entries(t.rows)
            .map(([k, v]) => `${k} ${formatInt(v)}`)
            .join(", ")}`
        : ""
    }
    ${
      t?.cutoffs
        ? html`<br><span class="sg-meta">Cutoffs — ${Object.entries(t.cutoffs)
            .map(([k, v]) => `${k}: ${v[0]} … ${v.at(-1)}`)
            .join(" · ")}</span>`
        : ""
    }</div>` as HTMLElement;
}

/**
 * A week-by-week share of the assistant (accuracy, or the guardrail pass share) per generator ×
 * audience against its target line. A week with too few ratings (or summaries) is a hollow dot:
 * shown, with its count in the tip, but not to be read as a trend.
 */
function assistantShareChart(
  a: AssistantQuality,
  {width}: {width: number},
  spec: {
    value: (p: AssistantPoint) => number | null;
    enough: (p: AssistantPoint) => boolean;
    target: number;
    label: string;
    count: string;
  },
): SVGSVGElement | HTMLElement {
  const pts = a.points
    .filter((p) => spec.value(p) !== null)
    .map((p) => ({...p, date: parseUtc(p.week), v: spec.value(p)!, n: spec.count === "Rated" ? p.rated : p.made}));
  const tip = {
    format: {
      x: (d: Date) => `week of ${formatDate(d)}`,
      y: (v: number) => formatPercent(v),
      fill: false,
      stroke: false,
      r: false,
    },
  };
  const channels = {[spec.count]: "n", Series: "series"};
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 260,
    marginLeft: 45,
    style: PLOT_STYLE,
    // a tick per Monday (every other one on a narrow screen): the data are weekly
    x: {
      type: "utc",
      label: "week of →",
      tickFormat: "%d %b",
      ticks: d3.utcMonday.every(width < 560 ? 2 : 1) ?? undefined,
    },
    y: {label: `↑ ${spec.label}`, tickFormat: "%", domain: [0, 1], grid: true},
    color: {domain: a.series, legend: true},
    r: {range: [3, 9]},
    marks: [
      Plot.ruleY([spec.target], {stroke: BAD, strokeDasharray: "4,3"}),
      Plot.text([`target ≥ ${formatPercent(spec.target)}`], {frameAnchor: "bottom-right", dy: -4, dx: -4, fill: BAD}),
      Plot.lineY(pts, {x: "date", y: "v", stroke: "series", strokeOpacity: 0.4}),
      Plot.dot(
        pts.filter((p) => spec.enough(p)),
        {x: "date", y: "v", fill: "series", r: "n", tip, channels},
      ),
      Plot.dot(
        pts.filter((p) => !spec.enough(p)),
        {x: "date", y: "v", stroke: "series", fill: "white", r: "n", strokeWidth: 1.5, tip, channels},
      ),
    ],
  });
}

/** Accuracy per week: the share of CSM ratings that say "accurate", against config.assistant.accuracyTarget. */
export function assistantAccuracyChart(a: AssistantQuality, size: {width: number}): SVGSVGElement | HTMLElement {
  return assistantShareChart(a, size, {
    value: (p) => p.accuracy,
    enough: (p) => p.enough,
    target: a.targets.accuracy,
    label: "rated accurate",
    count: "Rated",
  });
}

/** The share of summaries that passed every guardrail, per week, against config.assistant.guardrailPassTarget. */
export function assistantGuardrailChart(a: AssistantQuality, size: {width: number}): SVGSVGElement | HTMLElement {
  return assistantShareChart(a, size, {
    value: (p) => p.guardrail_pass_share,
    enough: (p) => p.enough_made,
    target: a.targets.guardrailPass,
    label: "passed the guardrails",
    count: "Made",
  });
}

/** The counts behind both charts, newest week first. */
export function assistantTable(a: AssistantQuality): HTMLElement {
  const rows = [...a.points].reverse();
  const tone = (share: number | null, enough: boolean, target: number) =>
    share === null || !enough ? "" : share >= target ? `color:${GOOD}` : `color:${BAD};font-weight:600`;
  return html`<table class="sg-table" id="assistant-table"><thead><tr><th>Week of</th><th>Generator · audience</th><th class="num">Made</th><th class="num">Passed the guardrails</th><th class="num">Rated</th><th class="num">Rated accurate</th></tr></thead><tbody>
    ${rows.map(
      (
        p,
      ) => html`<tr data-week=${p.week} data-series=${p.series}><td>${formatDate(p.week)}</td><td>${p.series}</td><td class="num">${formatInt(p.made)}</td>
      <td class="num" style=${tone(p.guardrail_pass_share, p.enough_made, a.targets.guardrailPass)}>${rateCell(p.guardrail_passed, p.made, p.enough_made)}</td>
      <td class="num">${formatInt(p.rated)}</td>
      <td class="num" style=${tone(p.accuracy, p.enough, a.targets.accuracy)}>${rateCell(p.accurate, p.rated, p.enough)}</td></tr>`,
    )}
  </tbody></table>` as HTMLElement;
}
