/**
 * The churn model as the API serves it: `loadModel(models/)` (ONNX via onnxruntime-web, the same
 * runtime and file as the build; exact TreeSHAP from the tree file), hot-reloaded when a new
 * card lands (the card is written last when a model is saved or promoted).
 *
 * Scoring: single-row requests arriving together are coalesced into one ONNX run by
 * `createBatcher`, and their TreeSHAP drivers into one `explainBatch` — a run has a fixed cost,
 * so batching is what makes the endpoint fast under load. TreeSHAP, the larger share of a
 * prediction's CPU, runs in a worker thread (shap-worker.ts) beside the event loop.
 */
import {statSync} from "node:fs";
import {join, resolve} from "node:path";
import {z} from "zod";
import {tierOfProbability, type RiskTier} from "../../src/rules/config.ts";
import {featureWords} from "../../src/rules/labels.ts";
import type {FeatureMeta} from "../../loaders/model/dataset.ts";
import {createBatcher} from "../../loaders/model/onnx-runtime.ts";
import {loadModel, MODEL_FILES, type LoadedModel} from "../../loaders/model/registry.ts";
import {encodeValue} from "../../loaders/model/table.ts";
import {Worker} from "node:worker_threads";
import type {Logger} from "./log.ts";
import type {ApiMetrics} from "./prometheus.ts";
import {unavailable} from "./problem.ts";
import {ReloadingStore, Versioned} from "./refcount.ts";
import {FEATURE_NAME_MAX, FEATURE_TEXT_MAX} from "./schemas.ts";
import {driversOf, type DriversReply, type DriversRequest} from "./shap-worker.ts";

export const DRIVERS_PER_PREDICTION = 5;

export type FeatureValue = number | string | boolean | null;

export interface Prediction {
  churn_probability: number;
  raw_score: number;
  risk_tier: RiskTier;
  top_drivers: {
    feature: string;
    /** the feature in words and its value as a CSM says it (src/rules/labels.ts) */
    label: string;
    description: string;
    value: FeatureValue;
    contribution: number;
    direction: "raises_risk" | "lowers_risk";
  }[];
  /** numeric values outside what the model was trained on: scored, but less reliable */
  out_of_training_range: {feature: string; value: number; min: number; max: number}[];
}

/** Top drivers of one row: indices into the model's features (-1 = none) and contributions. */
type RowDrivers = {index: Int32Array; contribution: Float64Array};

const WORKER_START_TIMEOUT_MS = 30_000;

/**
 * TreeSHAP drivers of single rows: rows queued in the same tick are explained together (one
 * `explainBatch`), in a worker thread (shap-worker.ts) so that the event loop keeps serving
 * requests meanwhile. If the worker cannot start or dies, batches are explained in-process with
 * the same explainer code, so a request never fails for that.
 */
class DriversBatcher {
  private queue: {row: Float32Array; resolve: (v: RowDrivers) => void; reject: (e: unknown) => void}[] = [];
  private scheduled = false;
  private worker: Worker | null = null;
  private pending = new Map<number, {rows: Float32Array; batch: DriversBatcher["queue"]}>();
  private nextId = 0;
  private readonly F: number;
  private readonly names: string[];

  constructor(
    private readonly model: LoadedModel,
    private readonly k: number,
    private readonly maxRows = 1024,
  ) {
    this.F = model.features.length;
    this.names = model.features.map((f) => f.name);
  }

