/**
 * Binary gradient-boosted decision trees with logistic loss (a small, exact, histogram-based
 * booster in the spirit of LightGBM/XGBoost "hist"). This module is the boosting loop; the
 * parts are modules of their own, each tested alone: binning.ts (features to bins),
 * split-finding.ts (histograms, best split), tree-growth.ts (one tree), tree.ts (the model and
 * prediction, all the server and the browser need).
 *
 * - Split finding on histograms: every feature is binned once (≤ 255 quantile bins plus one
 *   missing bin); per node we accumulate (gradient, hessian, count) per bin and scan.
 *   The smaller child's histogram is built from its rows, the larger one's by subtraction.
 * - Growth is leaf-wise (best gain first) bounded by `maxLeaves` and `maxDepth`.
 * - Regularisation: L2 on leaf values (`lambda`), `minSplitGain`, `minSamplesLeaf`,
 *   `minHessianLeaf`, shrinkage (`learningRate`), per-tree row and column subsampling.
 * - Missing values (NaN): each split learns a default direction (both sides are tried, the
 *   better gain wins; with no missing values at the node they go to the larger child).
 * - Categorical features (integer codes): a split sends a SET of categories left. At each node
 *   the categories are sorted by G/(H + catSmooth) and the best prefix of that order is taken —
 *   for a second-order (Newton) objective this is the optimal binary partition (Fisher 1958,
 *   as in LightGBM). The set is stored explicitly, so evaluation is exact; ONNX export uses
 *   `BRANCH_MEMBER` (ai.onnx.ml TreeEnsemble, opset 5) — one node, same set, no approximation.
 *   Categories unseen at a node go right.
 * - Float32-safe thresholds: inputs are float32 (see dataset.ts) and every numeric threshold
 *   is itself a float32 value t with max(left bin) ≤ t < min(right bin), chosen as the float32
 *   rounding of the midpoint. Scoring compares float32 x with float32 t, so TS (`x <= t` in
 *   float64 on float32 values) and ONNX (`x <= t` in float32) take the same branch, always.
 * - Early stopping: validation log-loss, `earlyStoppingRounds` patience; the model is
 *   truncated to the best iteration.
 * - Deterministic: all randomness comes from `seed` (pure-rand), ties broken by index.
 */
import type {Dataset} from "./dataset.ts";
import {validateDataset} from "./dataset.ts";
import {binDataset} from "./binning.ts";
import {makeRng, sampleWithoutReplacement} from "./rng.ts";
import {growTree, leafValueBinned, stripBuildInfo, type GrowthState} from "./tree-growth.ts";
import {compile, walk, type GbtModel, type GbtParams, type Tree} from "./tree.ts";

// the model and prediction, for the modules that train and evaluate
export * from "./tree.ts";
export {buildBinMapper, binValue, float32Midpoint, type BinMapper} from "./binning.ts";

export const DEFAULT_GBT_PARAMS: GbtParams = {
  nEstimators: 300,
  learningRate: 0.05,
  maxDepth: 6,
  maxLeaves: 31,
  minSamplesLeaf: 20,
  minHessianLeaf: 1e-3,
  lambda: 1,
  minSplitGain: 0,
  subsample: 0.8,
  colsample: 0.8,
  maxBins: 255,
  catSmooth: 10,
  earlyStoppingRounds: 30,
  seed: 42,
};

export interface ValidationSet {
  data: Dataset;
  y: ArrayLike<number>;
}

function logloss(y: ArrayLike<number>, raw: Float64Array): number {
  let s = 0;
  for (let i = 0; i < raw.length; i++) {
    // log(1 + e^{-z}) for y=1, log(1 + e^{z}) for y=0, computed stably
    const z = y[i] > 0.5 ? raw[i] : -raw[i];
    s += z > 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
  }
  return s / raw.length;
}

/**
 * Fits a GBT classifier. `y` holds 0/1 labels. With `valid`, early stopping on its log-loss.
 */
export function fitGbt(
  train: Dataset,
  y: ArrayLike<number>,
  params: Partial<GbtParams> = {},
  valid?: ValidationSet,
): GbtModel {
  const P: GbtParams = {...DEFAULT_GBT_PARAMS, ...params};
  validateDataset(train);
  if (y.length !== train.nRows) throw new Error(`labels: ${y.length} values for ${train.nRows} rows`);
  if (P.maxBins < 2 || P.maxBins > 255) throw new Error(`maxBins must be in [2, 255], got ${P.maxBins}`);
  const n = train.nRows;
  const F = train.features.length;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new Error(`labels: row ${i} is ${y[i]}, expected 0 or 1`);
    pos += y[i];
  }
  if (pos === 0 || pos === n) throw new Error("labels: need both classes in the training data");

  // ---- binning (once)
  const binned = binDataset(train, P.maxBins);

  const rng = makeRng(P.seed);
  const baseRate = pos / n;
  const baseScore = Math.log(baseRate / (1 - baseRate));
  const raw = new Float64Array(n).fill(baseScore);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const validRaw = valid ? new Float64Array(valid.data.nRows).fill(baseScore) : null;
  if (valid) {
    validateDataset(valid.data);
    if (valid.data.columns.length !== F)
      throw new Error(`validation set has ${valid.data.columns.length} features, expected ${F}`);
  }

  const trees: Tree[] = [];
  const history = {valid: [] as number[]};
  let best = Infinity;
  let bestIter = 0;

  const idx = new Int32Array(n);
  const state: GrowthState = {...binned, P, idx, tmp: new Int32Array(n), grad, hess, histPool: []};
  const nColTree = Math.max(1, Math.round(F * P.colsample));

  for (let iter = 0; iter < P.nEstimators; iter++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-raw[i]));
      grad[i] = p - y[i];
      hess[i] = Math.max(p * (1 - p), 1e-16);
    }
    // rows in bag
    let m = 0;
    if (P.subsample < 1) {
      for (let i = 0; i < n; i++) if (rng.next() < P.subsample) idx[m++] = i;
    } else {
      for (let i = 0; i < n; i++) idx[m++] = i;
    }
    const cols = nColTree < F ? sampleWithoutReplacement(rng, F, nColTree) : Int32Array.from({length: F}, (_, j) => j);

    const tree = growTree(state, m, cols);
    trees.push(tree);
    // update margins (all training rows, also out-of-bag) via the binned data
    for (let i = 0; i < n; i++) raw[i] += leafValueBinned(binned, tree, i);
    if (valid && validRaw) {
      const single: GbtModel = {
        format: "saasguard-gbt-1",
        baseScore: 0,
        trees: [tree],
        features: train.features,
        params: P,
        bestIteration: 1,
        history: {valid: []},
      };
      const c = compile(single);
      const vc = valid.data.columns;
      const row = new Float64Array(F);
      for (let r = 0; r < validRaw.length; r++) {
        for (let j = 0; j < F; j++) row[j] = vc[j][r];
        validRaw[r] += walk(c, 0, row);
      }
      const vl = logloss(valid.y, validRaw);
      history.valid.push(vl);
      if (vl < best - 1e-12) {
        best = vl;
        bestIter = iter + 1;
      } else if (P.earlyStoppingRounds > 0 && iter + 1 - bestIter >= P.earlyStoppingRounds) break;
    } else bestIter = iter + 1;
  }
  if (P.earlyStoppingRounds === 0) bestIter = trees.length;
  const kept = trees.slice(0, bestIter).map(stripBuildInfo);
  return {
    format: "saasguard-gbt-1",
    baseScore,
    trees: kept,
    features: train.features,
    params: P,
    bestIteration: bestIter,
    history,
  };
}
