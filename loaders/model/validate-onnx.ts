/**
 * Validation of a user-supplied ONNX model and its model card before SaaSGuard scores with it.
 *
 * Checks, in order (stopping at the first stage that fails, reporting every problem of it):
 *  1. the card parses (zod; problems listed with their JSON path);
 *  2. the bytes decode as an ONNX ModelProto with a graph;
 *  3. exactly one graph input, named as the card says, float32, shape [N, F] with F equal to the
 *     number of card features; outputs `probability` (and every output the card lists) present;
 *     `feature_names` metadata, when present, equals the card's feature names;
 *  4. onnxruntime-web loads it and scoring two probe rows (zeros, and all-missing) returns
 *     finite probabilities in [0, 1].
 */
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-web";
import {type ModelCard, parseModelCard} from "./card.ts";

const {onnx} = onnxProto;
ort.env.wasm.numThreads = 1;

export class OnnxValidationError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : `\n  - ${problems.join("\n  - ")}`}`);
    this.name = "OnnxValidationError";
  }
}

export interface ValidatedModel {
  card: ModelCard;
  inputName: string;
  nFeatures: number;
  outputNames: string[];
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function dimText(d: onnxProto.onnx.TensorShapeProto.IDimension): string {
  if (d.dimParam) return d.dimParam;
  if (d.dimValue !== null && d.dimValue !== undefined) return String(d.dimValue);
  return "?";
}

export async function validateOnnxModel(
  bytes: Uint8Array,
  cardJson: unknown,
  options: {source?: string} = {},
): Promise<ValidatedModel> {
  const source = options.source ?? "ONNX model";
  // 1. card
  let card: ModelCard;
  try {
    card = parseModelCard(cardJson, `${source}: model card`);
  } catch (e) {
    throw new OnnxValidationError(source, [(e as Error).message]);
  }
  // 2. protobuf
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxValidationError(source, [
      `not an ONNX file: the bytes are not a valid ONNX protobuf (${(e as Error).message})`,
    ]);
  }
  const graph = model.graph;
  if (!graph || (graph.node?.length ?? 0) === 0) {
    throw new OnnxValidationError(source, [
      "not an ONNX file: no graph with nodes found (is this really a .onnx model?)",
    ]);
  }
  // 3. signature
  const problems: string[] = [];
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initNames.has(i.name));
  const expectedF = card.features.length;
  let inputName = "";
  if (inputs.length !== 1) {
    problems.push(
      `expected exactly 1 input, found ${inputs.length} (${inputs.map((i) => i.name).join(", ") || "none"})`,
    );
  } else {
    const inp = inputs[0];
    inputName = inp.name ?? "";
    if (inp.name !== card.onnx.input.name)
      problems.push(`input is named "${inp.name}" but the model card says "${card.onnx.input.name}"`);
    const tt = inp.type?.tensorType;
    if (!tt) problems.push(`input "${inp.name}" is not a tensor`);
    else {
      if (tt.elemType !== FLOAT)
        problems.push(
          `input "${inp.name}" has element type ${onnx.TensorProto.DataType[tt.elemType ?? 0] ?? tt.elemType}, expected FLOAT (float32)`,
        );
      const dims = tt.shape?.dim ?? [];
      if (dims.length !== 2)
        problems.push(`input "${inp.name}" has shape [${dims.map(dimText).join(", ")}], expected [N, ${expectedF}]`);
      else {
        const w = dims[1].dimValue;
        if (w === null || w === undefined || Number(w) !== expectedF) {
          problems.push(
            `input "${inp.name}" has shape [${dims.map(dimText).join(", ")}]: ${dimText(dims[1])} features, but the model card lists ${expectedF}`,
          );
        }
      }
    }
  }
  const outputNames = (graph.output ?? []).map((o) => o.name ?? "");
  const required = new Set(["probability", ...card.onnx.outputs.map((o) => o.name)]);
  for (const name of required)
    if (!outputNames.includes(name))
      problems.push(`missing output "${name}" (outputs: ${outputNames.join(", ") || "none"})`);
  const fnProp = (model.metadataProps ?? []).find((p) => p.key === "feature_names");
  if (fnProp?.value) {
    try {
      const names = JSON.parse(fnProp.value) as unknown;
      const cardNames = card.features.map((f) => f.name);
      if (!Array.isArray(names) || names.length !== cardNames.length || names.some((n, i) => n !== cardNames[i])) {
        problems.push(
          `feature_names metadata ${fnProp.value} differs from the model card's features ${JSON.stringify(cardNames)}`,
        );
      }
    } catch {
      problems.push("feature_names metadata is not JSON");
    }
  }
  if (problems.length > 0) throw new OnnxValidationError(source, problems);
  // 4. it runs
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {executionProviders: ["wasm"]});
  } catch (e) {
    throw new OnnxValidationError(source, [`onnxruntime cannot load the model: ${(e as Error).message}`]);
  }
  try {
    const probe = new Float32Array(2 * expectedF);
    probe.fill(NaN, expectedF);
    const out = await session.run({[inputName]: new ort.Tensor("float32", probe, [2, expectedF])});
    const p = out.probability;
    if (!p || p.type !== "float32")
      throw new OnnxValidationError(source, [`output "probability" is ${p ? p.type : "absent"}, expected float32`]);
    const data = p.data as Float32Array;
    if (data.length !== 2)
      throw new OnnxValidationError(source, [
        `output "probability" has ${data.length} values for 2 rows, expected shape [N, 1]`,
      ]);
    for (const v of data) {
      if (!Number.isFinite(v) || v < 0 || v > 1)
        throw new OnnxValidationError(source, [
          `output "probability" returned ${v} for a probe row, expected a value in [0, 1]`,
        ]);
    }
  } catch (e) {
    if (e instanceof OnnxValidationError) throw e;
    throw new OnnxValidationError(source, [`scoring probe rows failed: ${(e as Error).message}`]);
  } finally {
    await session.release();
  }
  return {card, inputName, nFeatures: expectedF, outputNames};
}
