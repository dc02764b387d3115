import {describe, expect, it} from "vitest";
import onnxProto from "onnx-proto";
import type {ModelCard} from "../../loaders/model/card.ts";
import {parseModelCard} from "../../loaders/model/card.ts";
import {fitGbt} from "../../loaders/model/gbt.ts";
import {exportOnnx} from "../../loaders/model/onnx.ts";
import {OnnxValidationError, validateOnnxModel} from "../../loaders/model/validate-onnx.ts";
import {synth} from "./synth.ts";

const {onnx} = onnxProto;

describe("validate-onnx", () => {
  const s = synth(3000, 8, 61);
  const model = fitGbt(s.data, s.y, {nEstimators: 20});
  const bytes = exportOnnx(model, {method: "platt", a: 1.1, b: -0.2});
  const metrics = {
    roc_auc: 0.8,
    pr_auc: 0.5,
    brier: 0.15,
    ece: 0.02,
    lift_top_decile: 2.5,
    precision_at_50: 0.6,
    precision_at_100: 0.55,
    churned_scored_low_share: 0.1,
  };
  const card: ModelCard = {
    version: "2026.11.0",
    trained_at: "2026-11-23T06:00:00Z",
    data_fingerprint: "sha256:0123456789abcdef",
    features: s.data.features.map((f) =>
      f.kind === "numeric"
        ? {name: f.name, kind: "numeric" as const, encoding: "float32" as const}
        : {name: f.name, kind: "categorical" as const, encoding: "index" as const, categories: f.categories!},
    ),
    hyperparameters: {learningRate: 0.05, maxLeaves: 31},
    metrics,
    calibration: {method: "platt", curve: [{lo: 0, hi: 0.1, count: 10, meanPredicted: 0.05, observedRate: 0.04}]},
    baseline: {model: "logistic", metrics},
    truth_auc: null,
    onnx: {
      input: {name: "features", shape: ["N", 8]},
      outputs: [
        {name: "probability", shape: ["N", 1]},
        {name: "raw_score", shape: ["N", 1]},
      ],
    },
  };

  it("accepts the exported model with its card", async () => {
    const v = await validateOnnxModel(bytes, card);
    expect(v).toMatchObject({inputName: "features", nFeatures: 8});
    expect(v.outputNames).toEqual(["probability", "raw_score"]);
  });

  it("rejects garbage bytes as not an ONNX file", async () => {
    const garbage = new TextEncoder().encode("this is a CSV file, not a model\n1,2,3\n");
    await expect(validateOnnxModel(garbage, card, {source: "models/upload.onnx"})).rejects.toThrow(
      /models\/upload\.onnx: not an ONNX file/,
    );
    await expect(validateOnnxModel(new Uint8Array([0xff, 0xff, 0xff]), card)).rejects.toThrow(/not an ONNX file/);
  });

  it("rejects a model whose input width does not match the card's features", async () => {
    const other = synth(2000, 10, 62);
    const wide = exportOnnx(fitGbt(other.data, other.y, {nEstimators: 5}), {method: "none"});
    const err = await validateOnnxModel(wide, card).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxValidationError);
    expect((err as Error).message).toMatch(
      /input "features" has shape \[N, 10\]: 10 features, but the model card lists 8/,
    );
  });

  it("rejects a wrong input name, a rank-1 input and a missing output, naming each", async () => {
    const m = onnx.ModelProto.decode(bytes);
    m.graph!.input![0].name = "X";
    m.graph!.input![0].type!.tensorType!.shape!.dim = [{dimParam: "N"}];
    m.graph!.output = m.graph!.output!.filter((o) => o.name !== "raw_score");
    const broken = onnx.ModelProto.encode(m).finish();
    const err = (await validateOnnxModel(broken, card).catch((e: unknown) => e)) as OnnxValidationError;
    expect(err.problems).toEqual([
      'input is named "X" but the model card says "features"',
      'input "X" has shape [N], expected [N, 8]',
      'missing output "raw_score" (outputs: probability)',
    ]);
  });

  it("rejects a bad card with JSON paths in the message", async () => {
    const bad = {
      ...card,
      trained_at: "yesterday",
      metrics: {...metrics, roc_auc: 1.7},
      features: card.features.slice(1),
    };
    const err = (await validateOnnxModel(bytes, bad).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/trained_at: /);
    expect(err.message).toMatch(/metrics\.roc_auc: must be between 0 and 1/);
    expect(err.message).toMatch(/onnx\.input\.shape\.1: input width 8 does not match the 7 features listed/);
    expect(() => parseModelCard({...card, calibration: {method: "magic", curve: []}})).toThrow(/calibration\.method/);
    // a card naming different features than the model's metadata
    const renamed = {...card, features: card.features.map((f, i) => (i === 0 ? {...f, name: "renamed"} : f))};
    await expect(validateOnnxModel(bytes, renamed)).rejects.toThrow(
      /feature_names metadata .* differs from the model card's features/,
    );
  });
});
