/**
 * In-browser rescoring for the Customer 360 what-if panel: the very ONNX model the nightly build
 * and the API score with, run by onnxruntime-web (wasm backend, single-threaded, the .wasm served
 * by this site). Inputs are encoded exactly as the model card says (metrics.ts `encodeRow`).
 */
import type {InferenceSession as Session} from "npm:onnxruntime-web";
import {encodeRow, type CardFeature} from "../rules/dashboard-math.js";
import {html} from "npm:htl";
import {tierOfProbability} from "../rules/config.js";
import {featureLabel} from "../rules/labels.js";
import {formatPercent} from "./format.js";
import {TIER_COLOURS} from "./theme.js";

/** The part of models/churn_model.card.json the browser needs (src/data/model_card.json). */
export interface BrowserCard {
  version: string;
  /** false when models/churn_model.onnx is not the model that scored this build */
  model_file_matches?: boolean | null;
  trained_at: string;
  features: CardFeature[];
  onnx: {
    input: {name: string; shape: [string | number, number]};
    outputs: {name: string; shape: (string | number)[]}[];
  };
}

export interface Scorer {
  card: BrowserCard;
  /** calibrated P(churn in 90 days) for each row of feature values (by feature name) */
  score(rows: readonly Readonly<Record<string, unknown>>[]): Promise<number[]>;
}

/**
 * Loads onnxruntime-web and the model. `model` is the ONNX file's bytes; throws with a clear
 * message when the model is missing or does not match the card.
 */
export async function loadScorer(card: BrowserCard | null, model: ArrayBuffer): Promise<Scorer> {
  if (!card || model.byteLength === 0)
    throw new Error("no churn model in this build (run `npm run train`, then rebuild)");
  const ort = await import("npm:onnxruntime-web");
  ort.env.wasm.numThreads = 1; // no SharedArrayBuffer on a plain static host
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = {wasm: import.meta.resolve("npm:onnxruntime-web/dist/ort-wasm-simd-threaded.wasm")};
  const session: Session = await ort.InferenceSession.create(new Uint8Array(model), {executionProviders: ["wasm"]});
  const input = card.onnx.input.name;
  const width = card.features.length;
  if (!session.inputNames.includes(input))
    throw new Error(`model input ${JSON.stringify(input)} not found (model has ${session.inputNames.join(", ")})`);
  const output = session.outputNames.includes("probability") ? "probability" : session.outputNames[0]!;
  return {
    card,
    async score(rows) {
      const data = new Float32Array(rows.length * width);
      rows.forEach((r, i) => data.set(encodeRow(card.features, r), i * width));
      const result = await session.run({[input]: new ort.Tensor("float32", data, [rows.length, width])});
      return Array.from(result[output]!.data as Float32Array, Number);
    },
  };
}

/** One what-if control: a label, its range, how to read it from and write it into a feature row. */
export interface WhatIfInput {
  id: string;
  label: string;
  min: number;
  max: number;
  step: number;
  /** features this control needs in the card; it is hidden when any is missing */
  needs: readonly string[];
  read(values: Readonly<Record<string, unknown>>): number;
  /** returns a new row with the control set to `x` (related features kept consistent) */
  write(values: Readonly<Record<string, unknown>>, x: number): Record<string, unknown>;
}

const num = (v: unknown, fallback = 0): number => (typeof v === "number" && Number.isFinite(v) ? v : fallback);

/** Usage counters over the last 30 days that move together when usage changes. */
const USAGE_30D = ["logins_30d", "feature_uses_30d", "api_calls_30d", "report_exports_30d"];

/**
 * A ticket count (0–10): the totals that include it move by the same amount, and never fall
 * below the count itself.
 */
function ticketCount(id: string, totals: readonly string[]): WhatIfInput {
  return {
    id,
    label: featureLabel(id),
    min: 0,
    max: 10,
    step: 1,
    needs: [id],
    read: (v) => num(v[id]),
    write: (v, x) => {
      const d = x - num(v[id]);
      const out: Record<string, unknown> = {...v, [id]: x};
      for (const t of totals) if (t in v) out[t] = Math.max(num(v[t]) + d, x);
      return out;
    },
  };
}

/**
 * The panel's controls. Derived features follow the warehouse's definitions
 * (loaders/sql/int_customer_features_as_of.sql): events per seat, the 30-vs-prior-60-day trend
 * ratio (capped at 3) and the 90-day total are recomputed from the edited 30-day events.
 */
