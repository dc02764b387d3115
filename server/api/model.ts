/**
 * The churn model as the API serves it: `loadModel(models/)` (ONNX via onnxruntime-web, the same
 * runtime and file as the build; exact TreeSHAP from the tree file), hot-reloaded when a new
 * card lands (the card is written last when a model is saved or promoted).
 *
 * Scoring: single-row requests arriving together are coalesced into one ONNX run by
 * `createBatcher`, and their TreeSHAP values into one `explainBatch` — one run costs a fixed
 * ~0.3 ms, so batching is what makes the endpoint fast under load.
 */
import {statSync} from "node:fs";
import {join, resolve} from "node:path";
import {z} from "zod";
import {tierOfProbability, type RiskTier} from "../../src/components/config.ts";
import type {FeatureMeta} from "../../loaders/model/dataset.ts";
import {createBatcher} from "../../loaders/model/onnx-runtime.ts";
import {loadModel, MODEL_FILES, type LoadedModel} from "../../loaders/model/registry.ts";
import {encodeValue} from "../../loaders/model/table.ts";
import {topDrivers} from "../../loaders/model/treeshap.ts";
import type {Logger} from "./log.ts";
import type {ApiMetrics} from "./metrics.ts";
import {unavailable} from "./problem.ts";
import {ReloadingStore, Versioned} from "./refcount.ts";

export const DRIVERS_PER_PREDICTION = 5;

export type FeatureValue = number | string | boolean | null;

export interface Prediction {
  churn_probability: number;
  raw_score: number;
  risk_tier: RiskTier;
  top_drivers: {feature: string; value: FeatureValue; contribution: number; direction: "raises_risk" | "lowers_risk"}[];
}

/** Collects rows queued in the same tick and explains them with one `explainBatch`. */
function createShapBatcher(model: LoadedModel, maxRows = 1024) {
  const explainer = model.explainer;
  const F = model.features.length;
  let queue: {row: Float32Array; resolve: (v: Float64Array) => void; reject: (e: unknown) => void}[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (!batch.length || !explainer) return;
    try {
      const n = batch.length;
      const columns = Array.from({length: F}, () => new Float32Array(n));
      batch.forEach((b, i) => {
        for (let j = 0; j < F; j++) columns[j]![i] = b.row[j]!;
      });
      const {shap} = explainer.explainBatch({nRows: n, features: model.features, columns});
      batch.forEach((b, i) => b.resolve(shap.subarray(i * F, (i + 1) * F)));
    } catch (e) {
      batch.forEach((b) => b.reject(e));
    }
  };
  return {
    explain(row: Float32Array): Promise<Float64Array | null> {
      if (!explainer) return Promise.resolve(null);
      return new Promise((resolve, reject) => {
        queue.push({row, resolve, reject});
        if (queue.length >= maxRows) flush();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}

/** zod schema of one feature object for this model: every card feature, nothing else. */
function featureSchema(features: readonly FeatureMeta[]) {
  const shape: Record<string, z.ZodType> = {};
  for (const f of features) {
    shape[f.name] =
      f.kind === "categorical"
        ? z.enum(f.categories! as [string, ...string[]], {message: `must be one of ${f.categories!.map((c) => JSON.stringify(c)).join(", ")} (or null when unknown)`}).nullable()
        : z.union([z.number().refine(Number.isFinite, {message: "must be a finite number"}), z.boolean()], {message: "must be a number (or a boolean, or null when missing)"}).nullable();
  }
  return z.strictObject(shape, {message: "must be an object of feature values keyed by the model card's feature names"});
}

export class ServedModel {
  readonly featureNames: string[];
  readonly schema: z.ZodType<Record<string, FeatureValue>>;
  private batcher;
  private shap;
  constructor(
    readonly model: LoadedModel,
    readonly identity: string,
  ) {
    this.featureNames = model.features.map((f) => f.name);
    this.schema = featureSchema(model.features) as unknown as z.ZodType<Record<string, FeatureValue>>;
    this.batcher = createBatcher(model.scorer, model.features.length);
    this.shap = createShapBatcher(model);
  }

  get version(): string {
    return this.model.card.version;
  }

  encode(values: Record<string, FeatureValue>): Float32Array {
    const row = new Float32Array(this.model.features.length);
    this.model.features.forEach((f, j) => (row[j] = encodeValue(f, values[f.name], `features.${f.name}`)));
    return row;
  }

  async predict(values: Record<string, FeatureValue>): Promise<Prediction> {
    const row = this.encode(values);
    const [score, shap] = await Promise.all([this.batcher.scoreOne(row), this.shap.explain(row)]);
    const p = score.probability;
    return {
      churn_probability: p,
      raw_score: score.raw,
      risk_tier: tierOfProbability(p),
      top_drivers: shap
        ? topDrivers(shap, this.featureNames, DRIVERS_PER_PREDICTION).map((d) => ({
            feature: d.feature,
            value: values[d.feature] ?? null,
            contribution: d.contribution,
            direction: d.contribution > 0 ? "raises_risk" : "lowers_risk",
          }))
        : [],
    };
  }

  async release(): Promise<void> {
    await this.model.scorer.release();
  }
}

function cardIdentity(dir: string): string | null {
  try {
    const s = statSync(join(dir, MODEL_FILES.card));
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

export class ModelStore extends ReloadingStore<ServedModel> {
  readonly dir: string;
  protected readonly versions = new Versioned<ServedModel>(
    (m) => m.release(),
    () => unavailable(`no churn model is loaded from ${this.dir}${this.lastError ? `: ${this.lastError}` : ""} — run \`npm run train\` or \`npm run build\``),
  );
  private failed: string | null = null;

  constructor(
    dir: string,
    private readonly log: Logger,
    private readonly metrics: ApiMetrics,
  ) {
    super();
    this.dir = resolve(dir);
  }

  protected async doCheck(): Promise<void> {
    const id = cardIdentity(this.dir);
    const cur = this.versions.current;
    if (!id || cur?.identity === id || id === this.failed) return;
    try {
      const served = new ServedModel(await loadModel(this.dir), id);
      this.versions.swap(served);
      this.lastError = null;
      if (cur) this.metrics.reloads.inc({kind: "model", outcome: "ok"});
      this.log.info(cur ? "model reloaded" : "model loaded", {dir: this.dir, version: served.version, previous_version: cur?.version ?? null, drivers: served.model.explainer ? "treeshap" : "none"});
    } catch (e) {
      this.lastError = (e as Error).message;
      this.failed = id; // not retried until the card changes again
      this.metrics.reloads.inc({kind: "model", outcome: "error"});
      this.log.warn("model not (re)loaded; still serving the previous one", {dir: this.dir, error: this.lastError.split("\n")[0]});
    }
  }

  watch(pollMs: number): void {
    this.poll(pollMs);
  }
}
