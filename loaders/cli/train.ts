/**
 * `npm run train [-- --model expansion|horizon] [--force]` retrains the churn model (or the expansion or horizon model)
 * on the warehouse built by `npm run build` and promotes it into models/ only if it passes the
 * promotion gates in config.governance.
 *
 * `npm run train -- --table FILE --id COLUMN --label COLUMN [--exclude a,b] [--out DIR]`
 * trains on your own customer-level table (CSV or Parquet) instead.
 *
 * The candidate is always written to <models>/candidate/ first; the current model is only
 * replaced when the gates pass (or with --force), so a failed or rejected run leaves it untouched.
 */
import {intArg, isMainModule, parseCommandArgs, runCommand, UsageError} from "./command.ts";
import {existsSync, rmSync} from "node:fs";
import {join, resolve} from "node:path";
import {DEFAULTS} from "../build.ts";
import {MACRO_FILES, buildMarts} from "../marts.ts";
import {
  formatGate,
  hasModel,
  loadModel,
  MODEL_KINDS,
  promote,
  promotionGate,
  saveModel,
  type ModelKind,
} from "../model/registry.ts";
import {openTableFile, readDataset} from "../model/table.ts";
import {toRowMajor} from "../model/dataset.ts";
import {rocAuc} from "../model/evaluation.ts";
import {trainOnTable, type TrainedModel} from "../model/train.ts";
import {testRowsOf, TRAINERS} from "../model/trainers.ts";
import {CONTRACT} from "../contract.ts";
import {lit, one, openWarehouse, type Warehouse} from "../duckdb.ts";

const USAGE = `usage: npm run train -- [--model churn|expansion|horizon] [--force] [--warehouse FILE] [--models DIR]
       npm run train -- --table FILE --id COLUMN --label COLUMN [--exclude a,b] [--out DIR] [--force]`;

/** The warehouse's raw tables (and vocabulary) seen through an in-memory database (the warehouse stays read-only). */
export async function attachWarehouse(path: string): Promise<{w: Warehouse; asOf: string}> {
  if (!existsSync(path))
    throw new Error(`${path} does not exist: run \`npm run build\` first (training reads its raw tables)`);
  const w = await openWarehouse(":memory:");
  await w.conn.run(`ATTACH ${lit(path)} AS wh (READ_ONLY); CREATE SCHEMA raw; CREATE SCHEMA marts`);
  for (const t of CONTRACT) await w.conn.run(`CREATE VIEW raw.${t.name} AS FROM wh.raw.${t.name}`);
  await w.conn.run("CREATE VIEW marts.int_usage_daily AS FROM wh.marts.int_usage_daily");
  // the data's own words and the score weights its coverage allows, as the build read them
  await w.conn.run("CREATE SCHEMA cfg; CREATE VIEW cfg.vocabulary AS FROM wh.cfg.vocabulary");
  await w.conn.run("CREATE VIEW marts.int_score_weights AS FROM wh.marts.int_score_weights");
  const hasTruth =
    (
      await one<{n: number}>(
        w.conn,
        "SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = 'wh' AND schema_name = 'truth'",
      )
    ).n > 0;
  if (hasTruth)
    await w.conn.run("CREATE SCHEMA truth; CREATE VIEW truth.churn_probability AS FROM wh.truth.churn_probability");
  const asOf = (await one<{a: string}>(w.conn, "SELECT CAST(as_of AS VARCHAR) AS a FROM wh.marts.build_info")).a;
  await buildMarts(w.conn, asOf, undefined, MACRO_FILES);
  return {w, asOf};
}

