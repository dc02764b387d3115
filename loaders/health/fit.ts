/**
 * The arithmetic of `npm run health:tune`, free of I/O: the health score's component scores
 * for given anchors, its 0–100 risk score for given weights, and the fit of both to history.
 *
 * The score stays a weighted sum a CS leader can read: risk = 100 · Σ w_k · (1 − s_k), with
 * s_k ∈ [0, 1] the component's score (linear from its worst to its best anchor, clamped) and
 * weights non-negative, summing to 1, each inside its [min, max]. The fit chooses the weights
 * that make that risk score the best predictor of churn in the horizon — maximum likelihood
 * of a one-variable logistic curve P(churn) = σ(a + b · risk), by projected gradient descent
 * on the constrained weights — and, optionally, anchors from the components' own quantiles
 * (monotone in the direction the component declares), one component at a time.
 * No library fits a constrained weighted sum like this, so it is written here.
 */
import {rocAuc} from "../model/evaluation.ts";

/** One component as the fit sees it. */
export interface FitComponent {
  id: string;
  worst: number;
  best: number;
  whenMissing: number;
  /** true when a larger feature value is healthier */
  higherIsBetter: boolean;
  minWeight: number;
  maxWeight: number;
}

/** Feature values by component (NaN = missing) for n rows, with their labels. */
export interface FitData {
  values: Float64Array[];
  label: Uint8Array;
}

/** s ∈ [0, 1]: linear from `worst` (0) to `best` (1), clamped; missing reads `whenMissing`. */
export function componentScores(
  values: Float64Array,
  c: Pick<FitComponent, "worst" | "best" | "whenMissing">,
): Float64Array {
  const out = new Float64Array(values.length);
  const span = c.best - c.worst;
  for (let i = 0; i < values.length; i++) {
    const v = Number.isNaN(values[i]!) ? c.whenMissing : values[i]!;
    out[i] = Math.max(0, Math.min(1, (v - c.worst) / span));
  }
  return out;
}

/** The 0–100 risk score (100 − health) of every row for the given weights. */
export function riskScores(scores: readonly Float64Array[], weights: readonly number[]): Float64Array {
  const n = scores[0]?.length ?? 0;
  const out = new Float64Array(n);
  const total = weights.reduce((s, w) => s + w, 0);
  scores.forEach((s, k) => {
    const w = weights[k]! / total;
    if (w === 0) return;
    for (let i = 0; i < n; i++) out[i]! += w * (1 - s[i]!);
  });
  for (let i = 0; i < n; i++) out[i] = 100 * out[i]!;
  return out;
}

/**
 * Euclidean projection of v onto {w : Σw = 1, lo ≤ w ≤ hi}: w = clamp(v − λ, lo, hi) with λ
 * found by bisection (Σ clamp(v − λ) falls monotonically in λ). Needs Σlo ≤ 1 ≤ Σhi.
 */
export function projectToBoxedSimplex(v: readonly number[], lo: readonly number[], hi: readonly number[]): number[] {
  const at = (lambda: number) => v.map((x, k) => Math.max(lo[k]!, Math.min(hi[k]!, x - lambda)));
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  let a = Math.min(...v.map((x, k) => x - hi[k]!)) - 1;
  let b = Math.max(...v.map((x, k) => x - lo[k]!)) + 1;
  for (let it = 0; it < 100; it++) {
    const m = (a + b) / 2;
    if (sum(at(m)) > 1) a = m;
    else b = m;
  }
  return at((a + b) / 2);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Mean log-loss of σ(a + b · r/100), with (a, b) fitted by Newton's method for the given risk scores. */
export function logisticFit(risk: Float64Array, y: Uint8Array): {a: number; b: number; loss: number} {
  let a = 0;
  let b = 0;
  const n = risk.length;
  for (let it = 0; it < 25; it++) {
    let ga = 0,
      gb = 0,
      haa = 0,
      hab = 0,
      hbb = 0;
    for (let i = 0; i < n; i++) {
      const x = risk[i]! / 100;
      const p = sigmoid(a + b * x);
      const r = y[i]! - p;
      const h = p * (1 - p);
      ga += r;
      gb += r * x;
      haa += h;
      hab += h * x;
      hbb += h * x * x;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, sigmoid(a + (b * risk[i]!) / 100)));
    loss -= y[i] ? Math.log(p) : Math.log(1 - p);
  }
  return {a, b, loss: loss / n};
}

/**
 * The weights (inside their bounds, summing to 1) under which the risk score best predicts the
 * label: alternate a Newton fit of the logistic curve's (a, b) with a projected gradient step on
 * the weights, halving the step until the loss falls. Deterministic; starts from `start`.
 */
