// Risk Drill-Down: the watermelon report — accounts on which the health score and the churn model
// disagree tonight (marts.mart_score_disagreements) and which view was right on the back-test
// cutoffs (marts.mart_score_disagreement_backtest).
import {withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

writeJson(
  await withWarehouse(async (w) => ({
    accounts: await w.rows(`
      SELECT customer_id, company_name, csm_owner, plan_tier, arr, disagreement, health_score, risk_tier,
             top_risk_drivers, churn_probability, model_tier, model_top_drivers, expected_arr_loss_90d
      FROM marts.mart_score_disagreements ORDER BY disagreement DESC, expected_arr_loss_90d DESC, customer_id`),
    // what the page calls each health-score component (the drivers are component ids)
    componentLabels: Object.fromEntries(
      (await w.rows(`SELECT component_id, label FROM cfg.health_components`)).map((r) => [r.component_id, r.label]),
    ),
    backtest: await w.rows(`
      SELECT disagreement, accounts, churned, churn_rate, first_cutoff, last_cutoff
      FROM marts.mart_score_disagreement_backtest`),
  })),
);