  /** Starts the worker; resolves once it is ready (or has failed: then batches run in-process). */
  async start(log?: Logger): Promise<void> {
    if (!this.model.gbt || !this.model.explainer) return;
    // the worker loads TypeScript modules: register tsx's loader in it first (hooks are per thread)
    const entry = new URL("./shap-worker.ts", import.meta.url).href;
    const w = new Worker(
      `import("tsx/esm/api").then(({register}) => { register(); return import(${JSON.stringify(entry)}); })`,
      {
        eval: true,
        workerData: {gbt: this.model.gbt, features: this.model.features, k: this.k},
      },
    );
    w.unref(); // keeps the process alive only while it has batches to answer (see flush/settle)
    let ready: () => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    const onExit = (code: number) => failed(new Error(`exited with code ${code}`));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`not ready within ${WORKER_START_TIMEOUT_MS / 1000} s`)),
          WORKER_START_TIMEOUT_MS,
        );
        ready = () => (clearTimeout(t), resolve());
        failed = (e) => (clearTimeout(t), reject(e));
        w.once("message", ready).once("error", failed).once("exit", onExit);
      });
    } catch (e) {
      void w.terminate();
      log?.warn("TreeSHAP worker did not start; drivers are computed on the event loop", {error: (e as Error).message});
      return;
    } finally {
      // only these: Worker keeps internal listeners of its own
      w.off("message", ready).off("error", failed).off("exit", onExit);
    }
    w.on("message", (m: DriversReply) => this.settle(m));
    const lost = (why: string) => {
      if (this.worker !== w) return;
      this.worker = null;
      log?.warn("TreeSHAP worker stopped; drivers are computed on the event loop", {reason: why});
      // what the worker had not answered yet is explained here instead
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        this.runInProcess(p.rows, p.batch);
      }
    };
    w.on("error", (e) => lost(e.message));
    w.on("exit", (code) => lost(`exit code ${code}`));
    this.worker = w;
  }

  explain(row: Float32Array): Promise<RowDrivers | null> {
    if (!this.model.explainer) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.queue.push({row, resolve, reject});
      if (this.queue.length >= this.maxRows) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    const F = this.F;
    const rows = new Float32Array(batch.length * F);
    batch.forEach((b, i) => rows.set(b.row, i * F));
    if (!this.worker) return this.runInProcess(rows, batch);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(id, {rows, batch});
    this.worker.postMessage({id, n: batch.length, rows} satisfies DriversRequest);
  }

  private settle(m: DriversReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ("error" in m) p.batch.forEach((b) => b.reject(new Error(`TreeSHAP: ${m.error}`)));
    else this.resolveBatch(p.batch, m);
  }

  private runInProcess(rows: Float32Array, batch: DriversBatcher["queue"]): void {
    try {
      const n = batch.length;
      const F = this.F;
      const columns = Array.from({length: F}, () => new Float32Array(n));
      for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) columns[j]![i] = rows[i * F + j]!;
      const {shap} = this.model.explainer!.explainBatch({nRows: n, features: this.model.features, columns});
      this.resolveBatch(batch, driversOf(shap, n, this.names, this.k));
    } catch (e) {
      batch.forEach((b) => b.reject(e));
    }
  }

  private resolveBatch(batch: DriversBatcher["queue"], d: RowDrivers): void {
    const k = this.k;
    batch.forEach((b, i) =>
      b.resolve({
        index: d.index.subarray(i * k, (i + 1) * k),
        contribution: d.contribution.subarray(i * k, (i + 1) * k),
      }),
    );
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }
}

/** A request value more than this many times the largest magnitude trained on is refused as implausible. */
export const PLAUSIBLE_FACTOR = 1000;

const num = (x: number) => x.toLocaleString("en-US", {maximumFractionDigits: 4});

/**
 * Why a value cannot be an input of a numeric feature, or null when it can: the one rule behind
 * both the zod route's messages and the fast path's check. The model card records what each
 * feature was trained on (FeatureRange); a count cannot be negative, fractional or `true`, and
 * `arr: 1e308` is an error on the caller's side, not an account. Cards without ranges (models
 * trained before they were recorded) get the type check only.
 */
export function impossibleValue(f: FeatureMeta, v: number | boolean): string | null {
  const r = f.range;
  if (typeof v === "boolean")
    return r && !r.binary
      ? `must be a number: ${f.name} is not a yes/no flag (trained on ${num(r.min)} to ${num(r.max)})`
      : null;
  if (!Number.isFinite(v)) return "must be a finite number";
  if (!r) return null;
  if (r.min >= 0 && v < 0) return `must be ≥ 0 (trained on ${num(r.min)} to ${num(r.max)})`;
  if (r.integer && !Number.isInteger(v))
    return `must be a whole number (trained on whole numbers ${num(r.min)} to ${num(r.max)})`;
  if (Math.abs(v) > PLAUSIBLE_FACTOR * Math.max(Math.abs(r.min), Math.abs(r.max), 1))
    return `is implausible: more than ${PLAUSIBLE_FACTOR}× any value the model was trained on (${num(r.min)} to ${num(r.max)})`;
  return null;
}

