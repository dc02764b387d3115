// Renewal forecast: the retention forecast's quarters, cells and movers (marts.mart_renewal_forecast,
// loaders/forecast.ts) and the churn horizon model's back-test, pre-aggregated (a few tens of KB).
import {withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

writeJson(
  await withWarehouse(async (w) => ({
    build: await w.row(`SELECT built_at, as_of, source, customers FROM marts.build_info`),
    quarters: await w.rows(`SELECT quarter, label, first_day, last_day FROM marts.forecast_quarters ORDER BY quarter`),
    cells: await w.rows(`
      SELECT quarter, group_kind, group_value, accounts, start_arr, renewals_due, renewal_arr_due,
             expected_churn_arr, expected_contraction_arr, expected_expansion_arr, grr_expected, nrr_expected,
             grr_p05, grr_p10, grr_p25, grr_p50, grr_p75, grr_p90, grr_p95,
             nrr_p05, nrr_p10, nrr_p25, nrr_p50, nrr_p75, nrr_p90, nrr_p95
      FROM marts.mart_renewal_forecast ORDER BY group_kind, group_value, quarter`),
    movers: await w.rows(`
      SELECT m.quarter, m.rank, m.customer_id, r.company_name, r.plan_tier, r.csm_owner, m.arr,
             m.churn_probability, m.expected_churn_arr, m.variance_share, h.churn_before_renewal, r.renewal_date
      FROM marts.mart_forecast_movers m JOIN marts.mart_customer_risk_scores r USING (customer_id)
      JOIN marts.mart_churn_horizons h USING (customer_id) ORDER BY m.quarter, m.rank`),
    horizonBacktest: await w.rows(`
      SELECT cutoff, months, accounts, predicted, observed, auc, churn_model_predicted, churn_model_auc
      FROM marts.horizon_backtest ORDER BY cutoff, months`),
  })),
);
