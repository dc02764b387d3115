/**
 * Export of a GbtModel + calibration to ONE ONNX model.
 *
 * Graph:  features float32 [N, F]
 *           └─ ai.onnx.ml TreeEnsemble (opset 5, SUM, no post-transform) → trees [N, 1]
 *              └─ Add(base_score) → raw_score [N, 1]            (= predictRaw, the margin SHAP explains)
 *                 └─ calibration → probability [N, 1]           (= applyCalibration(cal, raw))
 *
 * - Numeric splits: BRANCH_LEQ with the model's float32 thresholds (true branch = left).
 * - Categorical splits: BRANCH_MEMBER with the exact category set (true branch = left). This is
 *   why TreeEnsemble (ai.onnx.ml 5) is used rather than TreeEnsembleRegressor (ml 3), which has
 *   no set membership. Verified on onnxruntime-web 1.30 by tests/model/onnx.test.ts.
 * - Missing values: `nodes_missing_value_tracks_true` = the node's learned default (left).
 * - Leaf values are float32 already (tree-growth.ts rounds them), so ONNX holds the same numbers.
 * - Calibration: none → Sigmoid; Platt → Mul(a), Add(b), Sigmoid; isotonic → the piecewise-linear
 *   map described in calibration.ts. Platt is kept as explicit nodes (not folded into the leaves)
 *   so `raw_score` stays the uncalibrated margin that TreeSHAP's values add up to.
 * - Plain tensor outputs (no ZipMap); opsets: '' 17, 'ai.onnx.ml' 5; IR version 8.
 */
import onnxProto from "onnx-proto";
import type {Calibration} from "./calibration.ts";
import type {GbtModel} from "./tree.ts";

const {onnx} = onnxProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;

export const ONNX_INPUT = "features";
export const ONNX_OUTPUTS = ["probability", "raw_score"] as const;
export const ONNX_OPSET = 17;
export const ONNX_ML_OPSET = 5;

const AT = onnx.AttributeProto.AttributeType;
const DT = onnx.TensorProto.DataType;
const enc = new TextEncoder();

const attrInt = (name: string, i: number): IAttributeProto => ({name, type: AT.INT, i});
const attrInts = (name: string, ints: number[]): IAttributeProto => ({name, type: AT.INTS, ints});
const attrTensor = (name: string, t: ITensorProto): IAttributeProto => ({name, type: AT.TENSOR, t});
const floatTensor = (name: string, dims: number[], values: ArrayLike<number>): ITensorProto => ({
  name,
  dataType: DT.FLOAT,
  dims,
  floatData: Array.from(values, (v) => Math.fround(v)),
});
const int64Tensor = (name: string, dims: number[], values: number[]): ITensorProto => ({
  name,
  dataType: DT.INT64,
  dims,
  int64Data: values,
});

const MODE_LEQ = 0;
const MODE_MEMBER = 6;

/** The TreeEnsemble node for the trees' sum (no base score). */
function treeEnsembleNode(model: GbtModel, output: string): INodeProto {
  const featureIds: number[] = [];
  const splits: number[] = [];
  const modes: number[] = [];
  const trueIds: number[] = [];
  const trueLeafs: number[] = [];
  const falseIds: number[] = [];
  const falseLeafs: number[] = [];
  const missingTrue: number[] = [];
  const members: number[] = [];
  const roots: number[] = [];
  const leafWeights: number[] = [];
  for (const tree of model.trees) {
    const nodes = tree.nodes;
    // global ids: internal nodes and leaves are numbered separately
    const internalId = new Map<number, number>();
    const leafId = new Map<number, number>();
    nodes.forEach((n, k) => {
      if (n.feature < 0) {
        leafId.set(k, leafWeights.length);
        leafWeights.push(n.value);
      }
    });
    if (nodes[0].feature < 0) {
      // a single-leaf tree: one dummy split whose both branches reach the leaf
      roots.push(featureIds.length);
      featureIds.push(0);
      splits.push(0);
      modes.push(MODE_LEQ);
      trueIds.push(leafId.get(0)!);
      trueLeafs.push(1);
      falseIds.push(leafId.get(0)!);
      falseLeafs.push(1);
      missingTrue.push(1);
      continue;
    }
    const base = featureIds.length;
    let next = 0;
    nodes.forEach((n, k) => {
      if (n.feature >= 0) internalId.set(k, base + next++);
    });
    roots.push(internalId.get(0)!);
    nodes.forEach((n) => {
      if (n.feature < 0) return;
      featureIds.push(n.feature);
      if (n.categories) {
        modes.push(MODE_MEMBER);
        splits.push(0);
        members.push(...n.categories, NaN);
      } else {
        modes.push(MODE_LEQ);
        splits.push(n.threshold);
      }
      const leftLeaf = nodes[n.left].feature < 0;
      const rightLeaf = nodes[n.right].feature < 0;
      trueIds.push(leftLeaf ? leafId.get(n.left)! : internalId.get(n.left)!);
      trueLeafs.push(leftLeaf ? 1 : 0);
      falseIds.push(rightLeaf ? leafId.get(n.right)! : internalId.get(n.right)!);
      falseLeafs.push(rightLeaf ? 1 : 0);
      missingTrue.push(n.defaultLeft ? 1 : 0);
    });
  }
  const attribute: IAttributeProto[] = [
    attrInt("n_targets", 1),
    attrInt("aggregate_function", 1), // SUM
    attrInt("post_transform", 0), // NONE
    attrInts("tree_roots", roots),
    attrInts("nodes_featureids", featureIds),
    attrTensor("nodes_splits", floatTensor("", [splits.length], splits)),
    attrTensor("nodes_modes", {dataType: DT.UINT8, dims: [modes.length], int32Data: modes}),
    attrInts("nodes_truenodeids", trueIds),
    attrInts("nodes_trueleafs", trueLeafs),
    attrInts("nodes_falsenodeids", falseIds),
    attrInts("nodes_falseleafs", falseLeafs),
    attrInts("nodes_missing_value_tracks_true", missingTrue),
    attrInts(
      "leaf_targetids",
      leafWeights.map(() => 0),
    ),
    attrTensor("leaf_weights", floatTensor("", [leafWeights.length], leafWeights)),
  ];
  if (members.length > 0) attribute.push(attrTensor("membership_values", floatTensor("", [members.length], members)));
  return {
    opType: "TreeEnsemble",
    domain: "ai.onnx.ml",
    name: "trees",
    input: [ONNX_INPUT],
    output: [output],
    attribute,
  };
}

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DT.FLOAT,
        shape: {dim: dims.map((d) => (typeof d === "number" ? {dimValue: d} : {dimParam: d}))},
      },
    },
  };
}

