/**
 * Build-time scoring with the churn model: calibrated P(churn in 90 days) from the ONNX model
 * run by onnxruntime-web (the same runtime as the server and the browser), exact TreeSHAP
 * drivers from the tree structure, the score history, the back-test at the card's test
 * cutoffs and the drift of the current model on the latest matured cohort.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {config, RISK_TIERS} from "../src/rules/config.ts";
import type {Dataset} from "./model/dataset.ts";
import {toRowMajor} from "./model/dataset.ts";
import {hasModel, loadModel, saveModel, type LoadedModel} from "./model/registry.ts";
import {readDataset} from "./model/table.ts";
import {decileDrift, driftBins, maturedCutoffs, trainChurnModel} from "./model/train.ts";
import {calibrationCurve} from "./model/evaluation.ts";
import {all, lit, one, run, writeTable} from "./duckdb.ts";
import type {MartChecks} from "./quality.ts";

/** How many drivers per account are stored (the pages show the top few). */
export const DRIVERS_PER_ACCOUNT = 5;
/** Monthly points of the per-account score history (plus tonight). */
export const HISTORY_MONTHS = 6;

/** Loads the model in `dir`; when there is none, trains the embedded default first. */
export async function ensureModel(
  conn: DuckDBConnection,
  opts: {dir: string; asOf: string; log: (m: string) => void},
): Promise<LoadedModel> {
  if (!hasModel(opts.dir)) {
    opts.log(`no model in ${opts.dir}/: training the default churn model on this data`);
    saveModel(opts.dir, await trainChurnModel(conn, {asOf: opts.asOf, log: opts.log}));
  }
  return loadModel(opts.dir);
}

export interface Scored {
  ids: string[];
  data: Dataset;
  probability: Float32Array;
  raw: Float32Array;
  /** row-major [n × F] TreeSHAP values in log-odds, or null for a model without trees */
  shap: Float64Array | null;
  extra: Record<string, unknown[]>;
}

/**
 * Scores every row of `relation` (which must hold the card's features and customer_id).
 * TreeSHAP drivers are computed unless `explain` is false: the history, back-test and drift
 * cohorts need only probabilities, and SHAP costs more than the model itself.
 */
export async function scoreRelation(
  conn: DuckDBConnection,
  model: LoadedModel,
  relation: string,
  extra: string[] = [],
  explain = true,
): Promise<Scored> {
  const cols = new Set(
    (await all<{column_name: string}>(conn, `SELECT column_name FROM (DESCRIBE SELECT * FROM ${relation})`)).map(
      (c) => c.column_name,
    ),
  );
  const missing = model.features.filter((f) => !cols.has(f.name)).map((f) => f.name);
  if (missing.length)
    throw new Error(
      `the model in ${model.dir}/ needs feature(s) the warehouse does not have: ${missing.join(", ")} — retrain with \`npm run train\``,
    );
  const {data, extra: ex} = await readDataset(
    conn,
    `(SELECT * FROM ${relation} ORDER BY customer_id)`,
    model.features,
    ["customer_id", ...extra],
  );
  const {probability, raw} = await model.scorer.score(toRowMajor(data), data.nRows);
  let shap: Float64Array | null = null;
  if (model.explainer && explain) {
    const e = model.explainer.explainBatch(data);
    shap = e.shap;
    // The trees behind the drivers must be the trees inside the ONNX file.
    for (let i = 0; i < data.nRows; i++)
      if (Math.abs(e.raw[i]! - raw[i]!) > 1e-3 * Math.max(1, Math.abs(raw[i]!)))
        throw new Error(
          `${model.dir}/: the tree file and the ONNX model disagree (row ${i}: ${e.raw[i]} vs ${raw[i]})`,
        );
  }
  return {ids: ex.customer_id as string[], data, probability, raw, shap, extra: ex};
}

function featureText(data: Dataset, j: number, i: number): string | null {
  const v = data.columns[j]![i]!;
  if (Number.isNaN(v)) return null;
  const f = data.features[j]!;
  return f.kind === "categorical" ? f.categories![v]! : String(Math.round(v * 1000) / 1000);
}

