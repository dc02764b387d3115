/**
 * The model folder (models/): load and check a model, save a candidate, gate and promote.
 *
 * The folder holds one model of each kind (MODEL_KINDS): the churn model, the expansion model
 * and the churn horizon model. A model is three files, named after its kind: `churn_model.onnx` (what the build, the
 * server and the browser run), `churn_model.card.json` (what it is and how good it was) and, for
 * SaaSGuard's own trees, `churn_model.trees.json` (the tree structure behind exact TreeSHAP
 * drivers). The card holds the sha256 of the other two, so files out of step are caught. Any ONNX
 * binary classifier with a valid card works; without the trees file its drivers are not available.
 */
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {config} from "../../src/rules/config.ts";
import {sha256, type ModelCard} from "./card.ts";
import type {FeatureMeta} from "./dataset.ts";
import {modelFromJSON, type GbtModel} from "./tree.ts";
import {loadOnnxScorer, type OnnxScorer} from "./onnx-runtime.ts";
import {fromCardFeatures} from "./table.ts";
import type {TrainedModel} from "./train.ts";
import {createExplainer, type Explainer} from "./treeshap.ts";
import {validateOnnxModel} from "./validate-onnx.ts";

/** What each kind of model predicts, and the stem of its files. */
export const MODEL_KINDS = {
  churn: {stem: "churn_model", predicts: "churn within 90 days"},
  expansion: {
    stem: "expansion_model",
    predicts: "expansion (a won expansion opportunity or an upgrade) within 90 days",
  },
  horizon: {stem: "churn_horizon_model", predicts: "churn in each of the next 12 months (a monthly hazard)"},
} as const;
export type ModelKind = keyof typeof MODEL_KINDS;

export function modelFiles(kind: ModelKind) {
  const stem = MODEL_KINDS[kind].stem;
  return {onnx: `${stem}.onnx`, card: `${stem}.card.json`, trees: `${stem}.trees.json`} as const;
}
/** The churn model's files (the model most of the product reads). */
export const MODEL_FILES = modelFiles("churn");
export const DEFAULT_MODELS_DIR = "models";

export interface LoadedModel {
  dir: string;
  card: ModelCard;
  features: FeatureMeta[];
  scorer: OnnxScorer;
  /** tree structure and exact TreeSHAP explainer; null for a foreign ONNX model */
  gbt: GbtModel | null;
  explainer: Explainer | null;
}

export function hasModel(dir: string, kind: ModelKind = "churn"): boolean {
  const files = modelFiles(kind);
  return existsSync(join(dir, files.onnx)) || existsSync(join(dir, files.card));
}

/** Loads and checks a model folder; every problem is reported with the file it concerns. */
export async function loadModel(dir: string, kind: ModelKind = "churn"): Promise<LoadedModel> {
  const files = modelFiles(kind);
  const onnxPath = join(dir, files.onnx);
  const cardPath = join(dir, files.card);
  for (const p of [onnxPath, cardPath])
    if (!existsSync(p)) throw new Error(`${p} is missing: a model needs ${files.onnx} and ${files.card} side by side`);
  const bytes = new Uint8Array(readFileSync(onnxPath));
  let cardJson: unknown;
  try {
    cardJson = JSON.parse(readFileSync(cardPath, "utf8"));
  } catch (e) {
    throw new Error(`${cardPath}: not valid JSON (${(e as Error).message})`);
  }
  const {card} = await validateOnnxModel(bytes, cardJson, {source: onnxPath});
  if (card.onnx_sha256 && card.onnx_sha256 !== sha256(bytes))
    throw new Error(
      `${cardPath} describes a different ONNX file than ${onnxPath} (sha256 mismatch): the files are out of step`,
    );
  const features = fromCardFeatures(card.features);
  let gbt: GbtModel | null = null;
  let explainer: Explainer | null = null;
  if (card.explainer) {
    const treesPath = join(dir, card.explainer.file);
    if (!existsSync(treesPath)) throw new Error(`${treesPath} is missing (named by ${cardPath} for TreeSHAP drivers)`);
    const text = readFileSync(treesPath, "utf8");
    if (sha256(text) !== card.explainer.sha256)
      throw new Error(`${treesPath} does not match ${cardPath} (sha256 mismatch): the files are out of step`);
    gbt = modelFromJSON(text);
    const names = gbt.features.map((f) => f.name).join(",");
    if (names !== features.map((f) => f.name).join(","))
      throw new Error(`${treesPath}: its features differ from the card's`);
    explainer = createExplainer(gbt);
  }
  const scorer = await loadOnnxScorer(bytes);
  return {dir, card, features, scorer, gbt, explainer};
}

/** Writes a trained model into `dir`: each file via a temporary name, the card last. */
export function saveModel(dir: string, m: TrainedModel, kind: ModelKind = "churn"): void {
  const files = modelFiles(kind);
  mkdirSync(dir, {recursive: true});
  const write = (name: string, data: string | Uint8Array) => {
    const tmp = join(dir, `.${name}.tmp-${process.pid}`);
    writeFileSync(tmp, data);
    renameSync(tmp, join(dir, name));
  };
  if (m.card.explainer && m.card.explainer.file !== files.trees)
    throw new Error(`a ${kind} model's card must name ${files.trees} as its tree file, not ${m.card.explainer.file}`);
  write(files.onnx, m.onnx);
  write(files.trees, m.treesJson);
  write(files.card, JSON.stringify(m.card, null, 2) + "\n");
}

export interface GateRow {
  check: string;
  current: number | null;
  candidate: number;
  limit: string;
  ok: boolean;
}

/**
 * The promotion gates: the candidate may lose at most `maxAucDrop` ROC-AUC against the
 * current model (measured on the candidate's test rows when possible), and its calibration
 * drift must stay within `maxCalibrationDrift`.
 */
export function promotionGate(candidate: ModelCard, current: {auc: number} | null): {passed: boolean; rows: GateRow[]} {
  const g = config.governance;
  const auc = candidate.metrics.roc_auc;
  const drift = candidate.calibration.decile_drift ?? candidate.metrics.ece;
  const rows: GateRow[] = [
    {
      check: "ROC-AUC (test cutoffs)",
      current: current?.auc ?? null,
      candidate: auc,
      limit: current ? `≥ ${(current.auc - g.maxAucDrop).toFixed(3)}` : "no current model",
      ok: !current || auc >= current.auc - g.maxAucDrop,
    },
    {
      check: "calibration drift (decile mean |pred − obs|)",
      current: null,
      candidate: drift,
      limit: `≤ ${g.maxCalibrationDrift}`,
      ok: drift <= g.maxCalibrationDrift,
    },
  ];
  return {passed: rows.every((r) => r.ok), rows};
}

export function formatGate(rows: GateRow[]): string {
  const f = (x: number | null) => (x === null ? "—" : x.toFixed(4));
  const lines = ["| check | current | candidate | gate | result |", "|---|---|---|---|---|"];
  for (const r of rows)
    lines.push(`| ${r.check} | ${f(r.current)} | ${f(r.candidate)} | ${r.limit} | ${r.ok ? "pass" : "FAIL"} |`);
  return lines.join("\n");
}

/** Replaces the model in `dir` with the one in `candidateDir` (files renamed, card last). */
export function promote(candidateDir: string, dir: string, kind: ModelKind = "churn"): void {
  const files = modelFiles(kind);
  for (const name of [files.onnx, files.trees, files.card]) {
    const src = join(candidateDir, name);
    if (existsSync(src)) renameSync(src, join(dir, name));
    else rmSync(join(dir, name), {force: true});
  }
}
