/**
 * Model benchmarks on a built warehouse: training time and test metrics (trees vs baseline vs
 * the generator's true probabilities) and scoring + exact TreeSHAP throughput on 100,000 accounts;
 * the expansion and churn horizon models' training time and test metrics, and the horizon model's
 * 3- and 6-month churn against what happened from the first day of its test months.
 */
import {MACRO_FILES, buildMarts} from "../loaders/marts.ts";
import {loadModel, saveModel} from "../loaders/model/registry.ts";
import {trainChurnModel, trainExpansionModel} from "../loaders/model/train.ts";
import {horizonBacktestAt, trainHorizonModel} from "../loaders/model/train-horizon.ts";
import {scoreRelation} from "../loaders/score.ts";
import {one, openWarehouse} from "../loaders/duckdb.ts";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";

export interface ModelFigures {
  trainSeconds: number;
  rocAuc: number;
  baselineRocAuc: number;
  truthAuc: number | null;
  ece: number;
  trees: number;
  scoredAccounts: number;
  scoreWithShapSeconds: number;
  accountsPerSecond: number;
  /** the expansion model trained on the same warehouse */
  expansion: {trainSeconds: number; rocAuc: number; baselineRocAuc: number; ece: number; trees: number};
  /** the churn horizon model trained on the same warehouse, and its 3-month back-test at its first test cutoff */
  horizon: {
    trainSeconds: number;
    rocAuc: number;
    baselineRocAuc: number;
    ece: number;
    trees: number;
    backtest: {cutoff: string; months: number; predicted: number; observed: number; auc: number}[];
  };
}

export async function benchModel(warehouse: string, asOf: string, scoreRows = 100_000): Promise<ModelFigures> {
  const w = await openWarehouse(warehouse);
  const dir = mkdtempSync(join(tmpdir(), "saasguard-bench-model-"));
  try {
    await buildMarts(w.conn, asOf, undefined, MACRO_FILES);
    let t0 = performance.now();
    const trained = await trainChurnModel(w.conn, {asOf});
    const trainSeconds = (performance.now() - t0) / 1000;
    saveModel(dir, trained);
    t0 = performance.now();
    const exp = await trainExpansionModel(w.conn, {asOf});
    const expSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const hz = await trainHorizonModel(w.conn, {asOf});
    const hzSeconds = (performance.now() - t0) / 1000;
    const first = hz.card.horizon!.outcomes_through.valid;
    const horizon = {
      trainSeconds: hzSeconds,
      rocAuc: hz.card.metrics.roc_auc,
      baselineRocAuc: hz.card.baseline.metrics.roc_auc,
      ece: hz.card.metrics.ece,
      trees: hz.gbt.trees.length,
      backtest: (await horizonBacktestAt(w.conn, hz, first, asOf, [3, 6])).map((b) => ({cutoff: first, ...b})),
    };
    const expansion = {
      trainSeconds: expSeconds,
      rocAuc: exp.card.metrics.roc_auc,
      baselineRocAuc: exp.card.baseline.metrics.roc_auc,
      ece: exp.card.metrics.ece,
      trees: exp.gbt.trees.length,
    };
    const model = await loadModel(dir);
    // exactly `scoreRows` accounts: tonight's features, repeated as needed
    const n = (await one<{n: number}>(w.conn, "SELECT count(*) AS n FROM marts.mart_customer_churn_features")).n;
    const reps = Math.ceil(scoreRows / n);
    await w.conn.run(
      `CREATE OR REPLACE TEMP TABLE bench_rows AS SELECT * REPLACE (customer_id || '-' || r AS customer_id) FROM marts.mart_customer_churn_features, range(${reps}) t(r) LIMIT ${scoreRows}`,
    );
    t0 = performance.now();
    const s = await scoreRelation(w.conn, model, "bench_rows");
    const scoreWithShapSeconds = (performance.now() - t0) / 1000;
    await model.scorer.release();
    const c = trained.card;
    return {
      trainSeconds,
      rocAuc: c.metrics.roc_auc,
      baselineRocAuc: c.baseline.metrics.roc_auc,
      truthAuc: c.truth_auc,
      ece: c.metrics.ece,
      trees: trained.gbt.trees.length,
      scoredAccounts: s.ids.length,
      scoreWithShapSeconds,
      accountsPerSecond: s.ids.length / scoreWithShapSeconds,
      expansion,
      horizon,
    };
  } finally {
    w.close();
    rmSync(dir, {recursive: true, force: true});
  }
}
