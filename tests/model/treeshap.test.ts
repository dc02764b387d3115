import {describe, expect, it} from "vitest";
import {getRow, subsetRows} from "../../loaders/model/dataset.ts";
import {fitGbt, type GbtModel, predictRaw, predictRawRow, type TreeNode} from "../../loaders/model/gbt.ts";
import {type CoverKind, createExplainer, shapAlgorithm2, topDrivers} from "../../loaders/model/treeshap.ts";
import {synth} from "./synth.ts";

/** E[f(x) | x_S] with the trees' cover weights (Algorithm 1 of the paper). */
function condExpectation(model: GbtModel, x: ArrayLike<number>, S: Set<number>, cover: CoverKind): number {
  const c = (n: TreeNode) => (cover === "count" ? n.cover : n.hessian);
  let s = model.baseScore;
  for (const t of model.trees) {
    const g = (k: number): number => {
      const n = t.nodes[k];
      if (n.feature < 0) return n.value;
      if (S.has(n.feature)) {
        const v = x[n.feature];
        const left = Number.isNaN(v) ? n.defaultLeft : n.categories ? n.categories.includes(v) : v <= n.threshold;
        return g(left ? n.left : n.right);
      }
      return (c(t.nodes[n.left]) * g(n.left) + c(t.nodes[n.right]) * g(n.right)) / c(n);
    };
    s += g(0);
  }
  return s;
}

/** Exhaustive Shapley values over all 2^F coalitions. */
function bruteForceShap(model: GbtModel, x: ArrayLike<number>, F: number, cover: CoverKind): Float64Array {
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Float64Array(F);
  for (let i = 0; i < F; i++) {
    for (let mask = 0; mask < 1 << F; mask++) {
      if (mask & (1 << i)) continue;
      const S = new Set<number>();
      for (let j = 0; j < F; j++) if (mask & (1 << j)) S.add(j);
      const w = (fact(S.size) * fact(F - S.size - 1)) / fact(F);
      const without = condExpectation(model, x, S, cover);
      S.add(i);
      phi[i] += w * (condExpectation(model, x, S, cover) - without);
    }
  }
  return phi;
}

describe("TreeSHAP", () => {
  const train = synth(8000, 10, 21);
  const test = synth(3000, 10, 22);
  const model = fitGbt(train.data, train.y, {
    nEstimators: 80,
    learningRate: 0.1,
    maxDepth: 6,
    maxLeaves: 24,
    minSamplesLeaf: 10,
  });

  it("is additive: Σ shap + expectedValue = predictRaw to 1e-9 on thousands of rows (categorical + NaN included)", () => {
    for (const cover of ["count", "hessian"] as const) {
      const ex = createExplainer(model, {cover});
      expect(ex.method).toBe("tables");
      const {shap, raw} = ex.explainBatch(test.data);
      const pr = predictRaw(model, test.data);
      const F = 10;
      let nanRows = 0;
      for (let i = 0; i < test.data.nRows; i++) {
        let s = ex.expectedValue;
        for (let j = 0; j < F; j++) s += shap[i * F + j];
        expect(Math.abs(s - pr[i])).toBeLessThan(1e-9);
        expect(Math.abs(raw[i] - pr[i])).toBeLessThan(1e-9);
        if (Number.isNaN(test.data.columns[5][i])) nanRows++;
      }
      expect(nanRows).toBeGreaterThan(300);
    }
  });

  it("the table evaluator equals the paper's Algorithm 2", () => {
    const ex = createExplainer(model);
    for (let i = 0; i < 150; i++) {
      const x = getRow(test.data, i);
      const a = ex.shap(x);
      const b = shapAlgorithm2(model, x, new Float64Array(10));
      for (let j = 0; j < 10; j++) expect(Math.abs(a[j] - b[j])).toBeLessThan(1e-10);
      let s = ex.expectedValue;
      for (const v of b) s += v;
      expect(Math.abs(s - predictRawRow(model, x))).toBeLessThan(1e-9);
    }
  });

  it("matches brute-force Shapley values (all subsets) on a tiny model with 6 features", () => {
    const tiny = synth(3000, 7, 31); // 7 features: drop the last to keep 6 incl. categorical (index 6 → keep 0..5 + plan)
    const ds = {
      ...tiny.data,
      features: [0, 1, 2, 3, 5, 6].map((j) => tiny.data.features[j]),
      columns: [0, 1, 2, 3, 5, 6].map((j) => tiny.data.columns[j]),
    };
    const m = fitGbt(ds, tiny.y, {
      nEstimators: 6,
      learningRate: 0.3,
      maxDepth: 4,
      maxLeaves: 8,
      minSamplesLeaf: 20,
      colsample: 1,
    });
    expect(m.trees.some((t) => t.nodes.some((n) => n.categories))).toBe(true);
    const rows = subsetRows(ds, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    rows.columns[4][0] = NaN; // a missing value
    for (const cover of ["count", "hessian"] as const) {
      const ex = createExplainer(m, {cover});
      for (let i = 0; i < rows.nRows; i++) {
        const x = getRow(rows, i);
        const bf = bruteForceShap(m, x, 6, cover);
        const fast = ex.shap(x);
        for (let j = 0; j < 6; j++) expect(Math.abs(fast[j] - bf[j])).toBeLessThan(1e-10);
        expect(Math.abs(ex.expectedValue - condExpectation(m, x, new Set(), cover))).toBeLessThan(1e-12);
      }
    }
  });

  it("topDrivers returns signed contributions by magnitude", () => {
    const d = topDrivers([0.1, -0.5, 0, 0.3], ["a", "b", "c", "d"], 2);
    expect(d).toEqual([
      {feature: "b", contribution: -0.5},
      {feature: "d", contribution: 0.3},
    ]);
    expect(topDrivers([0, 0], ["a", "b"], 3)).toEqual([]);
  });
});