export interface ExportOptions {
  /** free-form key/value pairs stored as ONNX metadata_props (e.g. model version) */
  metadata?: Record<string, string>;
}

/** Serialises the model + calibration to ONNX bytes. */
export function exportOnnx(model: GbtModel, calibration: Calibration, options: ExportOptions = {}): Uint8Array {
  const F = model.features.length;
  const nodes: INodeProto[] = [treeEnsembleNode(model, "trees")];
  const init: ITensorProto[] = [floatTensor("base_score", [1], [model.baseScore])];
  nodes.push({opType: "Add", input: ["trees", "base_score"], output: ["raw_score"], name: "add_base"});
  switch (calibration.method) {
    case "none":
      nodes.push({opType: "Sigmoid", input: ["raw_score"], output: ["probability"], name: "sigmoid"});
      break;
    case "platt":
      init.push(floatTensor("platt_a", [1], [calibration.a]), floatTensor("platt_b", [1], [calibration.b]));
      nodes.push(
        {opType: "Mul", input: ["raw_score", "platt_a"], output: ["platt_ax"], name: "platt_mul"},
        {opType: "Add", input: ["platt_ax", "platt_b"], output: ["platt_logit"], name: "platt_add"},
        {opType: "Sigmoid", input: ["platt_logit"], output: ["probability"], name: "sigmoid"},
      );
      break;
    case "isotonic": {
      const {x, y} = calibration;
      const K = x.length - 1;
      const lo = x.slice(0, K);
      const hi = x.slice(1);
      const slope = Array.from({length: K}, (_, k) => (y[k + 1] - y[k]) / (x[k + 1] - x[k]));
      init.push(
        floatTensor("iso_lo", [1, K], lo),
        floatTensor("iso_hi", [1, K], hi),
        floatTensor("iso_slope", [1, K], slope),
        floatTensor("iso_y0", [1], [y[0]]),
        int64Tensor("iso_axes", [1], [1]),
      );
      nodes.push(
        {opType: "Max", input: ["raw_score", "iso_lo"], output: ["iso_max"], name: "iso_max"},
        {opType: "Min", input: ["iso_max", "iso_hi"], output: ["iso_clip"], name: "iso_min"},
        {opType: "Sub", input: ["iso_clip", "iso_lo"], output: ["iso_dx"], name: "iso_sub"},
        {opType: "Mul", input: ["iso_dx", "iso_slope"], output: ["iso_dy"], name: "iso_mul"},
        {
          opType: "ReduceSum",
          input: ["iso_dy", "iso_axes"],
          output: ["iso_sum"],
          name: "iso_sum",
          attribute: [attrInt("keepdims", 1)],
        },
        {opType: "Add", input: ["iso_sum", "iso_y0"], output: ["probability"], name: "iso_add"},
      );
      break;
    }
  }
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "saasguard",
    producerVersion: "1",
    opsetImport: [
      {domain: "", version: ONNX_OPSET},
      {domain: "ai.onnx.ml", version: ONNX_ML_OPSET},
    ],
    metadataProps: [
      {key: "feature_names", value: JSON.stringify(model.features.map((f) => f.name))},
      {key: "calibration", value: calibration.method},
      ...Object.entries(options.metadata ?? {}).map(([key, value]) => ({key, value})),
    ],
    graph: {
      name: "saasguard_churn",
      node: nodes,
      initializer: init,
      input: [valueInfo(ONNX_INPUT, ["N", F])],
      output: [valueInfo("probability", ["N", 1]), valueInfo("raw_score", ["N", 1])],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Used by the validator: the strings of an attribute as text. */
export const decodeText = (b: Uint8Array): string => new TextDecoder().decode(b);
export const encodeText = (s: string): Uint8Array => enc.encode(s);
