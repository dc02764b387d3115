/**
 * Probability calibration of the raw log-odds margin, fitted on validation predictions.
 *
 * - Platt scaling: p = sigmoid(a · raw + b), a and b by maximum likelihood (Newton) on Platt's
 *   smoothed targets (N₊+1)/(N₊+2) and 1/(N₋+2). In ONNX: Mul, Add, Sigmoid — exact.
 * - Isotonic regression (pool-adjacent-violators) of y on raw, represented as a continuous
 *   piecewise-linear, non-decreasing map through knots (x_k, y_k) on the raw margin (one knot
 *   per PAV block at its centre, close knots merged), constant outside [x_0, x_K]. In ONNX it is
 *   y_0 + Σ_k slope_k · (clip(raw, x_k, x_{k+1}) − x_k), built from Max/Min/Sub/Mul/ReduceSum/Add
 *   over [N, K] broadcasts — the same formula `applyCalibration` evaluates. Knots are float32.
 *
 * The exporter (onnx.ts) reproduces whichever calibration it is given. The training pipeline
 * should export PLATT by default: two parameters, smooth, strictly monotone (keeps the ranking
 * and the AUC of the raw model; isotonic creates ties), and far less prone to overfit a small
 * validation set. The raw margin (what TreeSHAP explains) is kept as a separate output either way.
 */

export type Calibration =
  {method: "none"} | {method: "platt"; a: number; b: number} | {method: "isotonic"; x: number[]; y: number[]};

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function check(raw: ArrayLike<number>, y: ArrayLike<number>): void {
  if (raw.length !== y.length) throw new Error(`calibration: ${raw.length} scores but ${y.length} labels`);
  if (raw.length === 0) throw new Error("calibration: no validation rows");
}

/** Platt scaling by Newton's method on the smoothed-target log-likelihood. */
export function fitPlatt(raw: ArrayLike<number>, y: ArrayLike<number>): {method: "platt"; a: number; b: number} {
  check(raw, y);
  const n = raw.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i] > 0.5 ? 1 : 0;
  const tPos = (nPos + 1) / (nPos + 2);
  const tNeg = 1 / (n - nPos + 2);
  let a = 1;
  let b = 0;
  const nll = (a0: number, b0: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const t = y[i] > 0.5 ? tPos : tNeg;
      const z = a0 * raw[i] + b0;
      // −[t log σ(z) + (1−t) log(1−σ(z))] = log(1+e^z) − t z, stably
      s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t * z;
    }
    return s;
  };
  let f = nll(a, b);
  for (let it = 0; it < 100; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const t = y[i] > 0.5 ? tPos : tNeg;
      const p = sigmoid(a * raw[i] + b);
      const r = p - t;
      const w = p * (1 - p);
      ga += r * raw[i];
      gb += r;
      haa += w * raw[i] * raw[i];
      hab += w * raw[i];
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // backtracking on the Newton step
    let step = 1;
    let fn = nll(a - da, b - db);
    while (fn > f && step > 1e-8) {
      step /= 2;
      fn = nll(a - step * da, b - step * db);
    }
    a -= step * da;
    b -= step * db;
    const done = Math.abs(f - fn) < 1e-12 * Math.max(1, Math.abs(f));
    f = fn;
    if (done) break;
  }
  return {method: "platt", a, b};
}

/**
 * Isotonic regression (PAV) of y on raw, as float32 knots of a piecewise-linear map: one knot per
 * PAV block at its mean raw margin and mean label, knots closer than `minGap` (raw units)
 * merged by weight. Interpolating between block centres (rather than stepping at block edges)
 * keeps slopes bounded, so the float32 margin of ONNX maps to the same probability (≤ ~1e-5).
 */
export function fitIsotonic(
  raw: ArrayLike<number>,
  y: ArrayLike<number>,
  minGap = 0.05,
): {method: "isotonic"; x: number[]; y: number[]} {
  check(raw, y);
  const n = raw.length;
  const o = Int32Array.from({length: n}, (_, i) => i).sort((p, q) => raw[p] - raw[q] || p - q);
  // blocks: sum raw, sum y, weight, last raw; equal raw values start in one block
  const sx: number[] = [];
  const sy: number[] = [];
  const w: number[] = [];
  const last: number[] = [];
  const mean = (k: number) => sy[k] / w[k];
  for (let k = 0; k < n; k++) {
    const i = o[k];
    const xv = raw[i];
    const top = w.length - 1;
    if (top >= 0 && last[top] === xv) {
      sx[top] += xv;
      sy[top] += y[i];
      w[top] += 1;
    } else {
      sx.push(xv);
      sy.push(y[i]);
      w.push(1);
      last.push(xv);
    }
    // pool while the last block's mean is not above the previous one's
    while (w.length > 1 && mean(w.length - 1) <= mean(w.length - 2)) {
      const t = w.length - 1;
      sx[t - 1] += sx[t];
      sy[t - 1] += sy[t];
      w[t - 1] += w[t];
      last[t - 1] = last[t];
      sx.pop();
      sy.pop();
      w.pop();
      last.pop();
    }
  }
  // knots at block centres, merging close ones (weighted means keep them non-decreasing)
  const kx: number[] = [];
  const ky: number[] = [];
  const kw: number[] = [];
  for (let b = 0; b < w.length; b++) {
    const xb = sx[b] / w[b];
    const t = kx.length - 1;
    if (t >= 0 && xb - kx[t] < minGap) {
      const ww = kw[t] + w[b];
      kx[t] = (kx[t] * kw[t] + sx[b]) / ww;
      ky[t] = (ky[t] * kw[t] + sy[b]) / ww;
      kw[t] = ww;
    } else {
      kx.push(xb);
      ky.push(sy[b] / w[b]);
      kw.push(w[b]);
    }
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < kx.length; k++) {
    const xf = Math.fround(kx[k]);
    if (xs.length > 0 && xf <= xs[xs.length - 1]) continue;
    xs.push(xf);
    ys.push(ky[k]);
  }
  if (xs.length === 1) {
    xs.push(Math.fround(xs[0] + 1));
    ys.push(ys[0]);
  }
  return {method: "isotonic", x: xs, y: ys};
}

/** Calibrated probability of one raw margin. */
export function applyCalibration(cal: Calibration, raw: number): number {
  switch (cal.method) {
    case "none":
      return sigmoid(raw);
    case "platt":
      return sigmoid(cal.a * raw + cal.b);
    case "isotonic": {
      const {x, y} = cal;
      let s = y[0];
      for (let k = 0; k + 1 < x.length; k++) {
        const c = Math.min(Math.max(raw, x[k]), x[k + 1]);
        s += ((y[k + 1] - y[k]) / (x[k + 1] - x[k])) * (c - x[k]);
      }
      return s;
    }
  }
}

export function calibrate(cal: Calibration, raw: ArrayLike<number>): Float64Array {
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = applyCalibration(cal, raw[i]);
  return out;
}
