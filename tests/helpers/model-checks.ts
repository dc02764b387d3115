/**
 * What every model SaaSGuard trains must hold, checked on real rows: onnxruntime-web and the
 * TypeScript trees give the same probabilities, and exact TreeSHAP values plus the base value add
 * up to the ONNX model's raw score.
 */
import {expect} from "vitest";
import {calibrate} from "../../loaders/model/calibration.ts";
import {toRowMajor, type Dataset} from "../../loaders/model/dataset.ts";
import {predictRaw} from "../../loaders/model/gbt.ts";
import type {LoadedModel} from "../../loaders/model/registry.ts";
import type {TrainedModel} from "../../loaders/model/train.ts";
import {createExplainer} from "../../loaders/model/treeshap.ts";

export async function expectOnnxParityAndShapAdditivity(
  trained: TrainedModel,
  loaded: LoadedModel,
  data: Dataset,
  every = 31,
): Promise<void> {
  const onnx = await loaded.scorer.score(toRowMajor(data), data.nRows);
  const ts = calibrate(trained.calibration, predictRaw(trained.gbt, data));
  let worst = 0;
  for (let i = 0; i < data.nRows; i++) worst = Math.max(worst, Math.abs(onnx.probability[i]! - ts[i]!));
  expect(worst).toBeLessThan(1e-5);
  const explainer = createExplainer(trained.gbt);
  const e = explainer.explainBatch(data);
  const F = data.features.length;
  for (let i = 0; i < data.nRows; i += every) {
    let sum = explainer.expectedValue;
    for (let j = 0; j < F; j++) sum += e.shap[i * F + j]!;
    expect(Math.abs(sum - onnx.raw[i]!)).toBeLessThan(1e-3);
  }
}