async function writeScores(conn: DuckDBConnection, table: string, s: Scored, asOf: string | null): Promise<void> {
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${table} (customer_id VARCHAR, as_of_date DATE, churn_probability DOUBLE, raw_score DOUBLE)`,
  );
  const [schema, name] = table.split(".");
  const app = await conn.createAppender(name!, schema!);
  for (let i = 0; i < s.ids.length; i++) {
    app.appendVarchar(s.ids[i]!);
    if (asOf) app.appendVarchar(asOf);
    else app.appendNull();
    app.appendDouble(s.probability[i]!);
    app.appendDouble(s.raw[i]!);
    app.endRow();
  }
  app.closeSync();
}

async function writeDrivers(conn: DuckDBConnection, s: Scored): Promise<void> {
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.mart_customer_drivers (customer_id VARCHAR, rank INTEGER, feature VARCHAR, feature_value VARCHAR, contribution DOUBLE)",
  );
  if (!s.shap) return;
  const F = s.data.features.length;
  const app = await conn.createAppender("mart_customer_drivers", "marts");
  const order = new Int32Array(F);
  for (let i = 0; i < s.ids.length; i++) {
    for (let j = 0; j < F; j++) order[j] = j;
    const row = s.shap.subarray(i * F, (i + 1) * F);
    const top = Array.from(order)
      .sort((a, b) => Math.abs(row[b]!) - Math.abs(row[a]!) || a - b)
      .slice(0, DRIVERS_PER_ACCOUNT);
    top.forEach((j, r) => {
      app.appendVarchar(s.ids[i]!);
      app.appendInteger(r + 1);
      app.appendVarchar(s.data.features[j]!.name);
      const t = featureText(s.data, j, i);
      if (t === null) app.appendNull();
      else app.appendVarchar(t);
      app.appendDouble(row[j]!);
      app.endRow();
    });
  }
  app.closeSync();
}

export interface ScoringResult {
  accounts: number;
  drift: {cutoff: string; value: number; rows: number} | null;
}

/**
 * The categorical values (plan tiers, industries … in the installation's own words) the model
 * never saw in training: it reads them as missing, which is honest but weak — the fix is to
 * train on this data (`npm run train`). One line per feature, for the build log.
 */
export async function unseenCategories(
  conn: DuckDBConnection,
  model: LoadedModel,
  relation: string,
): Promise<string[]> {
  const lines: string[] = [];
  for (const f of model.features) {
    if (f.kind !== "categorical") continue;
    const unseen = await all<{value: string; n: number}>(
      conn,
      `SELECT ${f.name} AS value, count(*) AS n FROM ${relation} WHERE ${f.name} IS NOT NULL AND ${f.name} NOT IN (${f.categories!.map(lit).join(", ")}) GROUP BY ALL ORDER BY n DESC, value`,
    );
    if (unseen.length)
      lines.push(
        `the model in ${model.dir}/ was trained on ${f.name} ${f.categories!.join(", ")}; ${unseen.map((u) => `"${u.value}" (${u.n.toLocaleString("en-US")} accounts)`).join(", ")} read as missing — train it on this data: npm run train`,
      );
  }
  return lines;
}

/**
 * Scores tonight's features and writes marts.model_scores, marts.mart_customer_drivers,
 * marts.mart_churn_score_history, marts.mart_health_score_history, marts.model_backtest_predictions, marts.model_drift and
 * marts.model_card. Runs after the feature marts and before mart_customer_risk_scores.
 */
export async function scoreWarehouse(
  conn: DuckDBConnection,
  model: LoadedModel,
  asOf: string,
  log: (m: string) => void,
): Promise<ScoringResult> {
  const horizon = config.dataQuality.churnHorizonDays;
  let t0 = performance.now();
  for (const line of await unseenCategories(conn, model, "marts.mart_customer_churn_features")) log(line);
  const today = await scoreRelation(conn, model, "marts.mart_customer_churn_features");
  await writeScores(conn, "marts.model_scores", today, asOf);
  await writeDrivers(conn, today);
  log(
    `scored ${today.ids.length.toLocaleString("en-US")} accounts${model.explainer ? " with exact TreeSHAP drivers" : " (no tree file: drivers unavailable for this model)"} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // Score history (the same model at the last monthly cutoffs) and back-test (the model's own
  // out-of-time test cutoffs, with the rule-based risk score then). The two sets overlap, so
  // each distinct cutoff's features are computed and scored once.
  t0 = performance.now();
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.mart_churn_score_history (customer_id VARCHAR, as_of_date DATE, churn_probability DOUBLE)",
  );
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.model_backtest_predictions (customer_id VARCHAR, cutoff_date DATE, label BOOLEAN, probability DOUBLE, risk_score DOUBLE)",
  );
  // the health score's own history at the same monthly cutoffs, with the tier it held then
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.mart_health_score_history (customer_id VARCHAR, as_of_date DATE, health_score DOUBLE, risk_tier VARCHAR)",
  );
  const healthHistory = (components: string, date: string) =>
    run(
      conn,
      `INSERT INTO marts.mart_health_score_history
       SELECT h.customer_id, ${date}, h.health_score, t.tier
       FROM marts.int_health_scores_of(${lit(components)}) h ASOF JOIN cfg.risk_tiers t ON h.risk_score >= t.min_score`,
    );
  const months = (
    await all<{c: string}>(
      conn,
      `SELECT CAST(date_trunc('month', DATE ${lit(asOf)}) - INTERVAL (k) MONTH AS DATE)::VARCHAR AS c FROM range(0, ${HISTORY_MONTHS}) t(k) ORDER BY c`,
    )
  ).map((r) => r.c);
  // The card's test cutoffs whose labels have matured in this data; else the latest matured months.
  const matured = await maturedCutoffs(conn, asOf);
  let backtestCutoffs = (model.card.training?.cutoffs?.test ?? []).filter((c) => matured.includes(c));
  if (!backtestCutoffs.length) backtestCutoffs = matured.slice(-3);
  for (const c of [...new Set([...months, ...backtestCutoffs])].sort()) {
    if (c === asOf) continue; // tonight's scores are added below
    await run(
      conn,
      `CREATE OR REPLACE TEMP TABLE cutoff_features AS FROM marts.int_customer_features_as_of(DATE ${lit(c)})`,
    );
    await writeScores(conn, "marts.tmp_scores", await scoreRelation(conn, model, "cutoff_features", [], false), c);
    await run(conn, "CREATE OR REPLACE TEMP TABLE hc AS FROM marts.int_health_components_of('cutoff_features')");
    if (months.includes(c)) {
      await run(
        conn,
        "INSERT INTO marts.mart_churn_score_history SELECT customer_id, as_of_date, churn_probability FROM marts.tmp_scores",
      );
      await healthHistory("hc", `DATE ${lit(c)}`);
    }
    if (!backtestCutoffs.includes(c)) continue;
    await run(
      conn,
      `INSERT INTO marts.model_backtest_predictions
       SELECT s.customer_id, s.as_of_date, coalesce(ch.churn_date <= s.as_of_date + ${horizon}, false), s.churn_probability, h.risk_score
       FROM marts.tmp_scores s JOIN marts.int_health_scores_of('hc') h USING (customer_id) LEFT JOIN raw.churn_events ch USING (customer_id)`,
    );
  }
  await run(
    conn,
    "INSERT INTO marts.mart_churn_score_history SELECT customer_id, as_of_date, churn_probability FROM marts.model_scores",
  );
  await healthHistory("marts.mart_health_components", `DATE ${lit(asOf)}`);
  await run(
    conn,
    "DROP TABLE IF EXISTS marts.tmp_scores; DROP TABLE IF EXISTS hc; DROP TABLE IF EXISTS cutoff_features",
  );
  log(
    `score history (${months.length} months) and back-test (${backtestCutoffs.join(", ") || "no matured cutoff"}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // Drift: tonight's model on the newest cohort whose 90 days have matured.
  const cutoff = (await one<{c: string}>(conn, `SELECT CAST(DATE ${lit(asOf)} - ${horizon} AS VARCHAR) AS c`)).c;
  const driftColumns = {decile: "INTEGER", n: "INTEGER", predicted: "DOUBLE", observed: "DOUBLE"} as const;
  await writeTable(conn, "marts.model_drift", driftColumns, []);
  let drift: ScoringResult["drift"] = null;
  const cohort = await scoreRelation(
    conn,
    model,
    `(SELECT f.*, coalesce(ch.churn_date <= f.as_of_date + ${horizon}, false) AS churned FROM marts.int_customer_features_as_of(DATE ${lit(cutoff)}) f LEFT JOIN raw.churn_events ch USING (customer_id))`,
    ["churned"],
    false,
  );
  if (cohort.ids.length >= 100) {
    const y = (cohort.extra.churned as boolean[]).map((b) => (b ? 1 : 0));
    const curve = calibrationCurve(y, cohort.probability, driftBins(y.length), "equal-mass");
    const rows = curve.map((b, k) => [k + 1, b.count, b.meanPredicted, b.observedRate]);
    await writeTable(conn, "marts.model_drift", driftColumns, rows);
    drift = {cutoff, value: decileDrift(y, cohort.probability), rows: cohort.ids.length};
  }
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.model_card AS SELECT $1 AS card_json, $2 AS version, $3::DOUBLE AS drift, $4::DATE AS drift_cutoff",
    [JSON.stringify(model.card), model.card.version, drift?.value ?? null, drift?.cutoff ?? null],
  );
  return {accounts: today.ids.length, drift};
}

/** Data-quality checks of the tables written here (loaders/quality.ts runs them with the marts'). */
export const SCORE_TABLE_CHECKS: readonly MartChecks[] = [
  {
    table: "marts.model_scores",
    unique: ["customer_id"],
    notNull: ["customer_id", "churn_probability", "raw_score"],
    ranges: {churn_probability: [0, 1]},
    rowsEqual: "(SELECT count(*) FROM marts.mart_customer_churn_features)",
  },
  {
    table: "marts.mart_customer_drivers",
    unique: ["customer_id", "rank"],
    notNull: ["customer_id", "rank", "feature", "contribution"],
    ranges: {rank: [1, 5]},
  },
  {
    table: "marts.mart_churn_score_history",
    unique: ["customer_id", "as_of_date"],
    notNull: ["customer_id", "as_of_date", "churn_probability"],
    ranges: {churn_probability: [0, 1]},
    minRows: 1,
  },
  {
    table: "marts.mart_health_score_history",
    unique: ["customer_id", "as_of_date"],
    notNull: ["customer_id", "as_of_date", "health_score", "risk_tier"],
    ranges: {health_score: [0, 100]},
    accepted: {risk_tier: RISK_TIERS},
    minRows: 1,
  },
  {
    table: "marts.model_backtest_predictions",
    unique: ["customer_id", "cutoff_date"],
    notNull: ["customer_id", "cutoff_date", "label", "probability", "risk_score"],
    ranges: {probability: [0, 1], risk_score: [0, 100]},
  },
];