export const WHAT_IF_INPUTS: readonly WhatIfInput[] = [
  {
    id: "events_last_30d",
    label: featureLabel("events_last_30d"),
    min: 0,
    max: 5000,
    step: 10,
    needs: ["events_last_30d"],
    read: (v) => num(v.events_last_30d),
    write: (v, x) => {
      const old = num(v.events_last_30d);
      const k = old > 0 ? x / old : 0;
      const out: Record<string, unknown> = {...v, events_last_30d: x};
      if ("events_last_7d" in v) out.events_last_7d = old > 0 ? num(v.events_last_7d) * k : (x / 30) * 7;
      for (const f of USAGE_30D) if (f in v) out[f] = old > 0 ? num(v[f]) * k : 0;
      if ("events_per_seat_30d" in v) out.events_per_seat_30d = x / Math.max(num(v.seats, 1), 1);
      if ("events_last_90d" in v) out.events_last_90d = num(v.events_prev_60d) + x;
      if ("usage_trend_ratio" in v && v.usage_trend_ratio !== null)
        out.usage_trend_ratio = Math.min(x / Math.max(num(v.events_prev_60d) / 2, 1), 3);
      if ("active_days_30d" in v) out.active_days_30d = x === 0 ? 0 : Math.max(num(v.active_days_30d), 1);
      return out;
    },
  },
  ticketCount("high_priority_tickets_30d", ["tickets_30d", "tickets_90d"]),
  ticketCount("open_high_priority_tickets", ["open_tickets"]),
  {
    id: "integrations_90d",
    label: featureLabel("integrations_90d"),
    min: 0,
    max: 20,
    step: 1,
    needs: ["integrations_90d"],
    read: (v) => num(v.integrations_90d),
    write: (v, x) => ({...v, integrations_90d: x}),
  },
  {
    id: "seat_utilisation",
    label: `${featureLabel("seat_utilisation")} (peak active users ÷ seats)`,
    min: 0,
    max: 1.5,
    step: 0.05,
    needs: ["seat_utilisation"],
    read: (v) => num(v.seat_utilisation),
    write: (v, x) => ({...v, seat_utilisation: x}),
  },
  {
    id: "latest_nps",
    label: `${featureLabel("latest_nps")} (0–10)`,
    min: 0,
    max: 10,
    step: 1,
    needs: ["latest_nps"],
    read: (v) => num(v.latest_nps, 7),
    write: (v, x) => ({...v, latest_nps: x}),
  },
  {
    id: "outreach_30d",
    label: featureLabel("outreach_30d"),
    min: 0,
    max: 10,
    step: 1,
    needs: ["outreach_30d"],
    read: (v) => num(v.outreach_30d),
    write: (v, x) => {
      const out: Record<string, unknown> = {...v, outreach_30d: x};
      if ("days_since_last_outreach" in v && x > 0)
        out.days_since_last_outreach = Math.min(num(v.days_since_last_outreach, 999), 7);
      return out;
    },
  },
];

/** The controls the card's features support. */
export function whatIfInputs(card: BrowserCard): WhatIfInput[] {
  const names = new Set(card.features.map((f) => f.name));
  return WHAT_IF_INPUTS.filter((i) => i.needs.every((n) => names.has(n)));
}

/**
 * The what-if panel: one slider per supported control, rescoring the edited row on every change.
 * Shows the browser's score of the unedited row next to the nightly score, so a reader can see
 * both runs agree, then the new probability and its tier.
 */
export function whatIfPanel(scorer: Scorer, row: Record<string, unknown>, nightly: number | null): HTMLElement {
  const inputs = whatIfInputs(scorer.card);
  const values = new Map(inputs.map((i) => [i.id, i.read(row)]));
  const result = html`<div class="sg-whatif-result" id="whatif-result" aria-live="polite"></div>` as HTMLElement;
  let baseline: number | null = null;
  let seq = 0;
  const edited = () =>
    inputs.reduce((r, i) => (values.get(i.id) === i.read(row) ? r : i.write(r, values.get(i.id)!)), {...row} as Record<
      string,
      unknown
    >);
  const rescore = async () => {
    const mine = ++seq;
    const [base, now] = await scorer.score([row, edited()]);
    if (mine !== seq) return; // a newer change is on its way
    baseline = base!;
    const d = now! - base!;
    const tier = tierOfProbability(now!);
    result.dataset.probability = String(now);
    result.replaceChildren(
      html`<div class="sg-row"><span class="sg-big-prob" style=${`color:${TIER_COLOURS[tier]}`}>${formatPercent(now!)}</span>
      <span>${tier} · <span class=${d > 0.0005 ? "sg-delta sg-worse" : d < -0.0005 ? "sg-delta sg-better" : "sg-delta"}>${d >= 0 ? "+" : "−"}${(Math.abs(d) * 100).toFixed(1)} pp</span> vs today</span></div>
      <div class="sg-meta">Today, scored in this browser: ${formatPercent(baseline)}${nightly === null ? "" : ` (nightly build: ${formatPercent(nightly)})`} · model ${scorer.card.version}</div>` as Node,
    );
  };
  const controls = inputs.map((i) => {
    const id = `whatif-${i.id}`;
    const current = i.read(row);
    const input =
      html`<input type="range" id=${id} data-whatif=${i.id} min=${i.min} max=${Math.max(i.max, current)} step=${i.step} value=${current}>` as HTMLInputElement;
    const out = html`<output for=${id}>${fmt(current, i.step)}</output>` as HTMLOutputElement;
    input.oninput = () => {
      values.set(i.id, input.valueAsNumber);
      out.value = fmt(input.valueAsNumber, i.step);
      void rescore();
    };
    return html`<div class="sg-whatif-control"><label for=${id}>${i.label}</label><div class="sg-row">${input}${out}<span class="sg-meta">now ${fmt(current, i.step)}</span></div></div>`;
  });
  const reset = html`<button type="button">Reset</button>` as HTMLButtonElement;
  reset.onclick = () => {
    for (const i of inputs) values.set(i.id, i.read(row));
    for (const el of root.querySelectorAll<HTMLInputElement>("input[data-whatif]")) {
      const i = inputs.find((x) => x.id === el.dataset.whatif)!;
      el.value = String(i.read(row));
      el.dispatchEvent(new Event("input"));
    }
  };
  const warning =
    scorer.card.model_file_matches === false
      ? html`<div class="sg-callout sg-warn">The model file published with this site is not the model that scored this build: rescored numbers may differ from the nightly scores.</div>`
      : "";
  const root =
    html`<div id="whatif" class="sg-whatif"><div class="sg-whatif-controls">${warning}${controls}<div>${reset}</div></div>${result}</div>` as HTMLElement;
  void rescore();
  return root;
}

function fmt(x: number, step: number): string {
  return step < 1 ? x.toFixed(2) : String(Math.round(x));
}
