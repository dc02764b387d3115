/**
 * Exact TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent Individualized Feature Attribution for
 * Tree Ensembles", Algorithm 2) for the raw log-odds margin of a GbtModel.
 *
 * The value function is the path-dependent conditional expectation E[f(x) | x_S], where a split
 * on a feature not in S averages its children weighted by their training cover. Cover is the
 * node's in-bag training row count (`"count"`, default, LightGBM's convention) or its hessian
 * sum (`"hessian"`, XGBoost's); both are stored on every node.
 *
 * Two evaluators give identical results (up to float rounding):
 * - `shapAlgorithm2`: the paper's recursive algorithm, O(T·L·D²) per row, with preallocated
 *   path arrays — the reference implementation.
 * - the explainer's `shap`/`shapBatch` (default): the same algebra reorganised. For a leaf whose
 *   path holds d distinct features, Algorithm 2's contribution depends on x only through which
 *   of those d features x "follows" along the path (the one-fractions, each 0 or 1). So each leaf
 *   gets a table of its contributions for all 2^d patterns, computed once with Algorithm 2's own
 *   extend/unwound-sum routines; a row then costs one pass over the nodes plus d additions per
 *   leaf, O(T·L·D) (the idea of Fast TreeSHAP v2, Yang 2021). Used when every leaf has
 *   d ≤ 12 distinct features on its path, else Algorithm 2 is used.
 *
 * Additivity: Σ shap + expectedValue = predictRaw(x) (exactly in real arithmetic).
 */
import type {Dataset} from "./dataset.ts";
import type {GbtModel, TreeNode} from "./tree.ts";
import {goesLeft, predictRawRow} from "./tree.ts";

export type CoverKind = "count" | "hessian";

const MAX_TABLE_DEPTH = 12;

// ---------------------------------------------------------------------------------------------
// Algorithm 2 building blocks: a "unique path" of (feature, zero fraction, one fraction, weight)

interface Path {
  fi: Int32Array;
  zf: Float64Array;
  of: Float64Array;
  pw: Float64Array;
}

function makePath(size: number): Path {
  return {fi: new Int32Array(size), zf: new Float64Array(size), of: new Float64Array(size), pw: new Float64Array(size)};
}

/** Appends (z, o, feature) at position `d` of the path block starting at `b`. */
function extend(p: Path, b: number, d: number, z: number, o: number, f: number): void {
  const {pw} = p;
  p.fi[b + d] = f;
  p.zf[b + d] = z;
  p.of[b + d] = o;
  pw[b + d] = d === 0 ? 1 : 0;
  for (let i = d - 1; i >= 0; i--) {
    pw[b + i + 1] += (o * pw[b + i] * (i + 1)) / (d + 1);
    pw[b + i] = (z * pw[b + i] * (d - i)) / (d + 1);
  }
}

/** Removes element `k` from the path (length d + 1) at block `b`. */
function unwind(p: Path, b: number, d: number, k: number): void {
  const {pw} = p;
  const o = p.of[b + k];
  const z = p.zf[b + k];
  let next = pw[b + d];
  for (let i = d - 1; i >= 0; i--) {
    if (o !== 0) {
      const t = pw[b + i];
      pw[b + i] = (next * (d + 1)) / ((i + 1) * o);
      next = t - (pw[b + i] * z * (d - i)) / (d + 1);
    } else {
      pw[b + i] = (pw[b + i] * (d + 1)) / (z * (d - i));
    }
  }
  for (let i = k; i < d; i++) {
    p.fi[b + i] = p.fi[b + i + 1];
    p.zf[b + i] = p.zf[b + i + 1];
    p.of[b + i] = p.of[b + i + 1];
  }
}

/** Total permutation weight of the path with element `k` removed. */
function unwoundSum(p: Path, b: number, d: number, k: number): number {
  const {pw} = p;
  const o = p.of[b + k];
  const z = p.zf[b + k];
  let next = pw[b + d];
  let total = 0;
  if (o !== 0) {
    for (let i = d - 1; i >= 0; i--) {
      const t = next / ((i + 1) * o);
      total += t;
      next = pw[b + i] - t * z * (d - i);
    }
  } else {
    for (let i = d - 1; i >= 0; i--) total += pw[b + i] / (z * (d - i));
  }
  return total * (d + 1);
}