/** zod schema of one feature object for this model: every card feature, nothing else. */
function featureSchema(features: readonly FeatureMeta[]) {
  const shape: Record<string, z.ZodType> = {};
  for (const f of features) {
    shape[f.name] =
      f.kind === "categorical"
        ? z
            .enum(f.categories! as [string, ...string[]], {
              message: `must be one of ${f.categories!.map((c) => JSON.stringify(c)).join(", ")} (or null when unknown)`,
            })
            .nullable()
        : z
            .union([z.number(), z.boolean()], {message: "must be a number (or a boolean, or null when missing)"})
            .nullable()
            .superRefine((v, ctx) => {
              const why = v === null ? null : impossibleValue(f, v);
              if (why) ctx.addIssue({code: "custom", message: why});
            });
  }
  return z.strictObject(shape, {
    message: "must be an object of feature values keyed by the model card's feature names",
  });
}

export class ServedModel {
  readonly featureNames: string[];
  readonly schema: z.ZodType<Record<string, FeatureValue>>;
  private batcher;
  private drivers: DriversBatcher;
  /** feature name → allowed categories (categorical) or the feature (numeric), for `isValidFeatures` */
  private readonly allowed: Map<string, Set<string> | FeatureMeta> | null;
  constructor(
    readonly model: LoadedModel,
    readonly identity: string,
  ) {
    this.featureNames = model.features.map((f) => f.name);
    this.schema = featureSchema(model.features) as unknown as z.ZodType<Record<string, FeatureValue>>;
    this.batcher = createBatcher(model.scorer, model.features.length);
    this.drivers = new DriversBatcher(model, DRIVERS_PER_PREDICTION);
    const checkable = model.features.every(
      (f) => f.name.length <= FEATURE_NAME_MAX && (f.categories ?? []).every((c) => c.length <= FEATURE_TEXT_MAX),
    );
    this.allowed = checkable
      ? new Map<string, Set<string> | FeatureMeta>(
          model.features.map((f) => [f.name, f.kind === "categorical" ? new Set(f.categories) : f]),
        )
      : null;
  }

  /**
   * True only if `x` passes both the generic request schema and this model's feature schema
   * (`schema`) — a plain object with every feature, no other key, each value null, a known
   * category, or a number or boolean `impossibleValue` accepts. Hand-written because it runs on every prediction
   * request and the two zod passes cost more than scoring the row; false means "not proven",
   * and the caller then validates with zod, which writes the error messages.
   */
  isValidFeatures(x: unknown): x is Record<string, FeatureValue> {
    const allowed = this.allowed;
    if (!allowed || typeof x !== "object" || x === null || Object.getPrototypeOf(x) !== Object.prototype) return false;
    let n = 0;
    for (const k in x) {
      if (!Object.hasOwn(x, k)) return false;
      n++;
      const cats = allowed.get(k);
      if (cats === undefined) return false; // unknown feature (a Map, so "__proto__" and the like are unknown too)
      const v = (x as Record<string, unknown>)[k];
      if (v === null) continue;
      if (cats instanceof Set) {
        if (typeof v !== "string" || !cats.has(v)) return false;
      } else if ((typeof v !== "boolean" && typeof v !== "number") || impossibleValue(cats, v) !== null) return false;
    }
    return n === allowed.size; // keys are distinct and all known: every feature is there
  }

  get version(): string {
    return this.model.card.version;
  }

  encode(values: Record<string, FeatureValue>): Float32Array {
    const row = new Float32Array(this.model.features.length);
    this.model.features.forEach((f, j) => (row[j] = encodeValue(f, values[f.name], `features.${f.name}`)));
    return row;
  }

  /** Starts the TreeSHAP worker; call before serving (ModelStore does). */
  start(log?: Logger): Promise<void> {
    return this.drivers.start(log);
  }

