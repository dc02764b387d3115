/**
 * Build-time scoring with the churn model: calibrated P(churn in 90 days) from the ONNX model
 * run by onnxruntime-web (the same runtime as the server and the browser), exact TreeSHAP
 * drivers from the tree structure, the score history, the back-test at the card's test
 * cutoffs and the drift of the current model on the latest matured cohort.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {createHash} from "node:crypto";
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {config, RISK_TIERS} from "../src/rules/config.ts";
import type {Dataset} from "./model/dataset.ts";
import {toRowMajor} from "./model/dataset.ts";
import {hasModel, loadModel, MODEL_FILES, saveModel, type LoadedModel, type ModelKind} from "./model/registry.ts";
import {FEATURE_MARTS, martSql} from "./marts.ts";
import {readDataset} from "./model/table.ts";
import {decileDrift, driftBins, maturedCutoffs} from "./model/train.ts";
import {TRAINERS} from "./model/trainers.ts";
import {calibrationCurve} from "./model/evaluation.ts";
import {all, lit, one, run, writeTable} from "./duckdb.ts";
import type {MartChecks} from "./quality.ts";
import {ACCOUNT_FINGERPRINTS, CUTOFF_SCORES, writeAccountFingerprints, type Refresh} from "./refresh.ts";

/** How many drivers per account are stored (the pages show the top few). */
export const DRIVERS_PER_ACCOUNT = 5;
/** Monthly points of the per-account score history (plus tonight). */
export const HISTORY_MONTHS = 6;

