/**
 * Growing one tree from the gradients and hessians of the rows in bag: leaf-wise (the open leaf
 * with the best split gain is split next), bounded by `maxLeaves` and `maxDepth`. Rows are
 * partitioned in place (left first, stably); the smaller child's histogram is built from its
 * rows and the larger one's by subtracting it from the parent's. Leaf values are
 * −G/(H+λ) × learning rate, rounded to float32 so the ONNX export stores the same numbers.
 */
import type {BinnedData} from "./binning.ts";
import {buildHistogram, findBestSplit, type NodeStats, type Split} from "./split-finding.ts";
import type {GbtParams, Tree, TreeNode} from "./tree.ts";

/** What growing a tree works on: the binned data, this round's gradients and reusable buffers. */
export interface GrowthState extends BinnedData {
  P: GbtParams;
  /** row indices in bag, partitioned as the tree grows */
  idx: Int32Array;
  /** scratch space of the same size */
  tmp: Int32Array;
  grad: Float64Array;
  hess: Float64Array;
  /** histograms to reuse across nodes and trees */
  histPool: Float64Array[];
}

interface OpenLeaf extends NodeStats {
  node: number;
  start: number;
  end: number;
  best: Split | null;
}

export function growTree(st: GrowthState, m: number, cols: Int32Array): Tree {
  const {P, bins, mappers, idx, tmp, grad, hess, histPool} = st;
  const F = st.nFeatures;
  const lambda = P.lambda;
  const getHist = () => histPool.pop() ?? new Float64Array(st.totalBins * 3);
  const buildHist = (h: Float64Array, start: number, end: number) =>
    buildHistogram(h, st, idx, start, end, grad, hess, cols);
  const findBest = (leaf: OpenLeaf) => findBestSplit(P, st, leaf, cols);
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
  buildHist(root.hist, 0, m);
  root.best = findBest(root);
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
      buildHist(small.hist, small.start, small.end);
      const ph = large.hist; // parent's histogram minus the small child's
      for (let c = 0; c < cols.length; c++) {
        const ff = cols[c];
        for (let k = st.offs[ff] * 3; k < st.offs[ff + 1] * 3; k++) ph[k] -= small.hist[k];
      }
      L.best = findBest(L);
      R.best = findBest(R);
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

/** The leaf value `tree` gives training row i, read from its bins (the split bins kept while training). */
export function leafValueBinned(data: BinnedData, tree: Tree, i: number): number {
  const {bins, mappers} = data;
  const F = data.nFeatures;
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

/** Internal: split bin / category-bin mask kept while training. */
interface TreeNodeBuild extends TreeNode {
  splitBin?: number;
  catMaskBins?: Uint8Array;
}

/** A finished tree without its training-only fields. */
export function stripBuildInfo(tree: Tree): Tree {
  return {
    nodes: tree.nodes.map((nd) => {
      const {catMaskBins: _m, splitBin: _b, ...rest} = nd as TreeNodeBuild;
      return rest;
    }),
  };
}
