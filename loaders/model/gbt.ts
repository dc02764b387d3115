/**
 * Binary gradient-boosted decision trees with logistic loss (a small, exact, histogram-based
 * booster in the spirit of LightGBM/XGBoost "hist").
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
import type {Dataset, FeatureMeta} from "./dataset.ts";
import {validateDataset} from "./dataset.ts";
import {makeRng, sampleWithoutReplacement} from "./rng.ts";

export interface GbtParams {
  /** maximum number of trees (boosting rounds) */
  nEstimators: number;
  learningRate: number;
  /** root has depth 0; a tree of maxDepth d has leaves at depth ≤ d */
  maxDepth: number;
  maxLeaves: number;
  minSamplesLeaf: number;
  /** minimum sum of hessians in a child ("min_child_weight") */
  minHessianLeaf: number;
  /** L2 regularisation of leaf values */
  lambda: number;
  /** a split must improve the (unhalved) objective G²/(H+λ) sum by more than this */
  minSplitGain: number;
  /** fraction of rows used per tree (Bernoulli) */
  subsample: number;
  /** fraction of features used per tree */
  colsample: number;
  /** maximum non-missing bins per numeric feature (≤ 255) */
  maxBins: number;
  /** smoothing added to H when ordering categories by G/(H + catSmooth) */
  catSmooth: number;
  /** stop after this many rounds without validation improvement (0 = off) */
  earlyStoppingRounds: number;
  seed: number;
}

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

export interface TreeNode {
  /** split feature index, -1 for a leaf */
  feature: number;
  /** numeric split: x goes left iff x <= threshold (a float32 value) */
  threshold: number;
  /** categorical split: x goes left iff its code is in this sorted list */
  categories?: number[];
  /** where NaN goes */
  defaultLeft: boolean;
  /** child node indices (-1 for leaves) */
  left: number;
  right: number;
  /** leaf: contribution to the log-odds margin (learning rate applied, rounded to float32 so ONNX
   * stores exactly the same number); internal: the value it would have as a leaf */
  value: number;
  /** number of (in-bag) training rows that reached the node — the cover used by TreeSHAP */
  cover: number;
  /** sum of training hessians at the node */
  hessian: number;
  /** split gain (0 for leaves) */
  gain: number;
}

export interface Tree {
  nodes: TreeNode[];
}

export interface GbtModel {
  format: "saasguard-gbt-1";
  /** initial log-odds (log of the training base rate odds) */
  baseScore: number;
  trees: Tree[];
  features: FeatureMeta[];
  params: GbtParams;
  /** number of trees kept (best iteration under early stopping) */
  bestIteration: number;
  /** validation log-loss per round (empty without a validation set) */
  history: {valid: number[]};
}

// ---------------------------------------------------------------------------------------------
// binning

/** How one feature maps to histogram bins; the missing bin is `nBins`. */
export interface BinMapper {
  kind: "numeric" | "categorical";
  /** number of non-missing bins */
  nBins: number;
  /** numeric: float32 upper bounds of bins 0..nBins-2 (x <= thresholds[b] ⇒ bin ≤ b) */
  thresholds: Float64Array;
}

/** Float32 threshold t with a ≤ t < b for consecutive distinct float32 values a < b. */
export function float32Midpoint(a: number, b: number): number {
  const t = Math.fround(a / 2 + b / 2);
  return t >= a && t < b ? t : a;
}

export function buildBinMapper(col: Float32Array, meta: FeatureMeta, maxBins: number): BinMapper {
  if (meta.kind === "categorical") {
    return {kind: "categorical", nBins: meta.categories?.length ?? 0, thresholds: new Float64Array(0)};
  }
  const vals = new Float32Array(col.length);
  let n = 0;
  for (let i = 0; i < col.length; i++) if (!Number.isNaN(col[i])) vals[n++] = col[i];
  const sorted = vals.subarray(0, n).sort();
  // distinct values and their counts
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (distinct.length > 0 && sorted[i] === distinct[distinct.length - 1]) counts[counts.length - 1]++;
    else {
      distinct.push(sorted[i]);
      counts.push(1);
    }
  }
  const cuts: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) cuts.push(float32Midpoint(distinct[i], distinct[i + 1]));
  } else {
    // greedy equal-frequency bins over distinct values
    let cum = 0;
    for (let i = 0; i + 1 < distinct.length && cuts.length < maxBins - 1; i++) {
      cum += counts[i];
      if (cum >= ((cuts.length + 1) * n) / maxBins) cuts.push(float32Midpoint(distinct[i], distinct[i + 1]));
    }
  }
  return {kind: "numeric", nBins: Math.max(1, cuts.length + 1), thresholds: Float64Array.from(cuts)};
}

