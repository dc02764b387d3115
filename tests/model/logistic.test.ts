import {describe, expect, it} from "vitest";
import {fromRows} from "../../loaders/model/dataset.ts";
import {designColumns, fitLogistic, predictLogisticRaw} from "../../loaders/model/logistic.ts";
import {makeRng} from "../../loaders/model/rng.ts";

describe("logistic regression baseline", () => {
  it("recovers the coefficients of a linear logit (standardised, one-hot, NaN → mean)", () => {
    const rng = makeRng(9);
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const a = rng.next() * 2 - 1; // std ≈ 0.577
      const c = rng.int(3);
      const logit = 2 * a + [0, 1, -1][c] - 0.5;
      rows.push([rng.next() < 0.05 ? NaN : a, c]);
      y.push(rng.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0);
    }
    const ds = fromRows(rows, [
      {name: "a", kind: "numeric"},
      {name: "plan", kind: "categorical", categories: ["x", "y", "z"]},
    ]);
    const m = fitLogistic(ds, y, {l2: 1e-6});
    expect(designColumns(ds.features)).toEqual(["a", "plan=x", "plan=y", "plan=z"]);
    expect(m.weights[0] / m.std[0]).toBeCloseTo(2, 0);
    // category effects relative to "x"
    expect(m.weights[2] - m.weights[1]).toBeCloseTo(1, 0);
    expect(m.weights[3] - m.weights[1]).toBeCloseTo(-1, 0);
    const raw = predictLogisticRaw(m, fromRows([[NaN, 0]], ds.features));
    expect(Number.isFinite(raw[0])).toBe(true);
  });
});