async function main(): Promise<void> {
  const {values} = parseCommandArgs({
    options: {
      force: {type: "boolean", default: false},
      warehouse: {type: "string", default: DEFAULTS.warehousePath},
      models: {type: "string", default: DEFAULTS.modelsDir},
      table: {type: "string"},
      id: {type: "string"},
      label: {type: "string"},
      exclude: {type: "string"},
      out: {type: "string"},
      seed: {type: "string", default: "42"},
      model: {type: "string", default: "churn"},
    },
    strict: true,
  });
  const seed = intArg("seed", values.seed)!;
  if (!Object.hasOwn(MODEL_KINDS, values.model))
    throw new UsageError(`--model must be one of ${Object.keys(MODEL_KINDS).join(", ")}, not "${values.model}"`);
  const kind = values.model as ModelKind;
  if (values.table && kind !== "churn")
    throw new UsageError(
      "--table trains a churn model on your own table; --model expansion or horizon trains on the warehouse",
    );
  const log = (m: string) => console.log(`  ${m}`);
  let trained: TrainedModel;
  let dir: string;
  let w: Warehouse;
  let currentAucOnTest: ((current: Awaited<ReturnType<typeof loadModel>>) => Promise<number | null>) | null = null;

  if (values.table) {
    if (!values.id || !values.label) throw new UsageError("--table needs --id COLUMN and --label COLUMN");
    dir = resolve(values.out ?? join(values.models, "custom"));
    w = await openWarehouse(":memory:");
    const rel = await openTableFile(w, resolve(values.table));
    console.log(`training on ${values.table} (id ${values.id}, label ${values.label})`);
    trained = await trainOnTable(w.conn, rel, {
      idColumn: values.id,
      labelColumn: values.label,
      exclude: values.exclude?.split(",").map((s) => s.trim()),
      seed,
      source: values.table,
      log,
    });
  } else {
    dir = resolve(values.models);
    const a = await attachWarehouse(resolve(values.warehouse));
    w = a.w;
    console.log(`training the ${kind} model on ${values.warehouse} (as of ${a.asOf})`);
    trained = await TRAINERS[kind](w.conn, {asOf: a.asOf, seed, log});
    const {relation: rel, label} = testRowsOf(kind, trained.card);
    // the current model scored on exactly the candidate's test rows, when it has the same inputs
    currentAucOnTest = async (current) => {
      const cols = new Set(
        (await w.conn.runAndReadAll(`SELECT column_name FROM (DESCRIBE ${rel})`)).getRows().map((r) => String(r[0])),
      );
      if (!current.features.every((f) => cols.has(f.name))) return null;
      const {data, extra} = await readDataset(w.conn, rel, current.features, [label]);
      const {probability} = await current.scorer.score(toRowMajor(data), data.nRows);
      return rocAuc(
        (extra[label] as boolean[]).map((b) => (b ? 1 : 0)),
        probability,
      );
    };
  }

  const candidateDir = join(dir, "candidate");
  rmSync(candidateDir, {recursive: true, force: true});
  saveModel(candidateDir, trained, kind);
  let current: {auc: number} | null = null;
  if (hasModel(dir, kind)) {
    try {
      const m = await loadModel(dir, kind);
      current = {auc: (currentAucOnTest && (await currentAucOnTest(m))) ?? m.card.metrics.roc_auc};
      await m.scorer.release();
    } catch (e) {
      console.log(
        `the current model in ${dir}/ cannot be loaded (${(e as Error).message.split("\n")[0]}); comparing without it`,
      );
    }
  }
  const gate = promotionGate(trained.card, current);
  const m = trained.card.metrics;
  const b = trained.card.baseline.metrics;
  console.log(
    `\ncandidate ${trained.card.version}: test ROC-AUC ${m.roc_auc.toFixed(4)} (baseline ${b.roc_auc.toFixed(4)}${trained.card.truth_auc !== null ? `, generator's true probabilities ${trained.card.truth_auc.toFixed(4)}` : ""}), PR-AUC ${m.pr_auc.toFixed(4)}, Brier ${m.brier.toFixed(4)}, ECE ${m.ece.toFixed(4)}, top-decile lift ${m.lift_top_decile.toFixed(2)}`,
  );
  console.log(formatGate(gate.rows));
  if (gate.passed || values.force) {
    promote(candidateDir, dir, kind);
    rmSync(candidateDir, {recursive: true, force: true});
    console.log(`\npromoted to ${dir}/${gate.passed ? "" : " (--force: the gates failed)"}`);
  } else {
    console.log(
      `\nNOT promoted: the candidate stays in ${candidateDir}/ and ${dir}/ is unchanged (use --force to promote anyway)`,
    );
    process.exitCode = 3;
  }
  w.close();
}

if (isMainModule(import.meta.url))
  await runCommand({name: "train", usage: USAGE, unchanged: "(the current model is unchanged)"}, main);
