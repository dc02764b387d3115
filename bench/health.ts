/**
 * Health-score benchmark on a built warehouse: the hand-set score the project shipped before
 * `npm run health:tune` (bench/health-score.hand-set.json) against the score the tuner fits on
 * this data, on the churn model's test cutoffs — ROC-AUC and the share of churned accounts
 * scored healthy per cutoff — with the churn model's AUC and its churned-scored-Low share beside.
 */
import {fileURLToPath} from "node:url";
import {readFileSync} from "node:fs";
import {config} from "../src/rules/config.ts";
import {parseHealthScore} from "../src/rules/health-score.ts";
import {attachWarehouse} from "../loaders/cli/train.ts";
import {lit} from "../loaders/duckdb.ts";
import {measuredComponents, tuneHealthScore} from "../loaders/health/tune.ts";
import {loadModel} from "../loaders/model/registry.ts";
import {rocAuc} from "../loaders/model/evaluation.ts";
import {scoreRelation} from "../loaders/score.ts";

const HAND_SET = fileURLToPath(new URL("./health-score.hand-set.json", import.meta.url));

export interface HealthFigures {
  tuneSeconds: number;
  perCutoff: {
    cutoff: string;
    churned: number;
    before: {auc: number; churnedHealthyShare: number};
    after: {auc: number; churnedHealthyShare: number};
    model: {auc: number; churnedLowShare: number};
  }[];
  stability: {before: number; after: number};
  greenShareAfter: number;
}

export async function benchHealth(warehouse: string, modelsDir: string): Promise<HealthFigures> {
  const handSet = parseHealthScore(readFileSync(HAND_SET, "utf8"), HAND_SET);
  const {w, asOf} = await attachWarehouse(warehouse);
  try {
    const t0 = performance.now();
    const r = await tuneHealthScore(w.conn, handSet, await measuredComponents(w.conn), {asOf});
    const tuneSeconds = (performance.now() - t0) / 1000;
    const model = await loadModel(modelsDir);
    const lowBelow = Math.min(...config.modelTiers.filter((t) => t.minProbability > 0).map((t) => t.minProbability));
    const perCutoff: HealthFigures["perCutoff"] = [];
    for (const c of r.perCutoff) {
      const s = await scoreRelation(
        w.conn,
        model,
        `(SELECT * FROM marts.model_training_snapshots WHERE as_of_date = DATE ${lit(c.cutoff)})`,
        ["churned_90d"],
        false,
      );
      const y: number[] = (s.extra.churned_90d as boolean[]).map((b) => (b ? 1 : 0));
      const churned = y.reduce((a: number, b) => a + b, 0);
      const low = y.filter((v, i) => v && s.probability[i]! < lowBelow).length;
      perCutoff.push({
        cutoff: c.cutoff,
        churned: c.current.churned,
        before: {auc: c.current.auc, churnedHealthyShare: c.current.churnedHealthyShare},
        after: {auc: c.proposed.auc, churnedHealthyShare: c.proposed.churnedHealthyShare},
        model: {auc: rocAuc(y, s.probability), churnedLowShare: low / churned},
      });
    }
    const green = r.perCutoff.reduce((a, c) => a + c.proposed.mix.Low / c.accounts, 0) / r.perCutoff.length;
    return {
      tuneSeconds,
      perCutoff,
      stability: {before: r.stability.current, after: r.stability.proposed},
      greenShareAfter: green,
    };
  } finally {
    w.close();
  }
}
