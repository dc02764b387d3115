/**
 * Evaluation metrics for binary probabilistic classifiers. `y` holds 0/1 labels, `p` scores
 * (probabilities for the calibration metrics; any monotone score for the ranking metrics).
 *
 * Ties are handled exactly: ROC-AUC uses average ranks (a tied positive/negative pair counts
 * 1/2); average precision groups tied scores into one threshold; the top-k metrics count the
 * expected positives under a random order within the tie group that straddles the cut.
 */

type Labels = ArrayLike<number>;
type Scores = ArrayLike<number>;

function check(y: Labels, p: Scores): void {
  if (y.length !== p.length) throw new Error(`metrics: ${y.length} labels but ${p.length} scores`);
  if (y.length === 0) throw new Error("metrics: empty input");
}

/** Indices sorted by score descending (stable by index). */
function orderDesc(p: Scores): Int32Array {
  const o = Int32Array.from({length: p.length}, (_, i) => i);
  return o.sort((a, b) => p[b] - p[a] || a - b);
}

function countPos(y: Labels): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] > 0.5 ? 1 : 0;
  return s;
}

/** ROC-AUC via the Mann–Whitney statistic with average ranks for ties. NaN if one class is absent. */
export function rocAuc(y: Labels, p: Scores): number {
  check(y, p);
  const n = y.length;
  const o = Int32Array.from({length: n}, (_, i) => i).sort((a, b) => p[a] - p[b] || a - b);
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && p[o[j + 1]] === p[o[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) {
      if (y[o[k]] > 0.5) {
        rankSumPos += avgRank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Average precision (area under the precision–recall curve, step-wise): Σ (R_k − R_{k−1}) P_k over distinct thresholds. */
export function averagePrecision(y: Labels, p: Scores): number {
  check(y, p);
  const nPos = countPos(y);
  if (nPos === 0) return NaN;
  const o = orderDesc(p);
  let tp = 0;
  let seen = 0;
  let ap = 0;
  let i = 0;
  while (i < o.length) {
    let j = i;
    while (j + 1 < o.length && p[o[j + 1]] === p[o[i]]) j++;
    let tpGroup = 0;
    for (let k = i; k <= j; k++) tpGroup += y[o[k]] > 0.5 ? 1 : 0;
    tp += tpGroup;
    seen += j - i + 1;
    ap += (tpGroup / nPos) * (tp / seen);
    i = j + 1;
  }
  return ap;
}

/** Mean squared error of the probabilities. */
export function brier(y: Labels, p: Scores): number {
  check(y, p);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) ** 2;
  return s / y.length;
}

export interface CalibrationBin {
  /** bin bounds (equal-width: [k/B, (k+1)/B); equal-mass: score range of its rows) */
  lo: number;
  hi: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

export type BinningStrategy = "equal-width" | "equal-mass";

/**
 * Calibration curve: rows grouped into `nBins` bins, either equal-width on [0, 1] (default —
 * the convention of the model card) or equal-mass (sorted by score, `n/nBins` rows per bin).
 * Empty bins are omitted.
 */
export function calibrationCurve(
  y: Labels,
  p: Scores,
  nBins = 10,
  strategy: BinningStrategy = "equal-width",
): CalibrationBin[] {
  check(y, p);
  const n = y.length;
  const binOf = new Int32Array(n);
  if (strategy === "equal-width") {
    for (let i = 0; i < n; i++) binOf[i] = Math.min(nBins - 1, Math.max(0, Math.floor(p[i] * nBins)));
  } else {
    const o = Int32Array.from({length: n}, (_, i) => i).sort((a, b) => p[a] - p[b] || a - b);
    for (let r = 0; r < n; r++) binOf[o[r]] = Math.min(nBins - 1, Math.floor((r * nBins) / n));
  }
  const cnt = new Float64Array(nBins);
  const sp = new Float64Array(nBins);
  const sy = new Float64Array(nBins);
  const lo = new Float64Array(nBins).fill(Infinity);
  const hi = new Float64Array(nBins).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const b = binOf[i];
    cnt[b]++;
    sp[b] += p[i];
    sy[b] += y[i];
    lo[b] = Math.min(lo[b], p[i]);
    hi[b] = Math.max(hi[b], p[i]);
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    if (cnt[b] === 0) continue;
    out.push({
      lo: strategy === "equal-width" ? b / nBins : lo[b],
      hi: strategy === "equal-width" ? (b + 1) / nBins : hi[b],
      count: cnt[b],
      meanPredicted: sp[b] / cnt[b],
      observedRate: sy[b] / cnt[b],
    });
  }
  return out;
}

/** Expected calibration error: Σ_b (n_b / n) |mean p_b − rate_b| over `nBins` bins (equal-width by default). */
export function expectedCalibrationError(
  y: Labels,
  p: Scores,
  nBins = 10,
  strategy: BinningStrategy = "equal-width",
): number {
  const n = y.length;
  let e = 0;
  for (const b of calibrationCurve(y, p, nBins, strategy))
    e += (b.count / n) * Math.abs(b.meanPredicted - b.observedRate);
  return e;
}

/** Expected number of positives among the k highest scores (ties at the cut share proportionally). */
function positivesInTopK(y: Labels, p: Scores, k: number): number {
  const o = orderDesc(p);
  let taken = 0;
  let pos = 0;
  let i = 0;
  while (i < o.length && taken < k) {
    let j = i;
    while (j + 1 < o.length && p[o[j + 1]] === p[o[i]]) j++;
    const size = j - i + 1;
    let g = 0;
    for (let q = i; q <= j; q++) g += y[o[q]] > 0.5 ? 1 : 0;
    const take = Math.min(size, k - taken);
    pos += (g * take) / size;
    taken += take;
    i = j + 1;
  }
  return pos;
}

/** Precision among the k highest-scored rows (k is capped at n). */
export function precisionAtK(y: Labels, p: Scores, k: number): number {
  check(y, p);
  const kk = Math.min(k, y.length);
  if (kk <= 0) throw new Error(`precisionAtK: k must be positive, got ${k}`);
  return positivesInTopK(y, p, kk) / kk;
}

/** Lift of the top decile: positive rate in the top ceil(n/10) rows divided by the overall rate. */
export function liftTopDecile(y: Labels, p: Scores): number {
  check(y, p);
  const base = countPos(y) / y.length;
  if (base === 0) return NaN;
  return precisionAtK(y, p, Math.ceil(y.length / 10)) / base;
}

/**
 * Share of the positives (e.g. customers who did churn) whose score is below `threshold`,
 * i.e. that the model put in the low band. NaN when there are no positives.
 */
export function positivesInLowBandShare(y: Labels, p: Scores, threshold: number): number {
  check(y, p);
  let pos = 0;
  let low = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] > 0.5) {
      pos++;
      if (p[i] < threshold) low++;
    }
  }
  return pos === 0 ? NaN : low / pos;
}

/** Binary log-loss of probabilities (clipped to [1e-15, 1 − 1e-15]). */
export function logLoss(y: Labels, p: Scores): number {
  check(y, p);
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, p[i]));
    s -= y[i] > 0.5 ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

export interface MetricSummary {
  roc_auc: number;
  pr_auc: number;
  brier: number;
  ece: number;
  lift_top_decile: number;
  precision_at_50: number;
  precision_at_100: number;
  churned_scored_low_share: number;
}

/** The model card's metric block; `lowBandThreshold` is the upper bound of the "low risk" band. */
export function summarize(y: Labels, p: Scores, lowBandThreshold: number): MetricSummary {
  return {
    roc_auc: rocAuc(y, p),
    pr_auc: averagePrecision(y, p),
    brier: brier(y, p),
    ece: expectedCalibrationError(y, p),
    lift_top_decile: liftTopDecile(y, p),
    precision_at_50: precisionAtK(y, p, 50),
    precision_at_100: precisionAtK(y, p, 100),
    churned_scored_low_share: positivesInLowBandShare(y, p, lowBandThreshold),
  };
}