  /**
   * Scores `rows` made-up accounts (values spread over each feature's trained range and
   * categories) in concurrent waves, as a burst of requests would. A fresh model's first
   * predictions run the ONNX WebAssembly, the TreeSHAP worker and the code around them before V8
   * has optimised any of it: several times slower than later ones, which an outside client
   * measuring right after a start or a model reload sees as its tail latency. ModelStore runs
   * this before the model serves (and before /ready says so).
   */
  async warmUp(rows = 1024, wave = 64): Promise<void> {
    const sample = this.sampleRows(rows);
    for (let i = 0; i < rows; i += wave) await Promise.all(sample.slice(i, i + wave).map((r) => this.predict(r)));
  }

  /** `n` made-up feature rows every check accepts: values spread over each feature's trained range and categories. */
  sampleRows(n: number): Record<string, FeatureValue>[] {
    const features = this.model.features;
    const row = (i: number): Record<string, FeatureValue> => {
      const out: Record<string, FeatureValue> = {};
      features.forEach((f, j) => {
        // a low-discrepancy walk over [0, 1) per feature, so rows follow different tree paths
        const u = ((((i + 1) * 0.6180339887 + j * 0.7548776662) % 1) + 1) % 1;
        if (f.kind === "categorical") out[f.name] = f.categories![Math.floor(u * f.categories!.length)] ?? null;
        else if (!f.range) out[f.name] = u;
        else {
          const x = f.range.min + u * (f.range.max - f.range.min);
          out[f.name] = f.range.integer ? Math.round(x) : x;
        }
      });
      return out;
    };
    return Array.from({length: n}, (_, i) => row(i));
  }

  async predict(values: Record<string, FeatureValue>): Promise<Prediction> {
    const row = this.encode(values);
    const [score, drivers] = await Promise.all([this.batcher.scoreOne(row), this.drivers.explain(row)]);
    const p = score.probability;
    const top: Prediction["top_drivers"] = [];
    if (drivers)
      for (let r = 0; r < drivers.index.length && drivers.index[r]! >= 0; r++) {
        const feature = this.featureNames[drivers.index[r]!]!;
        const contribution = drivers.contribution[r]!;
        const value = values[feature] ?? null;
        top.push({
          feature,
          ...featureWords(feature, value),
          value,
          contribution,
          direction: contribution > 0 ? "raises_risk" : "lowers_risk",
        });
      }
    // plausible but unseen values are scored (a tree treats them as the nearest value it saw) and flagged
    const outside: Prediction["out_of_training_range"] = [];
    for (const f of this.model.features) {
      const v = values[f.name];
      if (f.range && typeof v === "number" && (v < f.range.min || v > f.range.max))
        outside.push({feature: f.name, value: v, min: f.range.min, max: f.range.max});
    }
    return {
      churn_probability: p,
      raw_score: score.raw,
      risk_tier: tierOfProbability(p),
      top_drivers: top,
      out_of_training_range: outside,
    };
  }

  async release(): Promise<void> {
    await this.drivers.close();
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
    () =>
      unavailable(
        `no churn model is loaded from ${this.dir}${this.lastError ? `: ${this.lastError}` : ""} — run \`npm run train\` or \`npm run build\``,
      ),
  );
  private failed: string | null = null;

  constructor(
    dir: string,
    private readonly log: Logger,
    private readonly metrics: ApiMetrics,
    /** made-up predictions each new model runs before it serves (ServedModel.warmUp); 0 = none */
    private readonly warmUpRows = 1024,
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
      await served.start(this.log); // before it serves: no request waits for the worker to boot
      if (this.warmUpRows > 0) await served.warmUp(this.warmUpRows); // nor pays for the first, unoptimised runs
      this.versions.swap(served);
      this.lastError = null;
      if (cur) this.metrics.reloads.inc({kind: "model", outcome: "ok"});
      this.log.info(cur ? "model reloaded" : "model loaded", {
        dir: this.dir,
        version: served.version,
        previous_version: cur?.version ?? null,
        drivers: served.model.explainer ? "treeshap" : "none",
      });
    } catch (e) {
      this.lastError = (e as Error).message;
      this.failed = id; // not retried until the card changes again
      this.metrics.reloads.inc({kind: "model", outcome: "error"});
      this.log.warn("model not (re)loaded; still serving the previous one", {
        dir: this.dir,
        error: this.lastError.split("\n")[0],
      });
    }
  }

  watch(pollMs: number): void {
    this.poll(pollMs);
  }
}
