/**
 * The parts of the gradient-boosted trees, each on its own with hand-made inputs whose answers
 * are worked out here: binning, split finding on a histogram, growing one tree, prediction.
 */
import {build} from "esbuild";
import {readdirSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {binDataset, binValue, buildBinMapper, float32Midpoint, type BinMapper} from "../../loaders/model/binning.ts";
import type {FeatureMeta} from "../../loaders/model/dataset.ts";
import {DEFAULT_GBT_PARAMS} from "../../loaders/model/gbt.ts";
import {findBestSplit, leafScore, type SplitRules} from "../../loaders/model/split-finding.ts";
import {growTree, leafValueBinned, stripBuildInfo, type GrowthState} from "../../loaders/model/tree-growth.ts";
import {predictRawRow, treeLeaf, type GbtModel, type Tree} from "../../loaders/model/tree.ts";

const num: FeatureMeta = {name: "x", kind: "numeric"};
const rules: SplitRules = {
  maxDepth: 6,
  minSamplesLeaf: 1,
  minHessianLeaf: 1e-3,
  lambda: 1,
  minSplitGain: 0,
  catSmooth: 0,
};

/** A one-feature histogram: [G, H, count] per bin, the missing bin last. */
function node(bins: [number, number, number][], mapper: BinMapper) {
  const hist = Float64Array.from(bins.flat());
  const sum = (k: number) => bins.reduce((s, b) => s + b[k]!, 0);
  return {
    layout: {mappers: [mapper], offs: Int32Array.from([0, bins.length])},
    stats: {depth: 0, hist, G: sum(0), H: sum(1), C: sum(2)},
  };
}
const numeric4: BinMapper = {kind: "numeric", nBins: 4, thresholds: Float64Array.from([1, 2, 3])};
const gain = (GL: number, HL: number, G: number, H: number) =>
  GL ** 2 / (HL + 1) + (G - GL) ** 2 / (H - HL + 1) - G ** 2 / (H + 1);

describe("binning", () => {
  it("cuts numeric values between distinct float32 values, with a bin for missing ones", () => {
    const col = Float32Array.from([1, 1, 2, 3, NaN, 3, 5]);
    const m = buildBinMapper(col, num, 255);
    expect(m.nBins).toBe(4);
    expect([...m.thresholds]).toEqual([Math.fround(1.5), Math.fround(2.5), Math.fround(4)]);
    expect([1, 2, 3, 5, 2.6, 99, -7, NaN].map((x) => binValue(m, x))).toEqual([0, 1, 2, 3, 2, 3, 0, 4]);
    // a threshold between two neighbouring float32 values stays between them
    const a = Math.fround(0.1);
    const b = Math.fround(a + 1e-8);
    const t = float32Midpoint(a, b);
    expect(t >= a && t < b).toBe(true);
    // more distinct values than bins: equal-frequency cuts
    const many = Float32Array.from({length: 100}, (_, i) => i);
    expect(buildBinMapper(many, num, 4).nBins).toBe(4);
  });

  it("codes are the bins of a categorical feature; a dataset is binned row-major with offsets", () => {
    const cat: FeatureMeta = {name: "plan", kind: "categorical", categories: ["a", "b", "c"]};
    const data = {
      nRows: 3,
      features: [num, cat],
      columns: [Float32Array.from([1, 2, NaN]), Float32Array.from([2, NaN, 0])],
    };
    const b = binDataset(data, 255);
    expect(b.mappers[1]!.nBins).toBe(3);
    expect([...b.offs]).toEqual([0, 3, 7]); // x: 2 bins + missing; plan: 3 + missing
    expect([...b.bins]).toEqual([0, 2, 1, 3, 2, 0]);
  });
});

describe("split finding", () => {
  it("picks the bin with the best second-order gain, worked out by hand", () => {
    const {layout, stats} = node(
      [
        [-4, 2, 10],
        [-2, 2, 10],
        [3, 2, 10],
        [5, 2, 10],
        [0, 0, 0],
      ],
      numeric4,
    );
    const s = findBestSplit(rules, layout, stats, Int32Array.from([0]))!;
    // left = bins 0–1: G −6, H 4; right: G 8, H 4; parent G 2, H 8
    expect(s.bin).toBe(1);
    expect(s.gain).toBeCloseTo(36 / 5 + 64 / 5 - 4 / 9, 12);
    expect(s.gain).toBeCloseTo(gain(-6, 4, 2, 8), 12);
    expect([s.GL, s.HL, s.CL]).toEqual([-6, 4, 20]);
    // no missing values at the node: NaN goes with the larger child (a tie goes left)
    expect(s.defaultLeft).toBe(true);
    expect(leafScore(-6, 4, 1)).toBeCloseTo(36 / 5, 12);
  });

  it("learns where missing values go: the side that gains most", () => {
    const {layout, stats} = node(
      [
        [-4, 2, 10],
        [-2, 2, 10],
        [3, 2, 10],
        [5, 2, 10],
        [-10, 2, 5],
      ],
      numeric4,
    );
    const s = findBestSplit(rules, layout, stats, Int32Array.from([0]))!;
    // bins 0–1 plus the missing rows left: G −16, H 6; right G 8, H 4; parent G −8, H 10
    expect([s.bin, s.defaultLeft]).toEqual([1, true]);
    expect(s.gain).toBeCloseTo(256 / 7 + 64 / 5 - 64 / 11, 12);

    // missing rows whose gradients side with the right child go right, though they are many
    const right = node(
      [
        [-4, 2, 10],
        [-2, 2, 10],
        [3, 2, 10],
        [5, 2, 10],
        [6, 2, 25],
      ],
      numeric4,
    );
    const r = findBestSplit(rules, right.layout, right.stats, Int32Array.from([0]))!;
    // left = bins 0–1: G −6, H 4; right = bins 2–3 plus missing: G 14, H 6; parent G 8, H 10
    expect([r.bin, r.defaultLeft, r.CL]).toEqual([1, false, 20]);
    expect(r.gain).toBeCloseTo(gain(-6, 4, 8, 10), 12);
    expect(r.gain).toBeCloseTo(36 / 5 + 196 / 7 - 64 / 11, 12);
  });

  it("sends the best set of categories left (ordered by G/H, best prefix)", () => {
    const cat: BinMapper = {kind: "categorical", nBins: 3, thresholds: new Float64Array(0)};
    const {layout, stats} = node(
      [
        [5, 2, 10],
        [-5, 2, 10],
        [4, 2, 10],
        [0, 0, 0],
      ],
      cat,
    );
    const s = findBestSplit(rules, layout, stats, Int32Array.from([0]))!;
    expect([...s.catMask!.slice(0, 3)]).toEqual([0, 1, 0]);
    expect(s.gain).toBeCloseTo(25 / 3 + 81 / 5 - 16 / 7, 12);
    expect(s.defaultLeft).toBe(false); // 10 rows left, 20 right
  });

  it("makes no split when no child would be big enough, or no gain beats the minimum", () => {
    const bins: [number, number, number][] = [
      [-4, 2, 10],
      [-2, 2, 10],
      [3, 2, 10],
      [5, 2, 10],
      [0, 0, 0],
    ];
    const {layout, stats} = node(bins, numeric4);
    const cols = Int32Array.from([0]);
    expect(findBestSplit({...rules, minSamplesLeaf: 25}, layout, stats, cols)).toBeNull();
    expect(findBestSplit({...rules, minHessianLeaf: 5}, layout, stats, cols)).toBeNull();
    expect(findBestSplit({...rules, minSplitGain: 100}, layout, stats, cols)).toBeNull();
    expect(findBestSplit({...rules, maxDepth: 0}, layout, stats, cols)).toBeNull();
    const flat = node(
      [
        [1, 2, 10],
        [1, 2, 10],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      numeric4,
    );
    expect(findBestSplit(rules, flat.layout, flat.stats, cols)).toBeNull(); // equal halves gain nothing
  });
});

describe("tree growth", () => {
  /** One round's state on x = 0..n−1 with labels in blocks, every row in bag. */
  function state(maxDepth: number, maxLeaves: number): {st: GrowthState; n: number} {
    const n = 400;
    const x = Float32Array.from({length: n}, (_, i) => i);
    const y = Array.from({length: n}, (_, i) => (Math.floor(i / 50) % 3 === 0 ? 1 : 0));
    const binned = binDataset({nRows: n, features: [num], columns: [x]}, 255);
    const st: GrowthState = {
      ...binned,
      P: {...DEFAULT_GBT_PARAMS, maxDepth, maxLeaves, minSamplesLeaf: 5},
      idx: Int32Array.from({length: n}, (_, i) => i),
      tmp: new Int32Array(n),
      grad: Float64Array.from(y, (v) => 0.5 - v),
      hess: new Float64Array(n).fill(0.25),
      histPool: [],
    };
    return {st, n};
  }
  const depthOf = (t: Tree): number => {
    const d = (k: number): number =>
      t.nodes[k]!.feature < 0 ? 0 : 1 + Math.max(d(t.nodes[k]!.left), d(t.nodes[k]!.right));
    return d(0);
  };
  const leaves = (t: Tree) => t.nodes.filter((nd) => nd.feature < 0).length;

  it("respects the depth and leaf limits, and its leaves cover every row once", () => {
    const {st, n} = state(2, 31);
    const t = growTree(st, n, Int32Array.from([0]));
    expect(depthOf(t)).toBe(2);
    expect(leaves(t)).toBeGreaterThanOrEqual(3);
    expect(leaves(t)).toBeLessThanOrEqual(4);
    const covered = t.nodes.filter((nd) => nd.feature < 0).reduce((s, nd) => s + nd.cover, 0);
    expect(covered).toBe(n);
    const few = state(10, 3);
    expect(leaves(growTree(few.st, few.n, Int32Array.from([0])))).toBe(3);
    const deep = state(10, 31);
    expect(leaves(growTree(deep.st, deep.n, Int32Array.from([0])))).toBeGreaterThan(4);
  });

  it("walks training rows by their bins to the same leaves prediction finds from raw values", () => {
    // training updates margins from the bins; a prediction walks raw values with the thresholds;
    // both must land in the same leaf, or training and serving would disagree
    const n = 300;
    const cat: FeatureMeta = {name: "plan", kind: "categorical", categories: ["a", "b", "c", "d"]};
    const x = Float32Array.from({length: n}, (_, i) => (i % 7 === 0 ? NaN : Math.fround(Math.sin(i) * 3)));
    const c = Float32Array.from({length: n}, (_, i) => (i % 11 === 0 ? NaN : (i * 7) % 4));
    const y = Array.from({length: n}, (_, i) =>
      Number.isNaN(x[i]!) || x[i]! < -1 || (c[i] === 1 && x[i]! > 1) ? 1 : 0,
    );
    const binned = binDataset({nRows: n, features: [num, cat], columns: [x, c]}, 255);
    const st: GrowthState = {
      ...binned,
      P: {...DEFAULT_GBT_PARAMS, maxDepth: 4, maxLeaves: 12, minSamplesLeaf: 3, catSmooth: 0},
      idx: Int32Array.from({length: n}, (_, i) => i),
      tmp: new Int32Array(n),
      grad: Float64Array.from(y, (v) => 0.5 - v),
      hess: new Float64Array(n).fill(0.25),
      histPool: [],
    };
    const grown = growTree(st, n, Int32Array.from([0, 1]));
    const served = stripBuildInfo(grown);
    expect(served.nodes.some((nd) => nd.categories)).toBe(true);
    expect(served.nodes.some((nd) => nd.feature >= 0 && nd.defaultLeft)).toBe(true);
    expect(served.nodes.filter((nd) => nd.feature >= 0).length).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < n; i++) {
      const leaf = served.nodes[treeLeaf(served, [x[i]!, c[i]!])]!;
      expect(leafValueBinned(binned, grown, i), `row ${i}`).toBe(leaf.value);
    }
  });

  it("gives each leaf −G/(H+λ) × learning rate, in float32", () => {
    const {st, n} = state(1, 31);
    const t = growTree(st, n, Int32Array.from([0]));
    const rows = (k: number) => Array.from({length: n}, (_, i) => i).filter((i) => treeLeaf(t, [i]) === k);
    for (const [k, nd] of t.nodes.entries()) {
      if (nd.feature >= 0) continue;
      const G = rows(k).reduce((s, i) => s + st.grad[i]!, 0);
      const H = rows(k).length * 0.25;
      expect(nd.value).toBe(Math.fround((-G / (H + st.P.lambda)) * st.P.learningRate));
    }
  });
});

describe("prediction", () => {
  // x0 ≤ 1.5 ? (plan ∈ {0, 2} ? 0.3 : −0.2) : 0.5; NaN: x0 right, plan left
  const tree: Tree = {
    nodes: [
      {feature: 0, threshold: 1.5, defaultLeft: false, left: 1, right: 2, value: 0, cover: 0, hessian: 0, gain: 1},
      {
        feature: 1,
        threshold: 0,
        categories: [0, 2],
        defaultLeft: true,
        left: 3,
        right: 4,
        value: 0,
        cover: 0,
        hessian: 0,
        gain: 1,
      },
      {feature: -1, threshold: 0, defaultLeft: false, left: -1, right: -1, value: 0.5, cover: 0, hessian: 0, gain: 0},
      {feature: -1, threshold: 0, defaultLeft: false, left: -1, right: -1, value: 0.3, cover: 0, hessian: 0, gain: 0},
      {feature: -1, threshold: 0, defaultLeft: false, left: -1, right: -1, value: -0.2, cover: 0, hessian: 0, gain: 0},
    ],
  };
  const model = {baseScore: 0.1, trees: [tree, tree]} as unknown as GbtModel;

  it("walks numeric, categorical and missing values to the right leaves", () => {
    const cases: [number[], number][] = [
      [[1, 0], 0.3],
      [[1, 2], 0.3],
      [[1, 1], -0.2],
      [[1.5, 1], -0.2], // the threshold itself goes left
      [[2, 0], 0.5],
      [[NaN, 0], 0.5],
      [[1, NaN], 0.3],
      [[1, 7], -0.2], // a category the split never saw goes right
    ];
    for (const [x, leaf] of cases) expect(predictRawRow(model, x), x.join(",")).toBeCloseTo(0.1 + 2 * leaf, 12);
  });
});

describe("training and inference apart", () => {
  it("the API server and its TreeSHAP worker load no training code", async () => {
    const TRAINING = [
      "gbt.ts",
      "binning.ts",
      "split-finding.ts",
      "tree-growth.ts",
      "train.ts",
      "logistic.ts",
      "calibration.ts",
    ];
    for (const entry of ["server/serve-api.ts", "server/api/shap-worker.ts"]) {
      const r = await build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        metafile: true,
        platform: "node",
        format: "esm",
        packages: "external",
        logLevel: "silent",
      });
      const loaded = Object.keys(r.metafile.inputs).filter((f) => f.startsWith("loaders/model/"));
      expect(loaded, entry).toContain("loaders/model/tree.ts");
      for (const t of TRAINING) expect(loaded, `${entry} loads ${t}`).not.toContain(`loaders/model/${t}`);
    }
  });

  it("the browser's components load no model code at all: the what-if scores with the ONNX file", async () => {
    const entries = readdirSync("src/components")
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
      .map((f) => `src/components/${f}`);
    expect(entries).toContain("src/components/whatif.ts");
    const r = await build({
      entryPoints: entries,
      bundle: true,
      write: false,
      outdir: "out",
      metafile: true,
      platform: "browser",
      format: "esm",
      packages: "external",
      logLevel: "silent",
    });
    expect(Object.keys(r.metafile.inputs).filter((f) => f.startsWith("loaders/"))).toEqual([]);
  });
});
