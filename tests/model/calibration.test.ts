import {describe, expect, it} from "vitest";
import {applyCalibration, calibrate, fitIsotonic, fitPlatt} from "../../loaders/model/calibration.ts";
import {expectedCalibrationError, rocAuc} from "../../loaders/model/evaluation.ts";
import {makeRng} from "../../loaders/model/rng.ts";

/** raw scores whose true log-odds are 0.5·raw − 1: sigmoid(raw) is badly over-confident */
function miscalibrated(n: number, seed: number) {
  const rng = makeRng(seed);
  const raw = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    raw[i] = (rng.next() - 0.5) * 12;
    y[i] = rng.next() < 1 / (1 + Math.exp(-(0.5 * raw[i] - 1))) ? 1 : 0;
  }
  return {raw, y};
}

describe("calibration", () => {
  const fit = miscalibrated(20000, 1);
  const test = miscalibrated(20000, 2);
  const uncal = Array.from(test.raw, (r) => 1 / (1 + Math.exp(-r)));

  it("Platt recovers the generating slope and intercept and reduces ECE", () => {
    const cal = fitPlatt(fit.raw, fit.y);
    expect(Math.abs(cal.a - 0.5)).toBeLessThan(0.05); // sampling error of 20k rows
    expect(Math.abs(cal.b + 1)).toBeLessThan(0.1);
    const before = expectedCalibrationError(test.y, uncal);
    const after = expectedCalibrationError(test.y, calibrate(cal, test.raw));
    expect(before).toBeGreaterThan(0.1);
    expect(after).toBeLessThan(0.02);
  });

  it("isotonic is monotone, within [0, 1], reduces ECE, and keeps AUC close", () => {
    const cal = fitIsotonic(fit.raw, fit.y);
    for (let k = 1; k < cal.x.length; k++) {
      expect(cal.x[k]).toBeGreaterThan(cal.x[k - 1]);
      expect(cal.y[k]).toBeGreaterThanOrEqual(cal.y[k - 1]);
      expect(Math.fround(cal.x[k])).toBe(cal.x[k]);
    }
    const p = calibrate(cal, test.raw);
    for (const v of p) expect(v >= 0 && v <= 1).toBe(true);
    expect(expectedCalibrationError(test.y, p)).toBeLessThan(0.02);
    expect(rocAuc(test.y, p)).toBeGreaterThan(rocAuc(test.y, test.raw) - 0.01);
    // flat outside the knots
    expect(applyCalibration(cal, -1e6)).toBe(cal.y[0]);
    expect(applyCalibration(cal, 1e6)).toBeCloseTo(cal.y[cal.y.length - 1], 12);
  });

  it("PAV pools violators exactly on a small example", () => {
    // y by increasing raw: 0, 1, 0, 1 → blocks {0}, {1,0}→0.5, {1}
    const cal = fitIsotonic([1, 2, 3, 4], [0, 1, 0, 1], 0);
    expect(cal.x).toEqual([1, 2.5, 4]);
    expect(cal.y).toEqual([0, 0.5, 1]);
    expect(applyCalibration(cal, 1.75)).toBeCloseTo(0.25, 12);
  });
});
