/**
 * Feature rows of real accounts, shaped as POST /predictions/churn expects them (card feature
 * names; categories as text; numbers; null when missing). Used for the OpenAPI example, the
 * tests and the benchmark.
 */
import {existsSync} from "node:fs";
import {join} from "node:path";
import {ModelCardSchema} from "../../loaders/model/card.ts";
import {all, ident, openWarehouse} from "../../loaders/duckdb.ts";
import {readFileSync} from "node:fs";
import type {FeatureValue} from "./served-model.ts";

export async function sampleFeatureRows(
  warehousePath: string,
  modelsDir: string,
  limit = 200,
): Promise<{customer_id: string; features: Record<string, FeatureValue>}[]> {
  const cardPath = join(modelsDir, "churn_model.card.json");
  if (!existsSync(cardPath)) throw new Error(`${cardPath} is missing`);
  const card = ModelCardSchema.parse(JSON.parse(readFileSync(cardPath, "utf8")));
  const w = await openWarehouse(warehousePath, {readOnly: true});
  try {
    const cols = card.features.map(
      (f) =>
        (f.kind === "categorical" ? `CAST(${ident(f.name)} AS VARCHAR)` : `CAST(${ident(f.name)} AS DOUBLE)`) +
        ` AS ${ident(f.name)}`,
    );
    const rows = await all<Record<string, FeatureValue>>(
      w.conn,
      `SELECT customer_id, ${cols.join(", ")} FROM marts.mart_customer_churn_features ORDER BY customer_id LIMIT ${Math.max(1, Math.floor(limit))}`,
    );
    return rows.map((r) => {
      const {customer_id, ...features} = r;
      for (const [k, v] of Object.entries(features))
        if (typeof v === "number" && !Number.isFinite(v)) features[k] = null;
      return {customer_id: String(customer_id), features};
    });
  } finally {
    w.close();
  }
}