/** Bin of a value: NaN → nBins; numeric → first b with x <= thresholds[b]; categorical → code. */
export function binValue(m: BinMapper, x: number): number {
  if (Number.isNaN(x)) return m.nBins;
  if (m.kind === "categorical") return x;
  const t = m.thresholds;
  let lo = 0;
  let hi = t.length; // answer in [0, t.length]
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= t[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// prediction (compiled flat arrays, cached per model)

interface Compiled {
  feat: Int32Array;
  thr: Float64Array;
  left: Int32Array;
  right: Int32Array;
  defLeft: Uint8Array;
  value: Float64Array;
  /** offset into `catMask` (256 entries per categorical node), -1 for numeric nodes */
  catOff: Int32Array;
  catMask: Uint8Array;
  roots: Int32Array;
}

const compiledCache = new WeakMap<GbtModel, Compiled>();

function compile(model: GbtModel): Compiled {
  const hit = compiledCache.get(model);
  if (hit) return hit;
  let total = 0;
  let nCat = 0;
  for (const t of model.trees) {
    total += t.nodes.length;
    for (const n of t.nodes) if (n.categories) nCat++;
  }
  const c: Compiled = {
    feat: new Int32Array(total),
    thr: new Float64Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    defLeft: new Uint8Array(total),
    value: new Float64Array(total),
    catOff: new Int32Array(total).fill(-1),
    catMask: new Uint8Array(nCat * 256),
    roots: new Int32Array(model.trees.length),
  };
  let base = 0;
  let cat = 0;
  model.trees.forEach((t, ti) => {
    c.roots[ti] = base;
    t.nodes.forEach((n, k) => {
      const i = base + k;
      c.feat[i] = n.feature;
      c.thr[i] = n.threshold;
      c.left[i] = n.left < 0 ? -1 : base + n.left;
      c.right[i] = n.right < 0 ? -1 : base + n.right;
      c.defLeft[i] = n.defaultLeft ? 1 : 0;
      c.value[i] = n.value;
      if (n.categories) {
        c.catOff[i] = cat * 256;
        for (const code of n.categories) c.catMask[cat * 256 + code] = 1;
        cat++;
      }
    });
    base += t.nodes.length;
  });
  compiledCache.set(model, c);
  return c;
}

/** Whether value x goes to the left child of a (non-leaf) node: the one decision rule used everywhere. */
export function goesLeft(node: TreeNode, x: number): boolean {
  if (Number.isNaN(x)) return node.defaultLeft;
  if (node.categories) return node.categories.includes(x);
  return x <= node.threshold;
}

/** Leaf index reached by row x (accessor `get(j)` gives feature j) in a single tree. */
export function treeLeaf(tree: Tree, x: ArrayLike<number>): number {
  let k = 0;
  const nodes = tree.nodes;
  while (nodes[k].feature >= 0) k = goesLeft(nodes[k], x[nodes[k].feature]) ? nodes[k].left : nodes[k].right;
  return k;
}

function walk(c: Compiled, root: number, x: ArrayLike<number>): number {
  let k = root;
  const feat = c.feat;
  for (;;) {
    const f = feat[k];
    if (f < 0) return c.value[k];
    const v = x[f];
    let l: boolean;
    if (v !== v) l = c.defLeft[k] === 1;
    else if (c.catOff[k] >= 0) l = v >= 0 && v < 256 && c.catMask[c.catOff[k] + v] === 1;
    else l = v <= c.thr[k];
    k = l ? c.left[k] : c.right[k];
  }
}

/** Raw log-odds margin of one row (any array-like of feature values, NaN = missing). */
export function predictRawRow(model: GbtModel, x: ArrayLike<number>): number {
  const c = compile(model);
  let s = model.baseScore;
  for (let t = 0; t < c.roots.length; t++) s += walk(c, c.roots[t], x);
  return s;
}

/** Raw log-odds margins for every row of a dataset. */
export function predictRaw(model: GbtModel, data: Dataset): Float64Array {
  const c = compile(model);
  const out = new Float64Array(data.nRows);
  const cols = data.columns;
  const F = cols.length;
  const row = new Float64Array(F);
  for (let i = 0; i < data.nRows; i++) {
    for (let j = 0; j < F; j++) row[j] = cols[j][i];
    let s = model.baseScore;
    for (let t = 0; t < c.roots.length; t++) s += walk(c, c.roots[t], row);
    out[i] = s;
  }
  return out;
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Uncalibrated probabilities sigmoid(raw). */
export function predictProba(model: GbtModel, data: Dataset): Float64Array {
  return predictRaw(model, data).map(sigmoid);
}

// ---------------------------------------------------------------------------------------------
// training

interface Split {
  gain: number;
  feature: number;
  /** numeric: bins ≤ bin go left */
  bin: number;
  /** categorical: bins whose mask is 1 go left */
  catMask: Uint8Array | null;
  defaultLeft: boolean;
  GL: number;
  HL: number;
  CL: number;
}

interface OpenLeaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  hist: Float64Array;
  G: number;
  H: number;
  C: number;
  best: Split | null;
}

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

  // ---- binning (once), row-major Uint8 bins for cache-friendly histogram building
  const mappers = train.features.map((m, j) => buildBinMapper(train.columns[j], m, P.maxBins));
  const offs = new Int32Array(F + 1); // histogram offset of feature j, in bins (missing bin included)
  for (let j = 0; j < F; j++) offs[j + 1] = offs[j] + mappers[j].nBins + 1;
  const totalBins = offs[F];
  const bins = new Uint8Array(n * F);
  for (let j = 0; j < F; j++) {
    const col = train.columns[j];
    const m = mappers[j];
    for (let i = 0; i < n; i++) bins[i * F + j] = binValue(m, col[i]);
  }

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
  const tmp = new Int32Array(n);
  const histPool: Float64Array[] = [];
  const getHist = () => histPool.pop() ?? new Float64Array(totalBins * 3);
  const lambda = P.lambda;
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

    const tree = growTree(m, cols);
    trees.push(tree);
    // update margins (all training rows, also out-of-bag) via the binned data
    for (let i = 0; i < n; i++) raw[i] += leafValueBinned(tree, i);
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

  // ---- helpers (closures over the training state)

  function leafValueBinned(tree: Tree, i: number): number {
    let k = 0;
    const nodes = tree.nodes;
    for (;;) {
      const nd = nodes[k];
      if (nd.feature < 0) return nd.value;
      const f = nd.feature;
      const b = bins[i * F + f];
      let l: boolean;
      if (b === mappers[f].nBins) l = nd.defaultLeft;
      else if (nd.categories) l = (nd as TreeNodeBuild).catMaskBins![b] === 1;
      else l = b <= (nd as TreeNodeBuild).splitBin!;
      k = l ? nd.left : nd.right;
    }
  }

  function buildHist(h: Float64Array, start: number, end: number, cols: Int32Array): void {
    for (let c = 0; c < cols.length; c++) {
      const f = cols[c];
      h.fill(0, offs[f] * 3, offs[f + 1] * 3);
    }
    const nc = cols.length;
    for (let s = start; s < end; s++) {
      const r = idx[s];
      const g = grad[r];
      const hh = hess[r];
      const rb = r * F;
      for (let c = 0; c < nc; c++) {
        const f = cols[c];
        const b = (offs[f] + bins[rb + f]) * 3;
        h[b] += g;
        h[b + 1] += hh;
        h[b + 2] += 1;
      }
    }
  }

  function score(G: number, H: number): number {
    return (G * G) / (H + lambda);
  }

  function findBest(leaf: OpenLeaf, cols: Int32Array): Split | null {
    if (leaf.depth >= P.maxDepth || leaf.C < 2 * P.minSamplesLeaf) return null;
    const {G, H, C, hist} = leaf;
    const parent = score(G, H);
    let bestS: Split | null = null;
    const ok = (gl: number, hl: number, cl: number) =>
      cl >= P.minSamplesLeaf && C - cl >= P.minSamplesLeaf && hl >= P.minHessianLeaf && H - hl >= P.minHessianLeaf;
    const consider = (
      f: number,
      bin: number,
      mask: Uint8Array | null,
      gl: number,
      hl: number,
      cl: number,
      defLeft: boolean,
    ) => {
      if (!ok(gl, hl, cl)) return;
      const gain = score(gl, hl) + score(G - gl, H - hl) - parent;
      if (gain > P.minSplitGain && gain > 1e-12 && (bestS === null || gain > bestS.gain)) {
        bestS = {gain, feature: f, bin, catMask: mask, defaultLeft: defLeft, GL: gl, HL: hl, CL: cl};
      }
    };
    for (let c = 0; c < cols.length; c++) {
      const f = cols[c];
      const mp = mappers[f];
      const o = offs[f] * 3;
      const nb = mp.nBins;
      const gm = hist[o + nb * 3];
      const hm = hist[o + nb * 3 + 1];
      const cm = hist[o + nb * 3 + 2];
      if (mp.kind === "numeric") {
        let gl = 0;
        let hl = 0;
        let cl = 0;
        for (let b = 0; b < nb - 1; b++) {
          gl += hist[o + b * 3];
          hl += hist[o + b * 3 + 1];
          cl += hist[o + b * 3 + 2];
          if (hist[o + b * 3 + 2] === 0 && b > 0) continue; // same partition as the previous bin
          if (cm > 0) {
            consider(f, b, null, gl, hl, cl, false);
            consider(f, b, null, gl + gm, hl + hm, cl + cm, true);
          } else {
            // no missing values here: unseen NaN goes with the larger child
            const defLeft = cl >= C - cl;
            consider(f, b, null, gl, hl, cl, defLeft);
          }
        }
      } else {
        // order the categories present at this node by G/(H + catSmooth), scan prefixes
        const present: number[] = [];
        for (let b = 0; b < nb; b++) if (hist[o + b * 3 + 2] > 0) present.push(b);
        if (present.length < 2 && cm === 0) continue;
        const key = (b: number) => hist[o + b * 3] / (hist[o + b * 3 + 1] + P.catSmooth);
        present.sort((a, b) => key(a) - key(b) || a - b);
        let gl = 0;
        let hl = 0;
        let cl = 0;
        for (let k = 0; k < present.length; k++) {
          const b = present[k];
          gl += hist[o + b * 3];
          hl += hist[o + b * 3 + 1];
          cl += hist[o + b * 3 + 2];
          if (k === present.length - 1 && cm === 0) break; // everything left: not a split
          const before: Split | null = bestS;
          if (cm > 0) {
            consider(f, -1, null, gl, hl, cl, false);
            if (k < present.length - 1) consider(f, -1, null, gl + gm, hl + hm, cl + cm, true);
          } else {
            consider(f, -1, null, gl, hl, cl, cl >= C - cl);
          }
          if (bestS !== before) {
            const mask = new Uint8Array(256);
            for (let q = 0; q <= k; q++) mask[present[q]] = 1;
            (bestS as unknown as Split).catMask = mask;
          }
        }
      }
    }
    return bestS;
  }

  function growTree(m: number, cols: Int32Array): Tree {
    const nodes: TreeNodeBuild[] = [];
    const newNode = (G: number, H: number, C: number): number => {
      nodes.push({
        feature: -1,
        threshold: 0,
        defaultLeft: false,
        left: -1,
        right: -1,
        value: Math.fround((-G / (H + lambda)) * P.learningRate),
        cover: C,
        hessian: H,
        gain: 0,
      });
      return nodes.length - 1;
    };
    let G = 0;
    let H = 0;
    for (let s = 0; s < m; s++) {
      G += grad[idx[s]];
      H += hess[idx[s]];
    }
    const root: OpenLeaf = {
      node: newNode(G, H, m),
      start: 0,
      end: m,
      depth: 0,
      hist: getHist(),
      G,
      H,
      C: m,
      best: null,
    };
    buildHist(root.hist, 0, m, cols);
    root.best = findBest(root, cols);
    const open: OpenLeaf[] = [root];
    let nLeaves = 1;
    while (nLeaves < P.maxLeaves) {
      let pick = -1;
      for (let i = 0; i < open.length; i++) {
        const b = open[i].best;
        if (b && (pick < 0 || b.gain > open[pick].best!.gain)) pick = i;
      }
      if (pick < 0) break;
      const leaf = open[pick];
      const sp = leaf.best!;
      const f = sp.feature;
      const nb = mappers[f].nBins;
      // partition rows [start, end) stably: left first
      let l = leaf.start;
      let r = 0;
      for (let s = leaf.start; s < leaf.end; s++) {
        const row = idx[s];
        const b = bins[row * F + f];
        const goLeft = b === nb ? sp.defaultLeft : sp.catMask ? sp.catMask[b] === 1 : b <= sp.bin;
        if (goLeft) idx[l++] = row;
        else tmp[r++] = row;
      }
      idx.set(tmp.subarray(0, r), l);
      const cl = l - leaf.start;
      // turn the leaf into a split node
      const nd = nodes[leaf.node];
      nd.feature = f;
      nd.defaultLeft = sp.defaultLeft;
      nd.gain = sp.gain;
      if (sp.catMask) {
        nd.categories = [];
        for (let b = 0; b < nb; b++) if (sp.catMask[b]) nd.categories.push(b);
        nd.catMaskBins = sp.catMask;
        nd.threshold = 0;
      } else {
        nd.threshold = mappers[f].thresholds[sp.bin];
        nd.splitBin = sp.bin;
      }
      const GR = leaf.G - sp.GL;
      const HR = leaf.H - sp.HL;
      const leftNode = newNode(sp.GL, sp.HL, cl);
      const rightNode = newNode(GR, HR, leaf.C - cl);
      nd.left = leftNode;
      nd.right = rightNode;
      const L: OpenLeaf = {
        node: leftNode,
        start: leaf.start,
        end: l,
        depth: leaf.depth + 1,
        hist: leaf.hist,
        G: sp.GL,
        H: sp.HL,
        C: cl,
        best: null,
      };
      const R: OpenLeaf = {
        node: rightNode,
        start: l,
        end: leaf.end,
        depth: leaf.depth + 1,
        hist: leaf.hist,
        G: GR,
        H: HR,
        C: leaf.C - cl,
        best: null,
      };
      const canSplit = leaf.depth + 1 < P.maxDepth && (L.C >= 2 * P.minSamplesLeaf || R.C >= 2 * P.minSamplesLeaf);
      if (canSplit) {
        const small = L.C <= R.C ? L : R;
        const large = small === L ? R : L;
        small.hist = getHist();
        buildHist(small.hist, small.start, small.end, cols);
        const ph = large.hist; // parent's histogram minus the small child's
        for (let c = 0; c < cols.length; c++) {
          const ff = cols[c];
          for (let k = offs[ff] * 3; k < offs[ff + 1] * 3; k++) ph[k] -= small.hist[k];
        }
        L.best = findBest(L, cols);
        R.best = findBest(R, cols);
      } else {
        histPool.push(leaf.hist);
        L.hist = R.hist = new Float64Array(0);
      }
      open.splice(pick, 1, L, R);
      nLeaves++;
    }
    for (const o of open) if (o.hist.length > 0) histPool.push(o.hist);
    // dedupe pool (a histogram may have been pushed by both children of a non-split parent)
    const seen = new Set<Float64Array>();
    for (let i = histPool.length - 1; i >= 0; i--) {
      if (seen.has(histPool[i])) histPool.splice(i, 1);
      else seen.add(histPool[i]);
    }
    return {nodes: nodes as TreeNode[]};
  }
}

/** Internal: split bin / category-bin mask kept while training. */
interface TreeNodeBuild extends TreeNode {
  splitBin?: number;
  catMaskBins?: Uint8Array;
}

function stripBuildInfo(tree: Tree): Tree {
  return {
    nodes: tree.nodes.map((nd) => {
      const {catMaskBins: _m, splitBin: _b, ...rest} = nd as TreeNodeBuild;
      return rest;
    }),
  };
}

/** Strips training-only fields so the model is plain JSON. */
export function modelToJSON(model: GbtModel): string {
  return JSON.stringify(model, (k, v) => (k === "splitBin" || k === "catMaskBins" ? undefined : v));
}

export function modelFromJSON(text: string): GbtModel {
  const m = JSON.parse(text) as GbtModel;
  if (m.format !== "saasguard-gbt-1") throw new Error(`not a saasguard GBT model (format ${String(m.format)})`);
  return m;
}
