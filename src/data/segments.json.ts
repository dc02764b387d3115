// Churn Heatmap: plan tier × industry risk concentration and the portfolio's score
// distribution, pre-aggregated (a few KB) so the page needs no DuckDB in the browser.
import {withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

writeJson(
  await withWarehouse(async (w) => {
    return {
      build: await w.row(`SELECT built_at, as_of, source, customers FROM marts.build_info`),
      kpis: await w.row(`
        SELECT active_customers::INTEGER AS active_customers, total_arr, arr_at_risk,
               high_critical_customers::INTEGER AS high_critical_customers, high_critical_arr,
               avg_health_score, logo_churn_rate_12m
        FROM marts.mart_portfolio_kpis`),
      segments: await w.rows(`
        SELECT plan_tier, industry, customers::INTEGER AS customers, arr, avg_risk_score,
               high_critical_customers::INTEGER AS high_critical_customers, high_critical_arr, arr_at_risk,
               churned_12m::INTEGER AS churned_12m, churn_rate_12m
        FROM marts.mart_segment_risk ORDER BY plan_tier, industry`),
      tiers: await w.rows(`
        SELECT plan_tier, risk_tier AS tier, count(*)::INTEGER AS accounts, sum(arr) AS arr, sum(arr_at_risk) AS arr_at_risk
        FROM marts.mart_customer_risk_scores GROUP BY ALL ORDER BY ALL`),
      // 0–100 risk score in 2.5-point bins, by tier
      scoreHistogram: await w.rows(`
        SELECT least(floor(risk_score / 2.5) * 2.5, 97.5) AS x0, risk_tier AS tier, count(*)::INTEGER AS accounts
        FROM marts.mart_customer_risk_scores GROUP BY ALL ORDER BY ALL`),
      // calibrated churn probability in 2.5-point bins, by model tier
      probabilityHistogram: await w.rows(`
        SELECT least(floor(churn_probability * 40) / 40, 0.975) AS x0, model_tier AS tier, count(*)::INTEGER AS accounts
        FROM marts.mart_customer_risk_scores GROUP BY ALL ORDER BY ALL`),
    };
  }),
);
