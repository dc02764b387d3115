/**
 * Histograms and the best split of one node. Per node we accumulate (gradient, hessian, count)
 * per bin of every feature and scan them:
 *
 * - a split's gain is G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) (the second-order objective,
 *   unhalved); it must beat `minSplitGain`, and each child needs `minSamplesLeaf` rows and
 *   `minHessianLeaf` hessian;
 * - missing values learn a default direction: when the node has some, both sides are tried and
 *   the better gain wins; when it has none, unseen NaN goes with the larger child;
 * - categorical features send a SET of categories left: the categories present are sorted by
 *   G/(H + catSmooth) and the best prefix of that order is taken — for a second-order objective
 *   the optimal binary partition (Fisher 1958, as in LightGBM).
 */
import type {BinMapper} from "./binning.ts";
import type {GbtParams} from "./tree.ts";

export interface Split {
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

/** The training parameters split finding reads. */
export type SplitRules = Pick<
  GbtParams,
  "maxDepth" | "minSamplesLeaf" | "minHessianLeaf" | "lambda" | "minSplitGain" | "catSmooth"
>;

/** A node's sums and histogram: 3 numbers (G, H, count) per bin, features at `offs[f] * 3`. */
export interface NodeStats {
  depth: number;
  hist: Float64Array;
  G: number;
  H: number;
  C: number;
}

/** The objective's score of a leaf with gradient sum G and hessian sum H. */
export function leafScore(G: number, H: number, lambda: number): number {
  return (G * G) / (H + lambda);
}

/**
 * Fills `h` with the (gradient, hessian, count) sums per bin of the rows `idx[start..end)`,
 * for the features in `cols` only.
 */
export function buildHistogram(
  h: Float64Array,
  layout: {bins: Uint8Array; offs: Int32Array; nFeatures: number},
  idx: Int32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  cols: Int32Array,
): void {
  const {bins, offs} = layout;
  const F = layout.nFeatures;
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

/** The best split of a node over the features in `cols`, or null when none is worth making. */
export function findBestSplit(
  P: SplitRules,
  layout: {mappers: BinMapper[]; offs: Int32Array},
  leaf: NodeStats,
  cols: Int32Array,
): Split | null {
  if (leaf.depth >= P.maxDepth || leaf.C < 2 * P.minSamplesLeaf) return null;
  const {mappers, offs} = layout;
  const {G, H, C, hist} = leaf;
  const score = (g: number, h: number) => leafScore(g, h, P.lambda);
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