function coverOf(n: TreeNode, kind: CoverKind): number {
  return kind === "count" ? n.cover : n.hessian;
}

function treeDepth(nodes: TreeNode[]): number {
  const depth = (k: number): number =>
    nodes[k].feature < 0 ? 0 : 1 + Math.max(depth(nodes[k].left), depth(nodes[k].right));
  return depth(0);
}

/**
 * Algorithm 2 of the paper for one row: adds the SHAP values of every tree to `phi`
 * (length nFeatures). Reference implementation.
 */
export function shapAlgorithm2(
  model: GbtModel,
  x: ArrayLike<number>,
  phi: Float64Array,
  cover: CoverKind = "count",
): Float64Array {
  let maxD = 0;
  for (const t of model.trees) maxD = Math.max(maxD, treeDepth(t.nodes));
  const path = makePath(((maxD + 2) * (maxD + 3)) / 2);
  for (const t of model.trees) {
    const nodes = t.nodes;
    const recurse = (k: number, b: number, d: number, pz: number, po: number, pf: number): void => {
      // copy the parent's path (d + 1 elements from block b) into the next block
      const nb = b + d + 1;
      if (b >= 0)
        for (let i = 0; i <= d; i++) {
          path.fi[nb + i] = path.fi[b + i];
          path.zf[nb + i] = path.zf[b + i];
          path.of[nb + i] = path.of[b + i];
          path.pw[nb + i] = path.pw[b + i];
        }
      extend(path, nb, d, pz, po, pf);
      const n = nodes[k];
      if (n.feature < 0) {
        for (let i = 1; i <= d; i++) {
          const w = unwoundSum(path, nb, d, i);
          phi[path.fi[nb + i]] += w * (path.of[nb + i] - path.zf[nb + i]) * n.value;
        }
        return;
      }
      const left = goesLeft(n, x[n.feature]);
      const hot = left ? n.left : n.right;
      const cold = left ? n.right : n.left;
      const w = coverOf(n, cover);
      const hotZ = coverOf(nodes[hot], cover) / w;
      const coldZ = coverOf(nodes[cold], cover) / w;
      let iz = 1;
      let io = 1;
      let dd = d;
      let pi = 0;
      for (; pi <= dd; pi++) if (path.fi[nb + pi] === n.feature) break;
      if (pi !== dd + 1) {
        iz = path.zf[nb + pi];
        io = path.of[nb + pi];
        unwind(path, nb, dd, pi);
        dd -= 1;
      }
      recurse(hot, nb, dd + 1, hotZ * iz, io, n.feature);
      recurse(cold, nb, dd + 1, coldZ * iz, 0, n.feature);
    };
    // root call: no parent block (b = −1), the path starts empty at block 0
    recurse(0, -1, 0, 1, 1, -1);
  }
  return phi;
}

// ---------------------------------------------------------------------------------------------
// explainer with per-leaf pattern tables

export interface Explainer {
  /** E[f(X)] under the tree covers: baseScore + Σ_trees Σ_leaves cover_leaf / cover_root · value */
  expectedValue: number;
  nFeatures: number;
  /** SHAP values of one row (log-odds units). */
  shap(x: ArrayLike<number>, out?: Float64Array): Float64Array;
  /** SHAP values of every row, row-major [nRows × nFeatures]. */
  shapBatch(data: Dataset): Float64Array;
  /** SHAP values plus the raw margins (= predictRaw, from the same pass). */
  explainBatch(data: Dataset): {shap: Float64Array; raw: Float64Array};
  method: "tables" | "algorithm2";
}

/**
 * The ensemble flattened for the table evaluator. Per tree, node ids are global and laid out as
 * [internal nodes in DFS preorder][leaves], so a forward scan over the internal nodes visits
 * parents before children. Each internal node decides with a 256-entry lookup table on the
 * row's bin code for its feature (see `Binner`), which folds numeric thresholds, category sets
 * and the missing-value direction into one load.
 */
