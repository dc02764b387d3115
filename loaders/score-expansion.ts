/**
 * Build-time scoring with the expansion model: calibrated P(expansion in 90 days) — a won
 * expansion opportunity or an upgrade — from its ONNX model, its expected ARR, and exact TreeSHAP
 * drivers, beside the rule-based expansion proxy (mart_customer_expansion_features), which stays.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import type {LoadedModel} from "./model/registry.ts";
import {appendDrivers, createDriversTable, DRIVERS_PER_ACCOUNT, scoreInBatches} from "./score.ts";
import {run} from "./duckdb.ts";
import type {MartChecks} from "./quality.ts";

export const EXPANSION_SCORES = "marts.model_expansion_scores";
export const EXPANSION_DRIVERS = "marts.mart_expansion_drivers";

/**
 * Scores tonight's features (marts.mart_customer_churn_features) with the expansion model:
 * EXPANSION_SCORES (probability, expected expansion ARR), EXPANSION_DRIVERS and
 * marts.expansion_model_card.
 */
export async function scoreExpansion(
  conn: DuckDBConnection,
  model: LoadedModel,
  log: (m: string) => void,
): Promise<{accounts: number}> {
  const share = model.card.expansion_arr_share;
  if (!share)
    throw new Error(
      `${model.dir}/: the expansion model's card has no expansion_arr_share (the ARR an expansion adds), so its expected ARR cannot be given — retrain it with \`npm run train -- --model expansion\``,
    );
  const t0 = performance.now();
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${EXPANSION_SCORES} (customer_id VARCHAR, expansion_probability DOUBLE, expected_expansion_arr DOUBLE)`,
  );
  await createDriversTable(conn, EXPANSION_DRIVERS);
  let accounts = 0;
  const [schema, name] = EXPANSION_SCORES.split(".");
  await scoreInBatches(conn, model, "marts.mart_customer_churn_features", {extra: ["plan_tier", "arr"]}, async (s) => {
    const app = await conn.createAppender(name!, schema!);
    for (let i = 0; i < s.ids.length; i++) {
      const tier = s.extra.plan_tier![i] as string | null;
      const arr = Number(s.extra.arr![i] ?? 0);
      const p = s.probability[i]!;
      app.appendVarchar(s.ids[i]!);
      app.appendDouble(p);
      app.appendDouble(Math.round(p * (share.by_plan_tier[tier ?? ""] ?? share.overall) * arr * 100) / 100);
      app.endRow();
    }
    app.closeSync();
    await appendDrivers(conn, s, EXPANSION_DRIVERS);
    accounts += s.ids.length;
  });
  await run(conn, "CREATE OR REPLACE TABLE marts.expansion_model_card AS SELECT $1 AS card_json, $2 AS version", [
    JSON.stringify(model.card),
    model.card.version,
  ]);
  log(
    `expansion model: scored ${accounts.toLocaleString("en-US")} accounts${model.explainer ? " with exact TreeSHAP drivers" : ""} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return {accounts};
}

/** Data-quality checks of the tables written here (loaders/quality.ts runs them with the marts'). */
export const EXPANSION_TABLE_CHECKS: readonly MartChecks[] = [
  {
    table: EXPANSION_SCORES,
    unique: ["customer_id"],
    notNull: ["customer_id", "expansion_probability", "expected_expansion_arr"],
    ranges: {expansion_probability: [0, 1], expected_expansion_arr: [0, null]},
    rowsEqual: "(SELECT count(*) FROM marts.mart_customer_churn_features)",
  },
  {
    table: EXPANSION_DRIVERS,
    unique: ["customer_id", "rank"],
    notNull: ["customer_id", "rank", "feature", "contribution"],
    ranges: {rank: [1, DRIVERS_PER_ACCOUNT]},
  },
];
