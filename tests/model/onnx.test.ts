import {describe, expect, it} from "vitest";
import {calibrate, type Calibration, fitIsotonic, fitPlatt} from "../../loaders/model/calibration.ts";
import {toRowMajor} from "../../loaders/model/dataset.ts";
import {fitGbt, predictRaw} from "../../loaders/model/gbt.ts";
import {exportOnnx} from "../../loaders/model/onnx.ts";
import {createBatcher, loadOnnxScorer} from "../../loaders/model/onnx-runtime.ts";
import {synth} from "./synth.ts";

describe("ONNX export parity with onnxruntime-web", () => {
  const train = synth(12000, 16, 51);
  const valid = synth(4000, 16, 52);
  const test = synth(6000, 16, 53);
  const model = fitGbt(train.data, train.y, {
    nEstimators: 250,
    learningRate: 0.08,
    maxLeaves: 31,
    earlyStoppingRounds: 0,
  });
  const validRaw = predictRaw(model, valid.data);
  const rows = toRowMajor(test.data);
  const tsRaw = predictRaw(model, test.data);

  it("exports categorical set splits and missing directions", () => {
    expect(model.trees.some((t) => t.nodes.some((n) => n.categories && n.categories.length > 1))).toBe(true);
    expect(model.trees.some((t) => t.nodes.some((n) => n.defaultLeft))).toBe(true);
    let nan = 0;
    for (const v of test.data.columns[5]) if (Number.isNaN(v)) nan++;
    expect(nan).toBeGreaterThan(500);
  });

  const cals: Calibration[] = [{method: "none"}, fitPlatt(validRaw, valid.y), fitIsotonic(validRaw, valid.y)];
  for (const cal of cals) {
    it(`TS and onnxruntime agree to 1e-5 on 6,000 rows (calibration: ${cal.method})`, async () => {
      const scorer = await loadOnnxScorer(exportOnnx(model, cal));
      expect(scorer.inputName).toBe("features");
      expect(scorer.nFeatures).toBe(16);
      const out = await scorer.score(rows, test.data.nRows);
      const p = calibrate(cal, tsRaw);
      let maxP = 0;
      let maxR = 0;
      for (let i = 0; i < p.length; i++) {
        maxP = Math.max(maxP, Math.abs(p[i] - out.probability[i]));
        maxR = Math.max(maxR, Math.abs(tsRaw[i] - out.raw[i]) / Math.max(1, Math.abs(tsRaw[i])));
      }
      expect(maxP).toBeLessThan(1e-5);
      expect(maxR).toBeLessThan(1e-5);
      await scorer.release();
    });
  }

  it("exports single-leaf trees, and splits big inputs into several runs", async () => {
    const stump = fitGbt(train.data, train.y, {nEstimators: 3, minSplitGain: 1e12});
    expect(stump.trees.every((t) => t.nodes.length === 1)).toBe(true);
    const scorer = await loadOnnxScorer(exportOnnx(stump, {method: "none"}), {maxBatch: 1000});
    const out = await scorer.score(rows, test.data.nRows);
    const ts = predictRaw(stump, test.data);
    for (let i = 0; i < ts.length; i += 97) expect(out.raw[i]).toBeCloseTo(ts[i], 5);
  });

  it("rejects rows of the wrong width; the batcher coalesces concurrent single rows into one run", async () => {
    const scorer = await loadOnnxScorer(exportOnnx(model, {method: "none"}));
    await expect(scorer.score(new Float32Array(15), 1)).rejects.toThrow(/15 features, the model expects 16/);
    let runs = 0;
    const counting = {...scorer, score: (r: Float32Array, n: number) => (runs++, scorer.score(r, n))};
    const batcher = createBatcher(counting, 16);
    const res = await Promise.all(
      Array.from({length: 50}, (_, i) => batcher.scoreOne(rows.subarray(i * 16, (i + 1) * 16))),
    );
    expect(runs).toBe(1);
    res.forEach((r, i) => expect(r.raw).toBeCloseTo(tsRaw[i], 4));
  });
});
