/**
 * `npm run score -- --table FILE [--id COLUMN] [--model DIR] [--out FILE]`
 * Scores a customer-level table (CSV or Parquet) with a model folder (default models/; a model
 * trained with `npm run train -- --table` lives in models/custom/) and writes one row per
 * customer: probability, tier and the top drivers (exact TreeSHAP, log-odds) as CSV.
 */
import {parseCommandArgs, runCommand, UsageError} from "./command.ts";
import {resolve} from "node:path";
import {tierOfProbability} from "../../src/rules/config.ts";
import {loadModel} from "../model/registry.ts";
import {openTableFile} from "../model/table.ts";
import {topDrivers} from "../model/treeshap.ts";
import {scoreRelation} from "../score.ts";
import {ident, lit, openWarehouse} from "../duckdb.ts";

const USAGE = "usage: npm run score -- --table FILE [--id COLUMN] [--model DIR] [--out FILE]";

await runCommand({name: "score", usage: USAGE}, async () => {
  const {values} = parseCommandArgs({
    options: {
      table: {type: "string"},
      id: {type: "string", default: "customer_id"},
      model: {type: "string", default: "models"},
      out: {type: "string"},
    },
    strict: true,
  });
  if (!values.table) throw new UsageError("--table FILE is required");
  const model = await loadModel(resolve(values.model));
  const w = await openWarehouse(":memory:");
  const rel = await openTableFile(w, resolve(values.table));
  const cols = (await w.conn.runAndReadAll(`SELECT column_name FROM (DESCRIBE ${rel})`))
    .getRows()
    .map((r) => String(r[0]));
  if (!cols.includes(values.id))
    throw new Error(`--id: ${values.table} has no column "${values.id}" (columns: ${cols.join(", ")})`);
  const s = await scoreRelation(
    w.conn,
    model,
    `(SELECT *, CAST(${ident(values.id)} AS VARCHAR) AS customer_id FROM ${rel})`,
  );
  const out = resolve(values.out ?? values.table.replace(/\.(csv|parquet)$/i, "") + ".scored.csv");
  const F = s.data.features.length;
  await w.conn.run(
    "CREATE TABLE scored (customer_id VARCHAR, churn_probability DOUBLE, tier VARCHAR, drivers VARCHAR)",
  );
  const app = await w.conn.createAppender("scored");
  for (let i = 0; i < s.ids.length; i++) {
    const drivers = s.shap
      ? topDrivers(
          s.shap.subarray(i * F, (i + 1) * F),
          model.features.map((f) => f.name),
          3,
        )
          .map((d) => `${d.feature} ${d.contribution >= 0 ? "+" : ""}${d.contribution.toFixed(3)}`)
          .join("; ")
      : "";
    app.appendVarchar(s.ids[i]!);
    app.appendDouble(s.probability[i]!);
    app.appendVarchar(tierOfProbability(s.probability[i]!));
    app.appendVarchar(drivers);
    app.endRow();
  }
  app.closeSync();
  await w.conn.run(
    `COPY (SELECT customer_id AS ${ident(values.id)}, * EXCLUDE (customer_id) FROM scored ORDER BY 1) TO ${lit(out)} (HEADER)`,
  );
  console.log(`scored ${s.ids.length} rows with model ${model.card.version} → ${out}`);
  await model.scorer.release();
  w.close();
});
