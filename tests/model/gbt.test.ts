import {describe, expect, it} from "vitest";
import {fromRows} from "../../loaders/model/dataset.ts";
import {
  buildBinMapper,
  fitGbt,
  modelFromJSON,
  modelToJSON,
  predictProba,
  predictRaw,
  predictRawRow,
} from "../../loaders/model/gbt.ts";
import {fitLogistic, predictLogisticProba} from "../../loaders/model/logistic.ts";
import {rocAuc} from "../../loaders/model/evaluation.ts";
import {makeRng} from "../../loaders/model/rng.ts";
import {synth} from "./synth.ts";

const small = {nEstimators: 60, learningRate: 0.1, maxLeaves: 15, earlyStoppingRounds: 0};

describe("GBT", () => {
  const train = synth(20000, 12, 1);
  const valid = synth(5000, 12, 2);
  const test = synth(10000, 12, 3);

  it("learns a known nonlinear function to near the Bayes AUC, beating logistic regression", () => {
    const m = fitGbt(train.data, train.y, {learningRate: 0.1, nEstimators: 400, earlyStoppingRounds: 30}, valid);
    const auc = rocAuc(test.y, predictProba(m, test.data));
    const bayes = rocAuc(test.y, test.prob);
    const lr = fitLogistic(train.data, train.y);
    const aucLr = rocAuc(test.y, predictLogisticProba(lr, test.data));
    console.log(
      `GBT AUC ${auc.toFixed(4)} (Bayes ${bayes.toFixed(4)}, logistic ${aucLr.toFixed(4)}, ${m.trees.length} trees)`,
    );
    expect(auc).toBeGreaterThan(bayes - 0.03);
    expect(auc).toBeGreaterThan(aucLr + 0.03);
    // probabilities follow the true ones
    const p = predictProba(m, test.data);
    let mae = 0;
    for (let i = 0; i < p.length; i++) mae += Math.abs(p[i] - test.prob[i]) / p.length;
    expect(mae).toBeLessThan(0.08);
  });

  it("is deterministic under a seed; subsampling changes the model but stays deterministic", () => {
    const a = fitGbt(train.data, train.y, {...small, seed: 7, subsample: 1, colsample: 1});
    const b = fitGbt(train.data, train.y, {...small, seed: 7, subsample: 1, colsample: 1});
    expect(modelToJSON(a)).toBe(modelToJSON(b));
    const s1 = fitGbt(train.data, train.y, {...small, seed: 7, subsample: 0.7, colsample: 0.6});
    const s2 = fitGbt(train.data, train.y, {...small, seed: 7, subsample: 0.7, colsample: 0.6});
    const s3 = fitGbt(train.data, train.y, {...small, seed: 8, subsample: 0.7, colsample: 0.6});
    expect(modelToJSON(s1)).toBe(modelToJSON(s2));
    expect(modelToJSON(s1)).not.toBe(modelToJSON(a));
    expect(modelToJSON(s1)).not.toBe(modelToJSON(s3));
    // per-tree cover reflects the row subsample; the column subsample limits features per tree
    expect(a.trees[0].nodes[0].cover).toBe(20000);
    const rootCover = s1.trees[0].nodes[0].cover;
    expect(rootCover).toBeGreaterThan(13500);
    expect(rootCover).toBeLessThan(14500);
    for (const t of s1.trees)
      expect(new Set(t.nodes.filter((n) => n.feature >= 0).map((n) => n.feature)).size).toBeLessThanOrEqual(7);
    // JSON round trip predicts the same
    const back = modelFromJSON(modelToJSON(s1));
    expect(Array.from(predictRaw(back, test.data).slice(0, 100))).toEqual(
      Array.from(predictRaw(s1, test.data).slice(0, 100)),
    );
  });

  it("early stopping stops after `patience` rounds without improvement and keeps the best iteration", () => {
    const m = fitGbt(
      train.data,
      train.y,
      {nEstimators: 3000, learningRate: 0.5, maxLeaves: 31, minSamplesLeaf: 5, earlyStoppingRounds: 10},
      valid,
    );
    expect(m.history.valid.length).toBeLessThan(3000);
    expect(m.history.valid.length).toBe(m.bestIteration + 10);
    expect(m.trees.length).toBe(m.bestIteration);
    const best = Math.min(...m.history.valid);
    expect(m.history.valid[m.bestIteration - 1]).toBe(best);
  });

  it("respects the tree-shape limits; thresholds are float32 values; ≤ 255 bins", () => {
    const m = fitGbt(train.data, train.y, {...small, maxDepth: 3, maxLeaves: 6, minSamplesLeaf: 300});
    for (const t of m.trees) {
      const leaves = t.nodes.filter((n) => n.feature < 0);
      expect(leaves.length).toBeLessThanOrEqual(6);
      for (const l of leaves) expect(l.cover).toBeGreaterThanOrEqual(300);
      const depth = (k: number): number =>
        t.nodes[k].feature < 0 ? 0 : 1 + Math.max(depth(t.nodes[k].left), depth(t.nodes[k].right));
      expect(depth(0)).toBeLessThanOrEqual(3);
      for (const n of t.nodes) {
        if (n.feature >= 0 && !n.categories) expect(Math.fround(n.threshold)).toBe(n.threshold);
        if (n.feature < 0) expect(Math.fround(n.value)).toBe(n.value);
        if (n.feature >= 0) expect(t.nodes[n.left].cover + t.nodes[n.right].cover).toBe(n.cover);
      }
    }
    const bm = buildBinMapper(train.data.columns[0], train.data.features[0], 255);
    expect(bm.nBins).toBeLessThanOrEqual(255);
    expect(bm.nBins).toBeGreaterThan(200);
    // a threshold between two adjacent float32 values still separates them
    const a = Math.fround(1.0000001);
    const bm2 = buildBinMapper(Float32Array.from([1, a, a, 1]), {name: "t", kind: "numeric"}, 255);
    expect(bm2.thresholds[0] >= 1 && bm2.thresholds[0] < a).toBe(true);
  });

  it("splits categorical features on category sets (non-monotone in the codes)", () => {
    // churn risk is high for categories {0, 3, 5}, low otherwise: no single threshold on the code separates them
    const rng = makeRng(3);
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const c = rng.int(6);
      rows.push([c, rng.next()]);
      y.push(rng.next() < ([0, 3, 5].includes(c) ? 0.8 : 0.2) ? 1 : 0);
    }
    const ds = fromRows(rows, [
      {name: "plan", kind: "categorical", categories: ["a", "b", "c", "d", "e", "f"]},
      {name: "noise", kind: "numeric"},
    ]);
    const m = fitGbt(ds, y, {nEstimators: 1, learningRate: 1, maxDepth: 1, maxLeaves: 2, subsample: 1, colsample: 1});
    const root = m.trees[0].nodes[0];
    expect(root.feature).toBe(0);
    const set = root.categories!;
    expect([
      [0, 3, 5],
      [1, 2, 4],
    ]).toContainEqual(set);
    // the set decides: 0,3,5 score above 1,2,4
    const hi = predictRawRow(m, [3, 0.5]);
    const lo = predictRawRow(m, [2, 0.5]);
    expect(hi).toBeGreaterThan(lo);
    expect(predictRawRow(m, [0, 0.1])).toBe(hi);
    // missing / unknown codes follow the learned default / go right
    expect([hi, lo]).toContain(predictRawRow(m, [NaN, 0.5]));
  });

  it("learns a default direction for missing values", () => {
    // x missing ⇒ high risk; otherwise risk grows with x
    const rng = makeRng(4);
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 8000; i++) {
      const miss = rng.next() < 0.2;
      const x = rng.next();
      rows.push([miss ? NaN : x]);
      y.push(rng.next() < (miss ? 0.9 : 0.1 + 0.3 * x) ? 1 : 0);
    }
    const ds = fromRows(rows, [{name: "x", kind: "numeric"}]);
    const m = fitGbt(ds, y, {...small, nEstimators: 80, subsample: 1, colsample: 1});
    const pNaN = 1 / (1 + Math.exp(-predictRawRow(m, [NaN])));
    expect(pNaN).toBeGreaterThan(0.8);
    expect(1 / (1 + Math.exp(-predictRawRow(m, [0.9])))).toBeLessThan(0.5);
    expect(m.trees[0].nodes.some((n) => n.feature === 0 && n.defaultLeft)).toBe(true);
  });

  it("rejects bad labels and categorical codes with clear messages", () => {
    const ds = fromRows([[1], [2]], [{name: "x", kind: "numeric"}]);
    expect(() => fitGbt(ds, [0, 2])).toThrow(/row 1 is 2/);
    expect(() => fitGbt(ds, [1, 1])).toThrow(/both classes/);
    expect(() => fromRows([[7]], [{name: "plan", kind: "categorical", categories: ["a"]}])).toThrow(
      /"plan", row 0: code 7/,
    );
  });
});
