import {describe, expect, it} from "vitest";
import {
  averagePrecision,
  brier,
  calibrationCurve,
  expectedCalibrationError,
  liftTopDecile,
  logLoss,
  positivesInLowBandShare,
  precisionAtK,
  rocAuc,
  summarize,
} from "../../loaders/model/evaluation.ts";

describe("metrics against hand-computed values", () => {
  it("ROC-AUC counts pairs, ties as 1/2", () => {
    // positives 0.9, 0.4; negatives 0.8, 0.4, 0.1 → pairs: (0.9>all)=3, (0.4>0.1)=1, (0.4=0.4)=0.5 → 4.5/6
    expect(rocAuc([1, 0, 1, 0, 0], [0.9, 0.8, 0.4, 0.4, 0.1])).toBeCloseTo(4.5 / 6, 12);
    expect(rocAuc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])).toBe(1);
    expect(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])).toBe(0);
    expect(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    expect(rocAuc([1, 1], [0.3, 0.4])).toBeNaN();
  });
  it("average precision (step-wise PR-AUC) with ties grouped", () => {
    // order 0.9(1) 0.8(0) 0.7(1): AP = 1/2·1 + 1/2·2/3
    expect(averagePrecision([1, 0, 1], [0.9, 0.8, 0.7])).toBeCloseTo(0.5 + 1 / 3, 12);
    // one tie group holding everything: precision 2/4 at recall 1
    expect(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5])).toBeCloseTo(0.5, 12);
  });
  it("Brier and log-loss", () => {
    expect(brier([1, 0], [0.8, 0.3])).toBeCloseTo((0.04 + 0.09) / 2, 12);
    expect(logLoss([1, 0], [0.8, 0.3])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 12);
  });
  it("ECE with 10 equal-width bins and the calibration curve", () => {
    const y = [0, 1, 1, 1];
    const p = [0.05, 0.15, 0.95, 0.95];
    // bins: [0,.1): p .05 y 0 → .05; [.1,.2): p .15 y 1 → .85; [.9,1]: p .95 y 1 → .05 (×2 rows)
    expect(expectedCalibrationError(y, p)).toBeCloseTo((0.05 + 0.85 + 2 * 0.05) / 4, 12);
    const c = calibrationCurve(y, p);
    expect(c.map((b) => b.count)).toEqual([1, 1, 2]);
    expect(c[2]).toMatchObject({lo: 0.9, hi: 1, meanPredicted: 0.95, observedRate: 1});
    // p = 1 falls in the last bin, not an 11th
    expect(calibrationCurve([1], [1])[0].lo).toBe(0.9);
    const m = calibrationCurve([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], 2, "equal-mass");
    expect(m.map((b) => [b.count, b.observedRate])).toEqual([
      [2, 0.5],
      [2, 0.5],
    ]);
  });
  it("precision@k, lift of the top decile, share of positives in the low band", () => {
    const p = Array.from({length: 20}, (_, i) => 1 - i / 20); // descending
    const y = p.map((_, i) => (i === 0 || i === 5 || i === 19 ? 1 : 0));
    expect(precisionAtK(y, p, 2)).toBe(0.5);
    expect(precisionAtK(y, p, 10)).toBe(0.2);
    // top decile = 2 rows, 1 positive → 0.5 / (3/20)
    expect(liftTopDecile(y, p)).toBeCloseTo(0.5 / 0.15, 12);
    // ties at the cut count proportionally: 4 tied rows with 1 positive, k = 2 → 0.5 positives
    expect(precisionAtK([1, 0, 0, 0], [0.5, 0.5, 0.5, 0.5], 2)).toBe(0.25);
    expect(positivesInLowBandShare(y, p, 0.1)).toBeCloseTo(1 / 3, 12); // only p=0.05 is below 0.1
    const s = summarize(y, p, 0.1);
    expect(s.precision_at_50).toBeCloseTo(3 / 20, 12); // k capped at n
  });
});
