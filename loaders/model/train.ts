/**
 * Training: point-in-time snapshots → gradient-boosted trees → Platt calibration → metrics →
 * ONNX + model card + tree structure (for exact TreeSHAP drivers).
 *
 * Churn and expansion models (`trainChurnModel`, `trainExpansionModel`): one snapshot per monthly
 * cutoff whose 90-day labels have matured, built by the SAME SQL macro that scores tonight
 * (marts.int_customer_features_as_of); labels = churned, and expanded (marts.int_expansions_between),
 * within 90 days after the cutoff. The split is by time — train on the earliest cutoffs,
 * early-stop and calibrate on later ones, test on the latest — with a 90-day gap before the test
 * cutoffs so no label the model or its calibration saw overlaps the test period.
 *
 * A user's own table (`trainOnTable`): a deterministic random 60/20/20 split.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {config} from "../../src/rules/config.ts";
import {all, lit, one, run} from "../duckdb.ts";
import {fitPlatt, calibrate, type Calibration} from "./calibration.ts";
import {parseModelCard, sha256, type ExpansionArrShare, type ModelCard} from "./card.ts";
import {featureRanges, subsetRows, type Dataset, type FeatureMeta} from "./dataset.ts";
import {fitGbt, modelToJSON, predictRaw, type GbtModel, type GbtParams} from "./gbt.ts";
import {fitLogistic, predictLogisticRaw} from "./logistic.ts";
import {calibrationCurve, expectedCalibrationError, rocAuc, summarize, type MetricSummary} from "./evaluation.ts";
import {exportOnnx, ONNX_INPUT, ONNX_OUTPUTS} from "./onnx.ts";
import {modelFiles, type ModelKind} from "./registry.ts";
import {makeRng} from "./rng.ts";
import {detectFeatures, readDataset, toCardFeatures} from "./table.ts";
import {createExplainer} from "./treeshap.ts";

/**
 * Hyperparameters of the shipped churn model. Sized so scoring + exact TreeSHAP for 100,000
 * accounts stays within the 10 s budget (cost grows with trees × leaves).
 */
export const CHURN_GBT_PARAMS: Partial<GbtParams> = {
  nEstimators: 160,
  learningRate: 0.1,
  maxDepth: 5,
  maxLeaves: 15,
  minSamplesLeaf: 40,
  lambda: 2,
  subsample: 0.8,
  colsample: 0.8,
  earlyStoppingRounds: 25,
};

export const LABEL_COLUMN = "churned_90d";
/** The expansion model's label, and the ARR the expansion added (for its expected value). */
export const EXPANSION_LABEL = "expanded_90d";
export const EXPANSION_ARR = "expansion_arr_90d";
/** Columns of the training snapshots that are identifiers, owners or outcomes, not signals. */
export const NON_FEATURE_COLUMNS = [
  "customer_id",
  "as_of_date",
  "csm_owner",
  LABEL_COLUMN,
  EXPANSION_LABEL,
  EXPANSION_ARR,
] as const;
export const MIN_CUTOFFS = 6;

export interface TrainedModel {
  gbt: GbtModel;
  calibration: Calibration;
  onnx: Uint8Array;
  card: ModelCard;
  treesJson: string;
  /** test-set probabilities, for the back-test table */
  test: {probability: Float64Array; labels: Float64Array};
}

/**
 * Calibration drift: mean |predicted − observed| churn over equal-mass score bins — deciles
 * when there are ≥ 5,000 rows; fewer, larger bins on small sets, so sampling noise in a bin of
 * a few dozen rows is not mistaken for drift.
 */
export function decileDrift(y: ArrayLike<number>, p: ArrayLike<number>): number {
  return expectedCalibrationError(y, p, driftBins(y.length), "equal-mass");
}
export function driftBins(n: number): number {
  return Math.max(2, Math.min(10, Math.floor(n / 500)));
}

function calibrationParams(c: Calibration): Record<string, number | number[]> {
  return c.method === "platt" ? {a: c.a, b: c.b} : c.method === "isotonic" ? {x: c.x, y: c.y} : {};
}

export function labelsOf(values: unknown[], column: string, source: string): Float64Array {
  const y = new Float64Array(values.length);
  values.forEach((v, i) => {
    const n =
      v === true
        ? 1
        : v === false
          ? 0
          : typeof v === "number"
            ? v
            : typeof v === "string" && /^(0|1|true|false)$/i.test(v)
              ? /^(1|true)$/i.test(v)
                ? 1
                : 0
              : NaN;
    if (n !== 0 && n !== 1)
      throw new Error(
        `${source}: label column "${column}" row ${i + 1} is ${JSON.stringify(v)}; labels must be 0/1 or true/false`,
      );
    y[i] = n;
  });
  return y;
}

