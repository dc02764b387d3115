// Renewal forecast: the retention forecast's quarters, cells and movers (marts.mart_renewal_forecast,
// loaders/forecast.ts), the CSMs' calls beside the model (marts.mart_renewal_calls) and the churn
// horizon model's back-test, and the forecast's record on closed quarters, pre-aggregated (a few
// tens of KB).
import {withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

writeJson(
  await withWarehouse(async (w) => ({
    build: await w.row(`SELECT built_at, as_of, source, customers FROM marts.build_info`),
    // why there is no forecast tonight (too little history for the churn horizon model), else null
    missing: (await w.row<{missing: string | null}>(`SELECT missing FROM marts.horizon_model_card`)).missing,
    quarters: await w.rows(
      `SELECT quarter, label, first_day, last_day, runs::INTEGER AS runs, tau FROM marts.forecast_quarters ORDER BY quarter`,
    ),
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
    // the CSMs' calls beside the model's churn before each renewal (the notes stay in the store)
    calls: await w.rows(`
      SELECT outlook_quarter AS quarter, count(*)::INTEGER AS renewals, sum(arr) AS arr,
             count(call)::INTEGER AS called, coalesce(sum(arr) FILTER (WHERE call IS NOT NULL), 0) AS called_arr,
             coalesce(sum(arr) FILTER (WHERE call = 'commit'), 0) AS commit_arr, coalesce(sum(arr) FILTER (WHERE call = 'likely'), 0) AS likely_arr,
             coalesce(sum(arr) FILTER (WHERE call = 'at_risk'), 0) AS at_risk_arr, coalesce(sum(arr) FILTER (WHERE call = 'lost'), 0) AS lost_arr,
             coalesce(sum(arr * churn_before_renewal) FILTER (WHERE call IS NOT NULL), 0) AS model_churn_called_arr,
             count(*) FILTER (WHERE disagreement IS NOT NULL)::INTEGER AS disagreements,
             count(*) FILTER (WHERE call_due)::INTEGER AS due
      FROM marts.mart_renewal_calls GROUP BY ALL ORDER BY quarter`),
    disagreements: await w.rows(`
      SELECT c.customer_id, r.company_name, c.csm_owner, c.renewal_date, c.outlook_quarter AS quarter, c.arr, c.call,
             c.churn_before_renewal, c.disagreement, c.called_by, c.called_at
      FROM marts.mart_renewal_calls c JOIN marts.mart_customer_risk_scores r USING (customer_id)
      WHERE c.disagreement IS NOT NULL ORDER BY c.arr * c.churn_before_renewal DESC, c.customer_id`),
    // the record: each quarter-start forecast of a closed quarter against what happened and a naive
    // forecast (loaders/forecast-record.ts) — the portfolio's rows, and the summary over every cell
    record: await w.rows(`
      SELECT made_on, quarter_label, quarters_ahead, backfilled, grr_p05, grr_p10, grr_p25, grr_p50, grr_p75, grr_p90, grr_p95,
             nrr_p05, nrr_p10, nrr_p25, nrr_p50, nrr_p75, nrr_p90, nrr_p95, actual_grr, actual_nrr, naive_grr, naive_nrr
      FROM marts.forecast_accuracy WHERE group_kind = 'portfolio' ORDER BY quarters_ahead, made_on`),
    recordSummary: await w.rows(`FROM marts.forecast_accuracy_summary ORDER BY cut, value`),
    horizonBacktest: await w.rows(`
      SELECT cutoff, months, accounts, predicted, observed, auc, churn_model_predicted, churn_model_auc
      FROM marts.horizon_backtest ORDER BY cutoff, months`),
  })),
);
