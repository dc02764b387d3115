/**
 * Each kind of model's trainer on the warehouse, and the rows its test metrics were measured on
 * (so `npm run train` can score the current model on exactly the candidate's test rows).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {lit} from "../duckdb.ts";
import type {ModelCard} from "./card.ts";
import type {ModelKind} from "./registry.ts";
import {
  EXPANSION_LABEL,
  LABEL_COLUMN,
  trainChurnModel,
  trainExpansionModel,
  type TrainedModel,
  type WarehouseTrainOptions,
} from "./train.ts";
import {HORIZON_LABEL, HORIZON_SNAPSHOTS, trainHorizonModel} from "./train-horizon.ts";

export const TRAINERS: Record<
  ModelKind,
  (conn: DuckDBConnection, opts: WarehouseTrainOptions) => Promise<TrainedModel>
> = {churn: trainChurnModel, expansion: trainExpansionModel, horizon: trainHorizonModel};

/** The candidate's test rows (in the table its training wrote) and their label column. */
export function testRowsOf(kind: ModelKind, card: ModelCard): {relation: string; label: string} {
  if (kind === "horizon") {
    const valid = card.horizon!.outcomes_through.valid;
    return {
      relation: `(SELECT * FROM ${HORIZON_SNAPSHOTS} WHERE period_through > DATE ${lit(valid)} ORDER BY as_of_date, customer_id, months_ahead)`,
      label: HORIZON_LABEL,
    };
  }
  const test = card.training!.cutoffs!.test;
  return {
    relation: `(SELECT * FROM marts.model_training_snapshots WHERE as_of_date IN (${test.map((c) => `DATE ${lit(c)}`).join(", ")}) ORDER BY as_of_date, customer_id)`,
    label: kind === "churn" ? LABEL_COLUMN : EXPANSION_LABEL,
  };
}