interface Split {
  train: Dataset;
  yTrain: Float64Array;
  valid: Dataset;
  yValid: Float64Array;
  test: Dataset;
  yTest: Float64Array;
}

/** Fits trees + baseline, calibrates on validation, measures on test, exports ONNX and the card. */
export function fitAndPackage(
  split: Split,
  opts: {
    seed: number;
    params?: Partial<GbtParams>;
    truthAuc: number | null;
    fingerprint: string;
    training: NonNullable<ModelCard["training"]>;
    log: (m: string) => void;
    /** what the model predicts (default churn): names its tree file */
    kind?: ModelKind;
    /** the probability below which a positive counts as "scored low" (default: the Medium model tier's floor) */
    lowBand?: number;
    /** fields of the card only this kind of model has */
    cardExtra?: Partial<ModelCard>;
  },
): TrainedModel {
  const params = {...CHURN_GBT_PARAMS, ...opts.params, seed: opts.seed};
  let t0 = performance.now();
  const gbt = fitGbt(split.train, split.yTrain, params, {data: split.valid, y: split.yValid});
  opts.log(
    `trees: ${gbt.trees.length} (best round ${gbt.bestIteration + 1}) on ${split.train.nRows.toLocaleString("en-US")} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const calibration = fitPlatt(predictRaw(gbt, split.valid), split.yValid);
  const testProb = calibrate(calibration, predictRaw(gbt, split.test));
  const lowBand = opts.lowBand ?? config.modelTiers.find((t) => t.tier === "Medium")!.minProbability;
  const metrics = summarize(split.yTest, testProb, lowBand);

  t0 = performance.now();
  const lr = fitLogistic(split.train, split.yTrain, {l2: 1});
  const lrCal = fitPlatt(predictLogisticRaw(lr, split.valid), split.yValid);
  const baseline: MetricSummary = summarize(split.yTest, calibrate(lrCal, predictLogisticRaw(lr, split.test)), lowBand);
  opts.log(
    `baseline logistic regression in ${((performance.now() - t0) / 1000).toFixed(1)} s: test AUC ${baseline.roc_auc.toFixed(3)} vs trees ${metrics.roc_auc.toFixed(3)}`,
  );

  const treesJson = modelToJSON(gbt);
  const version = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const onnx = exportOnnx(gbt, calibration, {
    metadata: {version, feature_names: gbt.features.map((f) => f.name).join(",")},
  });
  const explainer = createExplainer(gbt);
  const card = parseModelCard(
    {
      version,
      trained_at: new Date().toISOString(),
      data_fingerprint: opts.fingerprint,
      features: toCardFeatures(gbt.features, featureRanges([split.train, split.valid, split.test])),
      hyperparameters: {...params, trees: gbt.trees.length},
      metrics,
      calibration: {
        method: calibration.method,
        params: calibrationParams(calibration),
        curve: calibrationCurve(split.yTest, testProb),
        decile_drift: decileDrift(split.yTest, testProb),
      },
      baseline: {model: "logistic regression (L2, Platt-calibrated)", metrics: baseline},
      truth_auc: opts.truthAuc,
      training: opts.training,
      explainer: {
        kind: "treeshap",
        file: modelFiles(opts.kind ?? "churn").trees,
        sha256: sha256(treesJson),
        expected_value: explainer.expectedValue,
      },
      ...opts.cardExtra,
      onnx_sha256: sha256(onnx),
      onnx: {
        input: {name: ONNX_INPUT, shape: ["N", gbt.features.length]},
        outputs: ONNX_OUTPUTS.map((name) => ({name, shape: ["N", 1]})),
      },
    },
    "trained model card",
  );
  return {gbt, calibration, onnx, card, treesJson, test: {probability: testProb, labels: split.yTest}};
}

/** Month starts whose 90-day label window has closed by `asOf`, after 90 days of history. */
export async function maturedCutoffs(conn: DuckDBConnection, asOf: string): Promise<string[]> {
  const horizon = config.dataQuality.churnHorizonDays;
  const rows = await all<{c: string}>(
    conn,
    `WITH bounds AS (SELECT min(event_date) + ${horizon} AS first_ok FROM raw.usage_events)
     SELECT CAST(c AS DATE)::VARCHAR AS c FROM bounds, range(date_trunc('month', first_ok + 31), DATE ${lit(asOf)} - ${horizon} + 1, INTERVAL 1 MONTH) t(c)
     ORDER BY c`,
  );
  return rows.map((r) => r.c);
}

/** Splits matured cutoffs: last 3 test; a 90-day gap; 3 validation; the rest train. */
export function splitCutoffs(cutoffs: string[]): {train: string[]; valid: string[]; test: string[]} {
  if (cutoffs.length < MIN_CUTOFFS)
    throw new Error(
      `not enough history to train: ${cutoffs.length} monthly cutoff(s) with a matured 90-day label, at least ${MIN_CUTOFFS} needed (about ${MIN_CUTOFFS + 6} months of usage data)`,
    );
  const nTest = cutoffs.length >= 12 ? 3 : 1;
  const nValid = cutoffs.length >= 12 ? 3 : 1;
  const gap = Math.ceil(config.dataQuality.churnHorizonDays / 30);
  const test = cutoffs.slice(-nTest);
  const validEnd = cutoffs.length - nTest - gap;
  const valid = cutoffs.slice(Math.max(validEnd - nValid, 1), validEnd);
  const train = cutoffs.slice(0, Math.max(validEnd - nValid, 1));
  if (!valid.length || !train.length)
    throw new Error(
      `not enough cutoffs (${cutoffs.length}) for a train / validation / test split with a ${gap}-month gap`,
    );
  return {train, valid, test};
}

/**
 * Builds marts.model_training_snapshots: features at each cutoff plus the outcomes of the 90 days
 * after it — churned, expanded and the ARR the expansion added — which no model reads as features.
 */
export async function buildTrainingSnapshots(conn: DuckDBConnection, cutoffs: readonly string[]): Promise<number> {
  const horizon = config.dataQuality.churnHorizonDays;
  await run(conn, "DROP TABLE IF EXISTS marts.model_training_snapshots");
  for (const [i, c] of cutoffs.entries()) {
    const body = `SELECT f.*, coalesce(ch.churn_date <= f.as_of_date + ${horizon}, false) AS ${LABEL_COLUMN},
        x.customer_id IS NOT NULL AS ${EXPANSION_LABEL}, coalesce(x.expansion_arr, 0) AS ${EXPANSION_ARR}
      FROM marts.int_customer_features_as_of(DATE ${lit(c)}) f LEFT JOIN raw.churn_events ch USING (customer_id)
      LEFT JOIN marts.int_expansions_between(DATE ${lit(c)}, DATE ${lit(c)} + ${horizon}) x USING (customer_id)`;
    await run(
      conn,
      i === 0
        ? `CREATE TABLE marts.model_training_snapshots AS ${body}`
        : `INSERT INTO marts.model_training_snapshots ${body}`,
    );
  }
  return (await one<{n: number}>(conn, "SELECT count(*) AS n FROM marts.model_training_snapshots")).n;
}

async function fingerprintOf(conn: DuckDBConnection, relation: string, cols: string[]): Promise<string> {
  const r = await one<{n: number; h: string}>(
    conn,
    `SELECT count(*) AS n, CAST(bit_xor(hash(${cols.join(", ")})) AS VARCHAR) AS h FROM ${relation}`,
  );
  return sha256(`${r.n}:${r.h}`).slice(0, 16);
}

export interface WarehouseTrainOptions {
  asOf: string;
  seed?: number;
  log?: (m: string) => void;
}

/** Trains the churn model on the warehouse's raw tables; writes the snapshot table. */
export function trainChurnModel(conn: DuckDBConnection, opts: WarehouseTrainOptions): Promise<TrainedModel> {
  return trainPointInTime(conn, "churn", opts);
}

/** Trains the expansion model on the warehouse's raw tables; writes the snapshot table. */
export function trainExpansionModel(conn: DuckDBConnection, opts: WarehouseTrainOptions): Promise<TrainedModel> {
  return trainPointInTime(conn, "expansion", opts);
}

/**
 * The expansion model's expected ARR: P(expansion) × the ARR an expansion adds, as a share of the
 * account's ARR, by plan tier, over the training and validation cutoffs' expansions (a two-part
 * estimate: the trees say whether, the history says how much). The share is ARR-weighted (the
 * ARR the expansions added over the ARR they started from), so a portfolio's total comes out
 * right: the mean of each expansion's own share is twice as high, pulled up by small accounts
 * that upgrade to a plan's minimum (measured on the default data's test cutoffs). A tier with
 * fewer than EXPANSION_SHARE_MIN_ROWS expansions takes the portfolio's share.
 */
export const EXPANSION_SHARE_MIN_ROWS = 20;

async function expansionShares(conn: DuckDBConnection, cutoffs: string[]): Promise<ExpansionArrShare> {
  const where = `${EXPANSION_LABEL} AND arr > 0 AND as_of_date IN (${cutoffs.map((c) => `DATE ${lit(c)}`).join(", ")})`;
  const overall = await one<{s: number | null}>(
    conn,
    `SELECT sum(${EXPANSION_ARR}) / sum(arr) AS s FROM marts.model_training_snapshots WHERE ${where}`,
  );
  const rows = await all<{tier: string; s: number; n: number}>(
    conn,
    `SELECT plan_tier AS tier, sum(${EXPANSION_ARR}) / sum(arr) AS s, count(*)::INTEGER AS n
     FROM marts.model_training_snapshots WHERE ${where} AND plan_tier IS NOT NULL GROUP BY ALL ORDER BY ALL`,
  );
  const overallShare = overall.s ?? 0;
  return {
    overall: overallShare,
    by_plan_tier: Object.fromEntries(rows.map((r) => [r.tier, r.n >= EXPANSION_SHARE_MIN_ROWS ? r.s : overallShare])),
  };
}

/** The churn or expansion model, trained point in time on the warehouse. */
async function trainPointInTime(
  conn: DuckDBConnection,
  kind: "churn" | "expansion",
  opts: WarehouseTrainOptions,
): Promise<TrainedModel> {
  const log = opts.log ?? (() => {});
  const labelColumn = kind === "churn" ? LABEL_COLUMN : EXPANSION_LABEL;
  const cutoffs = splitCutoffs(await maturedCutoffs(conn, opts.asOf));
  const all_ = [...cutoffs.train, ...cutoffs.valid, ...cutoffs.test];
  const rows = await buildTrainingSnapshots(conn, all_);
  log(
    `snapshots: ${rows.toLocaleString("en-US")} rows at ${all_.length} monthly cutoffs (train ${cutoffs.train[0]}…${cutoffs.train.at(-1)}, validate ${cutoffs.valid.join(", ")}, test ${cutoffs.test.join(", ")})`,
  );
  // a feature this installation has no data for (no NPS survey, no CSAT) is left out, and told
  const features = await detectFeatures(
    conn,
    "marts.model_training_snapshots",
    NON_FEATURE_COLUMNS,
    "marts.model_training_snapshots",
    (name) => log(`left out: feature "${name}" has no value in this data`),
  );
  const part = async (cs: string[]) => {
    const rel = `(SELECT * FROM marts.model_training_snapshots WHERE as_of_date IN (${cs.map((c) => `DATE ${lit(c)}`).join(", ")}) ORDER BY as_of_date, customer_id)`;
    const r = await readDataset(conn, rel, features, [labelColumn, "customer_id", "as_of_date"]);
    return {
      data: r.data,
      y: labelsOf(r.extra[labelColumn]!, labelColumn, "marts.model_training_snapshots"),
      ids: r.extra.customer_id as string[],
      dates: r.extra.as_of_date as unknown[],
    };
  };
  const [train, valid, test] = [await part(cutoffs.train), await part(cutoffs.valid), await part(cutoffs.test)];

  // The generator's true probabilities (synthetic data only) give the best AUC reachable on the
  // same test rows. Read here, for the card only — never by features or the model.
  let truthAuc: number | null = null;
  const hasTruth =
    kind === "churn" &&
    (
      await one<{n: number}>(
        conn,
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'truth' AND table_name = 'churn_probability'",
      )
    ).n > 0;
  if (hasTruth) {
    const truth = await all<{p: number | null}>(
      conn,
      `SELECT t.p_churn_90d AS p FROM (SELECT customer_id, as_of_date FROM marts.model_training_snapshots WHERE as_of_date IN (${cutoffs.test.map((c) => `DATE ${lit(c)}`).join(", ")})) s
       LEFT JOIN truth.churn_probability t ON t.customer_id = s.customer_id AND t.cutoff_date = s.as_of_date ORDER BY s.as_of_date, s.customer_id`,
    );
    // accounts that signed up on the cutoff day itself have no truth row: compare on the rest
    const keep = truth.flatMap((t, i) => (t.p === null ? [] : [i]));
    truthAuc = rocAuc(
      keep.map((i) => test.y[i]!),
      keep.map((i) => truth[i]!.p!),
    );
    if (keep.length < truth.length)
      log(`truth AUC on ${keep.length} of ${truth.length} test rows (the rest have no generator probability)`);
  }
  const fingerprint = await fingerprintOf(conn, "marts.model_training_snapshots", [
    "customer_id",
    "as_of_date",
    labelColumn,
  ]);
  const positives = [train.y, valid.y, test.y].reduce((s, y) => s + y.reduce((a, b) => a + b, 0), 0);
  return fitAndPackage(
    {train: train.data, yTrain: train.y, valid: valid.data, yValid: valid.y, test: test.data, yTest: test.y},
    {
      seed: opts.seed ?? 42,
      truthAuc,
      fingerprint,
      log,
      kind,
      // an expansion the model scores below the quadrant's low band is one it missed
      lowBand: kind === "churn" ? undefined : config.quadrant.lowExpansion,
      cardExtra:
        kind === "expansion"
          ? {expansion_arr_share: await expansionShares(conn, [...cutoffs.train, ...cutoffs.valid])}
          : undefined,
      training: {
        source: "warehouse",
        label:
          kind === "churn"
            ? `churned within ${config.dataQuality.churnHorizonDays} days after the cutoff`
            : `expanded (a won expansion opportunity or an upgrade) within ${config.dataQuality.churnHorizonDays} days after the cutoff`,
        rows: {train: train.data.nRows, valid: valid.data.nRows, test: test.data.nRows},
        positive_rate: positives / rows,
        cutoffs,
      },
    },
  );
}

/** Trains on a user's customer-level table already loaded as `relation`. */
export async function trainOnTable(
  conn: DuckDBConnection,
  relation: string,
  opts: {
    idColumn: string;
    labelColumn: string;
    exclude?: string[];
    seed?: number;
    source: string;
    log?: (m: string) => void;
  },
): Promise<TrainedModel> {
  const log = opts.log ?? (() => {});
  const cols = (
    await all<{column_name: string}>(conn, `SELECT column_name FROM (DESCRIBE SELECT * FROM ${relation})`)
  ).map((c) => c.column_name);
  for (const c of [opts.idColumn, opts.labelColumn])
    if (!cols.includes(c)) throw new Error(`${opts.source}: no column "${c}" (columns: ${cols.join(", ")})`);
  const dup = await one<{n: number}>(
    conn,
    `SELECT count(*) - count(DISTINCT "${opts.idColumn}") AS n FROM ${relation}`,
  );
  if (dup.n > 0)
    throw new Error(
      `${opts.source}: id column "${opts.idColumn}" has ${dup.n} duplicate value(s); one row per customer is expected`,
    );
  const features: FeatureMeta[] = await detectFeatures(
    conn,
    relation,
    [opts.idColumn, opts.labelColumn, ...(opts.exclude ?? [])],
    opts.source,
  );
  const {data, extra} = await readDataset(conn, `(SELECT * FROM ${relation} ORDER BY "${opts.idColumn}")`, features, [
    opts.labelColumn,
  ]);
  const y = labelsOf(extra[opts.labelColumn]!, opts.labelColumn, opts.source);
  const positives = y.reduce((a, b) => a + b, 0);
  if (data.nRows < 50 || positives < 5 || data.nRows - positives < 5)
    throw new Error(
      `${opts.source}: ${data.nRows} rows with ${positives} positive label(s) is too little to train and evaluate (need ≥ 50 rows and ≥ 5 of each class)`,
    );
  // deterministic shuffle, then 60 / 20 / 20
  const idx = Array.from({length: data.nRows}, (_, i) => i);
  const rng = makeRng(opts.seed ?? 42);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const a = Math.floor(idx.length * 0.6);
  const b = Math.floor(idx.length * 0.8);
  const pick = (ix: number[]) => ({data: subsetRows(data, ix), y: Float64Array.from(ix, (i) => y[i]!)});
  const [tr, va, te] = [pick(idx.slice(0, a)), pick(idx.slice(a, b)), pick(idx.slice(b))];
  log(
    `table: ${data.nRows} rows, ${features.length} features (${features.filter((f) => f.kind === "categorical").length} categorical), ${positives} positives`,
  );
  return fitAndPackage(
    {train: tr.data, yTrain: tr.y, valid: va.data, yValid: va.y, test: te.data, yTest: te.y},
    {
      seed: opts.seed ?? 42,
      truthAuc: null,
      fingerprint: await fingerprintOf(conn, relation, [`"${opts.idColumn}"`, `"${opts.labelColumn}"`]),
      log,
      training: {
        source: "table",
        label: opts.labelColumn,
        rows: {train: tr.data.nRows, valid: va.data.nRows, test: te.data.nRows},
        positive_rate: positives / data.nRows,
        cutoffs: null,
      },
    },
  );
}
