// The executive brief of the home page (loaders/brief/): tonight's brief since the previous build
// and since the last weekly digest, the accounts it names and the digests sent so far. Columns
// are named (no contact data); a warehouse built before the brief gives {available: false}.
import {withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

const brief = await withWarehouse(async (w) => {
  const {n} = await w.row<{n: number}>(
    `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = 'mart_portfolio_brief'`,
  );
  if (!n) return {available: false};
  const periods = await w.rows(`
    SELECT period, as_of_date, baseline_as_of, has_baseline, days_covered, accounts, total_arr, arr_at_risk, at_risk_accounts,
           arr_at_risk_change, entered_at_risk_accounts, renewals_entering, renewal_window_days, digest_due,
           headline, summary, key_points, recommended_actions, generator, llm_model, guardrail_passed, fallback_reason, watermark
    FROM marts.mart_portfolio_brief ORDER BY period_order`);
  const accounts = await w.rows(`
    SELECT period, list, rank, customer_id, company_name, risk_tier, baseline_risk_tier, health_score, baseline_health_score,
           arr, arr_at_risk, arr_at_risk_change, days_to_renewal, renewal_date
    FROM marts.mart_portfolio_brief_accounts ORDER BY period, list, rank`);
  const digests = await w.rows(`
    SELECT as_of_date, baseline_as_of, generator FROM marts.mart_brief_digests ORDER BY as_of_date DESC LIMIT 8`);
  return {available: true, periods, accounts, digests};
});

writeJson(brief);