interface FlatTrees {
  treeStart: Int32Array;
  treeNI: Int32Array;
  treeNL: Int32Array;
  feat: Int32Array;
  /** ~(1 << slot): clears the node's feature bit in the path pattern */
  clearBit: Int32Array;
  left: Int32Array;
  right: Int32Array;
  /** lut[(id << 8) | bin] = 1 if the row goes left */
  lut: Uint8Array;
  value: Float64Array;
  leafD: Int32Array;
  tableOff: Int32Array;
  leafFeatOff: Int32Array;
  leafFeat: Int32Array;
  tables: Float64Array;
}

const NAN_BIN = 255;
const OTHER_BIN = 254;

/**
 * Maps feature values to bin codes that preserve every decision of the model: numeric →
 * index of the first model threshold ≥ x (≤ 254 distinct thresholds per feature), categorical →
 * the code (254 for out-of-range codes), NaN → 255.
 */
interface Binner {
  thresholds: Float64Array[];
  categorical: boolean[];
}

function binOf(bn: Binner, f: number, v: number): number {
  if (v !== v) return NAN_BIN;
  if (bn.categorical[f]) return v >= 0 && v < OTHER_BIN && Number.isInteger(v) ? v : OTHER_BIN;
  const t = bn.thresholds[f];
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= t[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function createExplainer(model: GbtModel, options: {cover?: CoverKind} = {}): Explainer {
  const coverKind = options.cover ?? "count";
  const F = model.features.length;
  let expectedValue = model.baseScore;
  for (const t of model.trees) {
    const root = coverOf(t.nodes[0], coverKind);
    for (const n of t.nodes) if (n.feature < 0) expectedValue += (coverOf(n, coverKind) / root) * n.value;
  }
  const built = buildTables(model, coverKind);
  if (!built) {
    const explainBatch = (data: Dataset) => {
      const shap = new Float64Array(data.nRows * F);
      const raw = new Float64Array(data.nRows);
      const row = new Float64Array(F);
      for (let i = 0; i < data.nRows; i++) {
        for (let j = 0; j < F; j++) row[j] = data.columns[j][i];
        shapAlgorithm2(model, row, shap.subarray(i * F, (i + 1) * F), coverKind);
        raw[i] = predictRawRow(model, row);
      }
      return {shap, raw};
    };
    return {
      expectedValue,
      nFeatures: F,
      method: "algorithm2",
      shap: (x, out = new Float64Array(F)) => shapAlgorithm2(model, x, out.fill(0), coverKind),
      shapBatch: (data) => explainBatch(data).shap,
      explainBatch,
    };
  }
  const {flat, binner} = built;
  const masks = new Int32Array(flat.feat.length);
  const evalBlock = (XB: Uint8Array, nb: number, phi: Float64Array, raw: Float64Array): void =>
    evalTables(flat, F, masks, XB, nb, phi, raw);
  const BLOCK = 256;
  const XB = new Uint8Array(BLOCK * F);
  const explainBatch = (data: Dataset): {shap: Float64Array; raw: Float64Array} => {
    if (data.columns.length !== F) throw new Error(`explain: data has ${data.columns.length} features, the model ${F}`);
    const shap = new Float64Array(data.nRows * F);
    const raw = new Float64Array(data.nRows).fill(model.baseScore);
    for (let s = 0; s < data.nRows; s += BLOCK) {
      const nb = Math.min(BLOCK, data.nRows - s);
      for (let j = 0; j < F; j++) {
        const col = data.columns[j];
        for (let i = 0; i < nb; i++) XB[i * F + j] = binOf(binner, j, col[s + i]);
      }
      evalBlock(XB, nb, shap.subarray(s * F, (s + nb) * F), raw.subarray(s, s + nb));
    }
    return {shap, raw};
  };
  return {
    expectedValue,
    nFeatures: F,
    method: "tables",
    shap: (x, out = new Float64Array(F)) => {
      if (x.length !== F) throw new Error(`shap: row has ${x.length} values, the model ${F} features`);
      for (let j = 0; j < F; j++) XB[j] = binOf(binner, j, x[j]);
      out.fill(0);
      evalBlock(XB, 1, out, new Float64Array(1));
      return out;
    },
    shapBatch: (data) => explainBatch(data).shap,
    explainBatch,
  };
}

/**
 * Adds SHAP values and leaf values of `nb` binned rows (row-major XB) to phi / raw. Trees are
 * the outer loop so one tree's tables stay in cache while the block's rows pass through it.
 * Within a tree, internal nodes are scanned parents-first, each writing its children's path
 * pattern (bit cleared when the row does not follow that branch); then each leaf adds its
 * table row for its pattern.
 */
function evalTables(
  flat: FlatTrees,
  F: number,
  masks: Int32Array,
  XB: Uint8Array,
  nb: number,
  phi: Float64Array,
  raw: Float64Array,
): void {
  const {
    treeStart,
    treeNI,
    treeNL,
    feat,
    clearBit,
    left,
    right,
    lut,
    value,
    leafD,
    tableOff,
    leafFeatOff,
    leafFeat,
    tables,
  } = flat;
  const nTrees = treeStart.length;
  for (let t = 0; t < nTrees; t++) {
    const s = treeStart[t];
    const e = s + treeNI[t];
    const eL = e + treeNL[t];
    for (let i = 0; i < nb; i++) {
      const xo = i * F;
      masks[s] = -1;
      for (let g = s; g < e; g++) {
        const m = masks[g];
        const l = lut[(g << 8) | XB[xo + feat[g]]];
        const cleared = m & clearBit[g];
        masks[left[g]] = m & (cleared | -l);
        masks[right[g]] = m & (cleared | (l - 1));
      }
      for (let g = e; g < eL; g++) {
        const d = leafD[g];
        const full = (1 << d) - 1;
        const mm = masks[g] & full;
        const off = tableOff[g] + mm * d;
        const fo = leafFeatOff[g];
        for (let q = 0; q < d; q++) phi[xo + leafFeat[fo + q]] += tables[off + q];
        // the row reaches this leaf iff it follows every split on the path: all d bits set
        if (mm === full) raw[i] += value[g];
      }
    }
  }
}

/** Flattens the trees and precomputes the per-leaf pattern tables; null when not applicable. */
function buildTables(model: GbtModel, coverKind: CoverKind): {flat: FlatTrees; binner: Binner} | null {
  const F = model.features.length;
  // input binning preserving all decisions
  const thrSets = Array.from({length: F}, () => new Set<number>());
  for (const t of model.trees)
    for (const n of t.nodes) if (n.feature >= 0 && !n.categories) thrSets[n.feature].add(n.threshold);
  const binner: Binner = {
    thresholds: thrSets.map((s) => Float64Array.from(s).sort()),
    categorical: model.features.map((f) => f.kind === "categorical"),
  };
  if (binner.thresholds.some((t) => t.length > OTHER_BIN)) return null;
  for (const t of model.trees) for (const n of t.nodes) if (n.categories?.some((c) => c >= OTHER_BIN)) return null;

  let total = 0;
  for (const t of model.trees) total += t.nodes.length;
  const T = model.trees.length;
  const flat: FlatTrees = {
    treeStart: new Int32Array(T),
    treeNI: new Int32Array(T),
    treeNL: new Int32Array(T),
    feat: new Int32Array(total),
    clearBit: new Int32Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    lut: new Uint8Array(total * 256),
    value: new Float64Array(total),
    leafD: new Int32Array(total),
    tableOff: new Int32Array(total),
    leafFeatOff: new Int32Array(total),
    leafFeat: new Int32Array(0),
    tables: new Float64Array(0),
  };
  const tables: number[] = [];
  const leafFeat: number[] = [];
  const path = makePath(MAX_TABLE_DEPTH + 2);
  let base = 0;
  for (let ti = 0; ti < T; ti++) {
    const nodes = model.trees[ti].nodes;
    // DFS preorder: internal nodes first, then leaves
    const internal: number[] = [];
    const leaves: number[] = [];
    const order = (k: number): void => {
      if (nodes[k].feature < 0) leaves.push(k);
      else {
        internal.push(k);
        order(nodes[k].left);
        order(nodes[k].right);
      }
    };
    order(0);
    const id = new Int32Array(nodes.length);
    internal.forEach((k, p) => (id[k] = base + p));
    leaves.forEach((k, p) => (id[k] = base + internal.length + p));
    flat.treeStart[ti] = base;
    flat.treeNI[ti] = internal.length;
    flat.treeNL[ti] = leaves.length;
    for (const k of internal) {
      const n = nodes[k];
      const g = id[k];
      flat.feat[g] = n.feature;
      flat.left[g] = id[n.left];
      flat.right[g] = id[n.right];
      const lut = flat.lut.subarray(g * 256, g * 256 + 256);
      if (n.categories) for (const c of n.categories) lut[c] = 1;
      else {
        const j = binner.thresholds[n.feature].indexOf(n.threshold);
        lut.fill(1, 0, j + 1);
      }
      lut[NAN_BIN] = n.defaultLeft ? 1 : 0;
    }
    // DFS carrying the distinct features of the path and their zero fractions
    const feats: number[] = [];
    const zs: number[] = [];
    let tooDeep = false;
    const visit = (k: number): void => {
      const n = nodes[k];
      if (tooDeep) return;
      if (n.feature < 0) {
        const d = feats.length;
        if (d > MAX_TABLE_DEPTH) {
          tooDeep = true;
          return;
        }
        const g = id[k];
        flat.value[g] = n.value;
        flat.leafD[g] = d;
        flat.leafFeatOff[g] = leafFeat.length;
        leafFeat.push(...feats);
        flat.tableOff[g] = tables.length;
        for (let mask = 0; mask < 1 << d; mask++) {
          // Algorithm 2's unique path: dummy element 0, then (z_q, o_q) per distinct feature
          extend(path, 0, 0, 1, 1, -1);
          for (let q = 0; q < d; q++) extend(path, 0, q + 1, zs[q], (mask >> q) & 1, feats[q]);
          for (let q = 0; q < d; q++)
            tables.push(unwoundSum(path, 0, d, q + 1) * (((mask >> q) & 1) - zs[q]) * n.value);
        }
        return;
      }
      let s = feats.indexOf(n.feature);
      const fresh = s < 0;
      if (fresh) {
        s = feats.length;
        feats.push(n.feature);
        zs.push(1);
      }
      flat.clearBit[id[k]] = ~(1 << s);
      const w = coverOf(n, coverKind);
      const z0 = zs[s];
      for (const child of [n.left, n.right]) {
        zs[s] = (z0 * coverOf(nodes[child], coverKind)) / w;
        visit(child);
      }
      zs[s] = z0;
      if (fresh) {
        feats.pop();
        zs.pop();
      }
    };
    visit(0);
    if (tooDeep) return null;
    base += nodes.length;
  }
  flat.tables = Float64Array.from(tables);
  flat.leafFeat = Int32Array.from(leafFeat);
  return {flat, binner};
}

export interface Driver {
  feature: string;
  /** signed contribution to the log-odds (positive = raises churn risk) */
  contribution: number;
}

/** The k features with the largest |SHAP|, signed, largest first (ties by feature index). */
export function topDrivers(shap: ArrayLike<number>, featureNames: readonly string[], k: number): Driver[] {
  if (shap.length !== featureNames.length)
    throw new Error(`topDrivers: ${shap.length} values but ${featureNames.length} names`);
  const idx = Array.from({length: shap.length}, (_, i) => i).filter((i) => shap[i] !== 0);
  idx.sort((a, b) => Math.abs(shap[b]) - Math.abs(shap[a]) || a - b);
  return idx.slice(0, k).map((i) => ({feature: featureNames[i], contribution: shap[i]}));
}
