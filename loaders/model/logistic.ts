/**
 * L2-regularised logistic regression — the comparison baseline for the GBT (not exported).
 *
 * Design matrix: numeric features standardised with the training mean/std (NaN → training
 * mean, i.e. 0 after standardising); categorical features one-hot (NaN/unknown → all zeros);
 * an unpenalised intercept. Fitted by L-BFGS (memory 10) with backtracking line search on
 *   mean log-loss + (l2 / 2) · ||w||².
 */
import type {Dataset, FeatureMeta} from "./dataset.ts";

export interface LogisticModel {
  features: FeatureMeta[];
  /** per numeric feature: mean and std used to standardise (std 1 for constant features) */
  mean: number[];
  std: number[];
  /** weights over the expanded design columns (see `designColumns`) */
  weights: number[];
  intercept: number;
  l2: number;
}

/** Names of the expanded design columns (numeric as is, categorical as name=category). */
export function designColumns(features: FeatureMeta[]): string[] {
  return features.flatMap((f) => (f.kind === "numeric" ? [f.name] : (f.categories ?? []).map((c) => `${f.name}=${c}`)));
}

function design(features: FeatureMeta[], data: Dataset, mean: number[], std: number[]): {X: Float64Array; d: number} {
  const d = designColumns(features).length;
  const n = data.nRows;
  const X = new Float64Array(n * d);
  let c = 0;
  features.forEach((f, j) => {
    const col = data.columns[j];
    if (f.kind === "numeric") {
      for (let i = 0; i < n; i++) X[i * d + c] = Number.isNaN(col[i]) ? 0 : (col[i] - mean[j]) / std[j];
      c++;
    } else {
      const k = f.categories?.length ?? 0;
      for (let i = 0; i < n; i++) {
        const v = col[i];
        if (v >= 0 && v < k && Number.isInteger(v)) X[i * d + c + v] = 1;
      }
      c += k;
    }
  });
  return {X, d};
}

export function fitLogistic(
  train: Dataset,
  y: ArrayLike<number>,
  options: {l2?: number; maxIter?: number} = {},
): LogisticModel {
  const l2 = options.l2 ?? 1e-3;
  const maxIter = options.maxIter ?? 200;
  const features = train.features;
  const mean: number[] = [];
  const std: number[] = [];
  features.forEach((f, j) => {
    const col = train.columns[j];
    let s = 0;
    let s2 = 0;
    let m = 0;
    for (let i = 0; i < col.length; i++) {
      if (!Number.isNaN(col[i])) {
        s += col[i];
        s2 += col[i] * col[i];
        m++;
      }
    }
    const mu = m > 0 ? s / m : 0;
    const sd = m > 1 ? Math.sqrt(Math.max(0, s2 / m - mu * mu)) : 0;
    mean.push(mu);
    std.push(sd > 1e-12 ? sd : 1);
  });
  const {X, d} = design(features, train, mean, std);
  const n = train.nRows;
  const D = d + 1; // last parameter: intercept
  const z = new Float64Array(n);
  const fg = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let s = w[d];
      const o = i * d;
      for (let k = 0; k < d; k++) s += X[o + k] * w[k];
      z[i] = s;
      const t = y[i] > 0.5 ? s : -s;
      loss += t > 0 ? Math.log1p(Math.exp(-t)) : -t + Math.log1p(Math.exp(t));
      const r = 1 / (1 + Math.exp(-s)) - y[i];
      for (let k = 0; k < d; k++) g[k] += r * X[o + k];
      g[d] += r;
    }
    loss /= n;
    for (let k = 0; k < D; k++) g[k] /= n;
    for (let k = 0; k < d; k++) {
      loss += 0.5 * l2 * w[k] * w[k];
      g[k] += l2 * w[k];
    }
    return loss;
  };
  // L-BFGS
  const m = 10;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  let w = new Float64Array(D);
  let g = new Float64Array(D);
  let f = fg(w, g);
  const dir = new Float64Array(D);
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let k = 0; k < D; k++) s += a[k] * b[k];
    return s;
  };
  for (let it = 0; it < maxIter; it++) {
    // two-loop recursion
    dir.set(g);
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = dot(S[k], dir) / dot(Y[k], S[k]);
      alpha[k] = a;
      for (let q = 0; q < D; q++) dir[q] -= a * Y[k][q];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let q = 0; q < D; q++) dir[q] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const b = dot(Y[k], dir) / dot(Y[k], S[k]);
      for (let q = 0; q < D; q++) dir[q] += S[k][q] * (alpha[k] - b);
    }
    for (let q = 0; q < D; q++) dir[q] = -dir[q];
    let gd = dot(g, dir);
    if (gd >= 0) {
      // not a descent direction: restart with steepest descent
      S.length = 0;
      Y.length = 0;
      for (let q = 0; q < D; q++) dir[q] = -g[q];
      gd = dot(g, dir);
    }
    let step = 1;
    const wn = new Float64Array(D);
    const gn = new Float64Array(D);
    let fn = 0;
    for (;;) {
      for (let q = 0; q < D; q++) wn[q] = w[q] + step * dir[q];
      fn = fg(wn, gn);
      if (fn <= f + 1e-4 * step * gd || step < 1e-10) break;
      step /= 2;
    }
    const s = new Float64Array(D);
    const yy = new Float64Array(D);
    for (let q = 0; q < D; q++) {
      s[q] = wn[q] - w[q];
      yy[q] = gn[q] - g[q];
    }
    if (dot(s, yy) > 1e-12) {
      S.push(s);
      Y.push(yy);
      if (S.length > m) {
        S.shift();
        Y.shift();
      }
    }
    const done = Math.abs(f - fn) < 1e-10 * Math.max(1, Math.abs(f)) || Math.sqrt(dot(gn, gn)) < 1e-7;
    w = wn;
    g = gn;
    f = fn;
    if (done) break;
  }
  return {features, mean, std, weights: Array.from(w.subarray(0, d)), intercept: w[d], l2};
}

/** Log-odds of every row. */
export function predictLogisticRaw(model: LogisticModel, data: Dataset): Float64Array {
  const {X, d} = design(model.features, data, model.mean, model.std);
  const out = new Float64Array(data.nRows);
  for (let i = 0; i < data.nRows; i++) {
    let s = model.intercept;
    for (let k = 0; k < d; k++) s += X[i * d + k] * model.weights[k];
    out[i] = s;
  }
  return out;
}

export function predictLogisticProba(model: LogisticModel, data: Dataset): Float64Array {
  return predictLogisticRaw(model, data).map((z) => 1 / (1 + Math.exp(-z)));
}