export function fitWeights(
  scores: readonly Float64Array[],
  y: Uint8Array,
  bounds: {lo: readonly number[]; hi: readonly number[]},
  start: readonly number[],
  iterations = 200,
): {weights: number[]; loss: number} {
  const K = scores.length;
  const n = y.length;
  let w = projectToBoxedSimplex(start, bounds.lo, bounds.hi);
  let fit = logisticFit(riskScores(scores, w), y);
  let step = 0.5;
  for (let it = 0; it < iterations && step > 1e-6; it++) {
    // d loss / d w_k = −(1/n) Σ (y − p) · b · (1 − s_k)
    const risk = riskScores(scores, w);
    const grad = new Array<number>(K).fill(0);
    for (let i = 0; i < n; i++) {
      const r = y[i]! - sigmoid(fit.a + (fit.b * risk[i]!) / 100);
      if (r === 0) continue;
      for (let k = 0; k < K; k++) grad[k]! -= (r * fit.b * (1 - scores[k]![i]!)) / n;
    }
    let improved = false;
    while (step > 1e-6) {
      const cand = projectToBoxedSimplex(
        w.map((x, k) => x - step * grad[k]!),
        bounds.lo,
        bounds.hi,
      );
      const f = logisticFit(riskScores(scores, cand), y);
      if (f.loss < fit.loss - 1e-10) {
        w = cand;
        fit = f;
        step *= 1.5;
        improved = true;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return {weights: w, loss: fit.loss};
}

/** The q-quantile (linear interpolation) of the non-missing values. */
export function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Quantile pairs tried as a component's (unhealthy end, healthy end). */
export const ANCHOR_QUANTILES: readonly [number, number][] = [
  [0.02, 0.98],
  [0.05, 0.95],
  [0.1, 0.9],
  [0.25, 0.75],
  [0.05, 0.5],
  [0.1, 0.6],
  [0.25, 0.9],
  [0.5, 0.95],
];

/**
 * Candidate (worst, best) anchors of a component from its values' quantiles, monotone in its
 * declared direction (worst < best when higher is healthier, worst > best otherwise); pairs
 * whose quantiles coincide are skipped. The current anchors are always the first candidate.
 */
export function anchorCandidates(values: Float64Array, c: FitComponent): {worst: number; best: number}[] {
  const present = Float64Array.from(values.filter((v) => !Number.isNaN(v))).sort();
  const out = [{worst: c.worst, best: c.best}];
  const round = (x: number) => Number(x.toPrecision(3));
  for (const [qLow, qHigh] of ANCHOR_QUANTILES) {
    const [worst, best] = c.higherIsBetter
      ? [round(quantile(present, qLow)), round(quantile(present, qHigh))]
      : [round(quantile(present, 1 - qLow)), round(quantile(present, 1 - qHigh))];
    if (!(c.higherIsBetter ? worst < best : worst > best)) continue;
    if (!out.some((o) => o.worst === worst && o.best === best)) out.push({worst, best});
  }
  return out;
}

export interface Fitted {
  weights: number[];
  anchors: {worst: number; best: number}[];
  loss: number;
}

/**
 * Fits the weights, and with `anchors` also each component's anchors: coordinate search over
 * the quantile candidates, refitting the weights for each, keeping a candidate only when it
 * lowers the log-loss; two passes.
 */
export function fitHealthScore(data: FitData, components: readonly FitComponent[], opts: {anchors: boolean}): Fitted {
  const bounds = {lo: components.map((c) => c.minWeight), hi: components.map((c) => c.maxWeight)};
  const anchors = components.map((c) => ({worst: c.worst, best: c.best}));
  const scores = components.map((c, k) => componentScores(data.values[k]!, {...c, ...anchors[k]!}));
  let best = fitWeights(
    scores,
    data.label,
    bounds,
    components.map(() => 1 / components.length),
  );
  if (!opts.anchors) return {weights: best.weights, anchors, loss: best.loss};
  for (let pass = 0; pass < 2; pass++) {
    components.forEach((c, k) => {
      for (const cand of anchorCandidates(data.values[k]!, c)) {
        const trial = scores.slice();
        trial[k] = componentScores(data.values[k]!, {...c, ...cand});
        const f = fitWeights(trial, data.label, bounds, best.weights, 60);
        if (f.loss < best.loss - 1e-7) {
          best = f;
          anchors[k] = cand;
          scores[k] = trial[k]!;
        }
      }
    });
  }
  best = fitWeights(scores, data.label, bounds, best.weights);
  return {weights: best.weights, anchors, loss: best.loss};
}

/** AUC of the risk score and the share of churned rows it scored below `healthyBelow` (Green). */
export function evaluateRisk(
  risk: Float64Array,
  y: Uint8Array,
  healthyBelow: number,
): {auc: number; churned: number; churnedHealthy: number; churnedHealthyShare: number} {
  let churned = 0;
  let churnedHealthy = 0;
  for (let i = 0; i < y.length; i++)
    if (y[i]) {
      churned++;
      if (risk[i]! < healthyBelow) churnedHealthy++;
    }
  return {
    auc: rocAuc(y, risk),
    churned,
    churnedHealthy,
    churnedHealthyShare: churned ? churnedHealthy / churned : 0,
  };
}
