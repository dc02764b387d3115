/**
 * The trained model and prediction: what the server, the browser's what-if and TreeSHAP need,
 * with no training code. A model is a base log-odds plus trees; each tree walks a row to a leaf
 * whose value adds to the margin.
 *
 * Float32-safe thresholds: inputs are float32 (see dataset.ts) and every numeric threshold is
 * itself a float32 value, so TypeScript (`x <= t` in float64 on float32 values) and ONNX
 * (`x <= t` in float32) take the same branch, always. Categorical splits send an explicit SET
 * of category codes left; NaN follows the split's learned default direction.
 */
import type {Dataset, FeatureMeta} from "./dataset.ts";

/** How a model was trained (kept in the model for its card). */
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
// prediction (compiled flat arrays, cached per model)

export interface Compiled {
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

/** The model as flat arrays (cached): what the hot prediction loops walk. */
export function compile(model: GbtModel): Compiled {
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

/** The leaf value tree `root` of a compiled model gives row x. */
export function walk(c: Compiled, root: number, x: ArrayLike<number>): number {
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

/** Strips training-only fields so the model is plain JSON. */
export function modelToJSON(model: GbtModel): string {
  return JSON.stringify(model, (k, v) => (k === "splitBin" || k === "catMaskBins" ? undefined : v));
}

export function modelFromJSON(text: string): GbtModel {
  const m = JSON.parse(text) as GbtModel;
  if (m.format !== "saasguard-gbt-1") throw new Error(`not a saasguard GBT model (format ${String(m.format)})`);
  return m;
}
