/**
 * Mart SQL through the pipeline (buildMarts: config load, one file at a time, row counts)
 * against the same SQL sent to DuckDB directly as one script, on copies of the same raw data
 * (and of the model's scores, which the score-phase marts join).
 */
import {isMainModule} from "../loaders/cli/command.ts";
import {join} from "node:path";
import {buildMarts, loadRules, MART_FILES, martSql} from "../loaders/marts.ts";
import {lit, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";

async function freshCopy(source: string): Promise<Warehouse> {
  const w = await openWarehouse(":memory:");
  await w.conn.run(`ATTACH ${lit(source)} AS src (READ_ONLY); CREATE SCHEMA raw`);
  const tables = await w.conn.runAndReadAll(
    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' AND schema_name = 'raw'",
  );
  for (const [t] of tables.getRows()) await w.conn.run(`CREATE TABLE raw.${t} AS FROM src.raw.${t}`);
  // the model's outputs are inputs of the score-phase marts (the model itself is timed elsewhere)
  // (loaders/score.ts writes them: scores, drivers, the back-test predictions and the score histories)
  await w.conn.run("CREATE SCHEMA marts");
  for (const t of [
    "model_scores",
    "mart_customer_drivers",
    "model_backtest_predictions",
    "mart_churn_score_history",
    "mart_health_score_history",
  ])
    await w.conn.run(`CREATE TABLE marts.${t} AS FROM src.marts.${t}`);
  await w.conn.run("DETACH src");
  return w;
}

export async function martsOverhead(
  warehouse: string,
  asOf: string,
  repeats = 3,
): Promise<{pipelineSeconds: number; directSeconds: number; ratio: number}> {
  const script = MART_FILES.map((f) => martSql(f)).join("\n");
  const pipeline: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < repeats; i++) {
    let w = await freshCopy(warehouse);
    let t0 = performance.now();
    await buildMarts(w.conn, asOf);
    pipeline.push((performance.now() - t0) / 1000);
    w.close();
    w = await freshCopy(warehouse);
    await loadRules(w.conn, asOf); // the variables the SQL reads; not timed
    t0 = performance.now();
    await w.conn.run(script);
    direct.push((performance.now() - t0) / 1000);
    w.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const p = median(pipeline);
  const d = median(direct);
  return {pipelineSeconds: p, directSeconds: d, ratio: p / d};
}

if (isMainModule(import.meta.url)) {
  const [warehouse, asOf] = process.argv.slice(2);
  console.log(JSON.stringify(await martsOverhead(join(warehouse!), asOf!)));
}