/** Loads the model of a kind in `dir`; when there is none, trains the embedded default first. */
export async function ensureModel(
  conn: DuckDBConnection,
  opts: {dir: string; asOf: string; log: (m: string) => void; kind?: ModelKind},
): Promise<LoadedModel> {
  const kind = opts.kind ?? "churn";
  if (!hasModel(opts.dir, kind)) {
    opts.log(`no ${kind} model in ${opts.dir}/: training the default ${kind} model on this data`);
    saveModel(opts.dir, await TRAINERS[kind](conn, {asOf: opts.asOf, log: opts.log}), kind);
  }
  return loadModel(opts.dir, kind);
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
 * Accounts scored at a time by the build: the memory scoring takes (the rows as JavaScript
 * values, the model's input and output, the TreeSHAP values) is a batch's, whatever the
 * portfolio's size. A million-customer build peaked at 8.22 GB scoring every account at once,
 * at 5.49 GB in batches.
 */
export const SCORING_BATCH_ROWS = 100_000;

/** Throws unless `relation` holds every feature of the model. */
async function checkFeatures(conn: DuckDBConnection, model: LoadedModel, relation: string): Promise<void> {
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
}

/** Scores rows read from `query` (`key` — customer_id unless told —, then `extra`, beside the features). */
async function scoreRows(
  conn: DuckDBConnection,
  model: LoadedModel,
  query: string,
  extra: string[],
  explain: boolean,
  key = "customer_id",
): Promise<Scored> {
  const {data, extra: ex} = await readDataset(conn, query, model.features, [key, ...extra]);
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
  return {ids: ex[key] as string[], data, probability, raw, shap, extra: ex};
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
  await checkFeatures(conn, model, relation);
  return scoreRows(conn, model, `(SELECT * FROM ${relation} ORDER BY customer_id)`, extra, explain);
}

/**
 * scoreRelation a batch of SCORING_BATCH_ROWS rows at a time, in key order, for `relation` a
 * table with one row per `key` (customer_id unless told; each batch reads the rows after the
 * last one scored). Scored.ids holds the keys.
 */
export async function scoreInBatches(
  conn: DuckDBConnection,
  model: LoadedModel,
  relation: string,
  opts: {extra?: string[]; explain?: boolean; batchRows?: number; key?: string},
  onBatch: (s: Scored) => Promise<void>,
): Promise<void> {
  await checkFeatures(conn, model, relation);
  const n = opts.batchRows ?? SCORING_BATCH_ROWS;
  const key = opts.key ?? "customer_id";
  let after: string | null = null;
  for (;;) {
    const s = await scoreRows(
      conn,
      model,
      `(SELECT * FROM ${relation} ${after === null ? "" : `WHERE ${key} > ${lit(after)}`} ORDER BY ${key} LIMIT ${n})`,
      opts.extra ?? [],
      opts.explain ?? true,
      key,
    );
    if (s.ids.length) await onBatch(s);
    if (s.ids.length < n) return;
    after = s.ids.at(-1)!;
  }
}

function featureText(data: Dataset, j: number, i: number): string | null {
  const v = data.columns[j]![i]!;
  if (Number.isNaN(v)) return null;
  const f = data.features[j]!;
  return f.kind === "categorical" ? f.categories![v]! : String(Math.round(v * 1000) / 1000);
}

/** An empty table of scores (`appendScores` fills it). */
async function createScoresTable(conn: DuckDBConnection, table: string): Promise<void> {
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${table} (customer_id VARCHAR, as_of_date DATE, churn_probability DOUBLE, raw_score DOUBLE)`,
  );
}

async function appendScores(conn: DuckDBConnection, table: string, s: Scored, asOf: string): Promise<void> {
  const [schema, name] = table.split(".");
  const app = await conn.createAppender(name!, schema!);
  for (let i = 0; i < s.ids.length; i++) {
    app.appendVarchar(s.ids[i]!);
    app.appendVarchar(asOf);
    app.appendDouble(s.probability[i]!);
    app.appendDouble(s.raw[i]!);
    app.endRow();
  }
  app.closeSync();
}

/** An empty table of each account's top TreeSHAP drivers (`appendDrivers` fills it). */
export async function createDriversTable(conn: DuckDBConnection, table = "marts.mart_customer_drivers"): Promise<void> {
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${table} (customer_id VARCHAR, rank INTEGER, feature VARCHAR, feature_value VARCHAR, contribution DOUBLE)`,
  );
}

export async function appendDrivers(
  conn: DuckDBConnection,
  s: Scored,
  table = "marts.mart_customer_drivers",
): Promise<void> {
  if (!s.shap) return;
  const F = s.data.features.length;
  const [schema, name] = table.split(".");
  const app = await conn.createAppender(name!, schema!);
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

/**
 * Session variables the recipe of past cutoffs' scores leaves out: tonight's date and a step's
 * progress, which are not rules, and the vocabulary's maps, which are cfg.vocabulary (hashed with
 * the cfg tables) with their entries in no fixed order. Every other variable is in it, so a
 * variable added later can only stop reuse, never make it wrong.
 */
const NIGHTLY_VARIABLES = ["as_of", "part", "parts", "usage_from", "usage_slice_bounds"];
const NOT_RULES = `name NOT IN (${NIGHTLY_VARIABLES.map(lit).join(", ")}) AND NOT starts_with(name, 'vocab_')`;

/** The code that turns a past cutoff's features into its scores. */
const SCORING_CODE = ["score.ts", "model/table.ts", "model/dataset.ts", "model/onnx-runtime.ts"].map((f) =>
  readFileSync(fileURLToPath(new URL(`./${f}`, import.meta.url)), "utf8"),
);

/**
 * The recipe of an account's scores at a past cutoff (see Refresh.pastCutoffScores): the SQL of
 * the feature steps, the scoring code, the model, the rules (cfg tables and session variables),
 * the score weights — which depend on what the whole portfolio measures —, and the engine.
 */
async function pastScoresRecipe(conn: DuckDBConnection, model: LoadedModel): Promise<string> {
  const tables = (
    await all<{t: string}>(
      conn,
      `SELECT schema_name || '.' || table_name AS t FROM duckdb_tables()
       WHERE database_name = current_database() AND (schema_name = 'cfg' OR (schema_name = 'marts' AND table_name = 'int_score_weights'))
       ORDER BY t`,
    )
  ).map((r) => r.t);
  const {state} = await one<{state: string}>(
    conn,
    `SELECT concat_ws('|', version(),
       (SELECT string_agg(name || '=' || coalesce(value::VARCHAR, 'NULL'), ';' ORDER BY name) FROM duckdb_variables()
        WHERE ${NOT_RULES}),
       ${tables.map((t) => `(SELECT ${lit(t)} || ':' || count(*) || ':' || coalesce(sum(hash(r)::HUGEINT), 0) FROM ${t} r)`).join(", ") || "''"}) AS state`,
  );
  return createHash("sha256")
    .update(FEATURE_MARTS.map(martSql).join("\n"))
    .update(SCORING_CODE.join("\n"))
    .update(readFileSync(join(model.dir, MODEL_FILES.onnx)))
    .update(JSON.stringify(model.card))
    .update(state)
    .digest("hex");
}

/** The risk tier a health score `h` (its risk_score) falls in, as `t.tier`: cfg.risk_tiers' bands. */
const TIER_OF_HEALTH = "ASOF JOIN cfg.risk_tiers t ON h.risk_score >= t.min_score";

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
  reuse: Pick<Refresh, "pastCutoffScores"> | null = null,
): Promise<ScoringResult> {
  const horizon = config.dataQuality.churnHorizonDays;
  let t0 = performance.now();
  for (const line of await unseenCategories(conn, model, "marts.mart_customer_churn_features")) log(line);
  await createScoresTable(conn, "marts.model_scores");
  await createDriversTable(conn);
  let accounts = 0;
  await scoreInBatches(conn, model, "marts.mart_customer_churn_features", {}, async (s) => {
    await appendScores(conn, "marts.model_scores", s, asOf);
    await appendDrivers(conn, s);
    accounts += s.ids.length;
  });
  log(
    `scored ${accounts.toLocaleString("en-US")} accounts${model.explainer ? " with exact TreeSHAP drivers" : " (no tree file: drivers unavailable for this model)"} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // Score history (the same model at the last monthly cutoffs) and back-test (the model's own
  // out-of-time test cutoffs, with the rule-based risk score then). The two sets overlap, so
  // each distinct cutoff's features are computed and scored once, into CUTOFF_SCORES; a refresh
  // takes last night's rows of the accounts whose inputs did not change (refresh.ts).
  t0 = performance.now();
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
  // tonight's scores are added below
  const cutoffs = [...new Set([...months, ...backtestCutoffs])].filter((c) => c !== asOf).sort();
  await writeAccountFingerprints(conn);
  const past = reuse ? await reuse.pastCutoffScores(conn, await pastScoresRecipe(conn, model)) : null;
  const pastCutoffs = past
    ? (await all<{c: string}>(conn, `SELECT DISTINCT CAST(cutoff AS VARCHAR) AS c FROM ${past.previous}`)).map(
        (r) => r.c,
      )
    : [];
  const changed = past ? (await one<{n: number}>(conn, "SELECT count(*)::INTEGER AS n FROM changed_accounts")).n : null;
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${CUTOFF_SCORES} (customer_id VARCHAR, cutoff DATE, churn_probability DOUBLE, health_score DOUBLE, risk_score DOUBLE, risk_tier VARCHAR)`,
  );
  const reusedAt: string[] = [];
  for (const c of cutoffs) {
    // last night scored every account at c (it has rows there), from usage that has not changed since
    const reusable = past !== null && c < past.usageFrom && pastCutoffs.includes(c);
    await run(
      conn,
      `CREATE OR REPLACE TEMP TABLE cutoff_features AS FROM marts.int_customer_features_as_of(DATE ${lit(c)})
       ${reusable ? "WHERE customer_id IN (FROM changed_accounts)" : ""}`,
    );
    await createScoresTable(conn, "marts.tmp_scores");
    await scoreInBatches(conn, model, "cutoff_features", {explain: false}, (s) =>
      appendScores(conn, "marts.tmp_scores", s, c),
    );
    await run(conn, "CREATE OR REPLACE TEMP TABLE hc AS FROM marts.int_health_components_of('cutoff_features')");
    await run(
      conn,
      `INSERT INTO ${CUTOFF_SCORES}
       SELECT s.customer_id, s.as_of_date, s.churn_probability, h.health_score, h.risk_score, t.tier
       FROM marts.tmp_scores s JOIN marts.int_health_scores_of('hc') h USING (customer_id)
       ${TIER_OF_HEALTH}`,
    );
    if (!reusable) continue;
    // the accounts still here whose rows are last night's
    await run(
      conn,
      `INSERT INTO ${CUTOFF_SCORES} SELECT p.* FROM ${past.previous} p
       SEMI JOIN ${ACCOUNT_FINGERPRINTS} f USING (customer_id) ANTI JOIN changed_accounts x USING (customer_id)
       WHERE p.cutoff = DATE ${lit(c)}`,
    );
    reusedAt.push(c);
  }
  const inList = (cs: string[]) => (cs.length ? cs.map((c) => `DATE ${lit(c)}`).join(", ") : "NULL");
  await run(
    conn,
    `CREATE OR REPLACE TABLE marts.mart_churn_score_history AS
     SELECT customer_id, cutoff AS as_of_date, churn_probability FROM ${CUTOFF_SCORES} WHERE cutoff IN (${inList(months)})
     UNION ALL SELECT customer_id, as_of_date, churn_probability FROM marts.model_scores`,
  );
  // the health score's own history at the same monthly cutoffs, with the tier it held then
  await run(
    conn,
    `CREATE OR REPLACE TABLE marts.mart_health_score_history AS
     SELECT customer_id, cutoff AS as_of_date, health_score, risk_tier FROM ${CUTOFF_SCORES} WHERE cutoff IN (${inList(months)})
     UNION ALL
     SELECT h.customer_id, DATE ${lit(asOf)}, h.health_score, t.tier
     FROM marts.int_health_scores_of('marts.mart_health_components') h ${TIER_OF_HEALTH}`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE marts.model_backtest_predictions AS
     SELECT s.customer_id, s.cutoff AS cutoff_date, coalesce(ch.churn_date <= s.cutoff + ${horizon}, false) AS label,
            s.churn_probability AS probability, s.risk_score
     FROM ${CUTOFF_SCORES} s LEFT JOIN raw.churn_events ch USING (customer_id) WHERE s.cutoff IN (${inList(backtestCutoffs)})`,
  );
  await run(
    conn,
    "DROP TABLE IF EXISTS marts.tmp_scores; DROP TABLE IF EXISTS hc; DROP TABLE IF EXISTS cutoff_features; DROP TABLE IF EXISTS changed_accounts",
  );
  if (changed !== null)
    log(
      `past cutoffs: ${reusedAt.length} of ${cutoffs.length} reused from the previous build, but for ${changed.toLocaleString("en-US")} account(s) whose rows changed`,
    );
  log(
    `score history (${months.length} months) and back-test (${backtestCutoffs.join(", ") || "no matured cutoff"}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // Drift: tonight's model on the newest cohort whose 90 days have matured.
  const cutoff = (await one<{c: string}>(conn, `SELECT CAST(DATE ${lit(asOf)} - ${horizon} AS VARCHAR) AS c`)).c;
  const driftColumns = {decile: "INTEGER", n: "INTEGER", predicted: "DOUBLE", observed: "DOUBLE"} as const;
  await writeTable(conn, "marts.model_drift", driftColumns, []);
  let drift: ScoringResult["drift"] = null;
  await run(
    conn,
    `CREATE OR REPLACE TEMP TABLE drift_cohort AS
     SELECT f.*, coalesce(ch.churn_date <= f.as_of_date + ${horizon}, false) AS churned
     FROM marts.int_customer_features_as_of(DATE ${lit(cutoff)}) f LEFT JOIN raw.churn_events ch USING (customer_id)`,
  );
  const y: number[] = [];
  const predicted: number[] = [];
  await scoreInBatches(conn, model, "drift_cohort", {extra: ["churned"], explain: false}, async (s) => {
    for (const b of s.extra.churned as boolean[]) y.push(b ? 1 : 0);
    for (const p of s.probability) predicted.push(p);
  });
  await run(conn, "DROP TABLE drift_cohort");
  if (y.length >= 100) {
    const curve = calibrationCurve(y, predicted, driftBins(y.length), "equal-mass");
    const rows = curve.map((b, k) => [k + 1, b.count, b.meanPredicted, b.observedRate]);
    await writeTable(conn, "marts.model_drift", driftColumns, rows);
    drift = {cutoff, value: decileDrift(y, predicted), rows: y.length};
  }
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.model_card AS SELECT $1 AS card_json, $2 AS version, $3::DOUBLE AS drift, $4::DATE AS drift_cutoff",
    [JSON.stringify(model.card), model.card.version, drift?.value ?? null, drift?.cutoff ?? null],
  );
  return {accounts, drift};
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
    table: CUTOFF_SCORES,
    unique: ["customer_id", "cutoff"],
    notNull: ["customer_id", "cutoff", "churn_probability", "health_score", "risk_score", "risk_tier"],
    ranges: {churn_probability: [0, 1], health_score: [0, 100], risk_score: [0, 100]},
    accepted: {risk_tier: RISK_TIERS},
  },
  {
    table: ACCOUNT_FINGERPRINTS,
    unique: ["customer_id"],
    notNull: ["customer_id", "fingerprint"],
    rowsEqual: "(SELECT count(*) FROM raw.customers)",
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
