// Executive overview: every figure of the home page in one small JSON file (no DuckDB in the
// browser), plus the same figures from the previously published build for "change since".
import {readFile, readdir} from "node:fs/promises";
import path from "node:path";
import {withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

/** Version of this file's shape; a previous build's summary is compared only when it matches. */
const SCHEMA = 2;

/** The published site the current build will replace (SAASGUARD_SITE_OUT minus temp suffixes). */
async function previousSummary(): Promise<unknown> {
  const out = process.env.SAASGUARD_PREVIOUS_SITE ?? process.env.SAASGUARD_SITE_OUT?.replace(/(\.tmp-\d+)+$/, "");
  if (!out) return null;
  const dir = path.join(out, "_file", "data");
  const names = await readdir(dir).catch(() => [] as string[]);
  const file = names.find((n) => /^exec_summary\.[0-9a-f]+\.json$/.test(n));
  if (!file) return null;
  try {
    const prev = JSON.parse(await readFile(path.join(dir, file), "utf-8")) as {
      schema?: number;
      build?: unknown;
      current?: unknown;
    };
    return prev.schema === SCHEMA ? {build: prev.build, current: prev.current} : null;
  } catch {
    return null;
  }
}

const summary = await withWarehouse(async (w) => {
  const build = await w.row(`SELECT built_at, as_of, source, customers FROM marts.build_info`);
  const kpis = await w.row(`
    SELECT active_customers::INTEGER AS active_customers, total_arr, arr_at_risk,
           high_critical_customers::INTEGER AS high_critical_customers, high_critical_arr, avg_health_score,
           customers_12m_ago::INTEGER AS customers_12m_ago, logo_churn_rate_12m, grr_12m, nrr_12m
    FROM marts.mart_portfolio_kpis`);
  // expected churn over the next 90 days: each account churns with its calibrated probability p,
  // independently; the mean is Σp (accounts) and Σp·ARR, the variance Σp(1−p) and Σp(1−p)·ARR²
  const expected = await w.row(`
    SELECT sum(churn_probability) AS customers_mean, sum(churn_probability * (1 - churn_probability)) AS customers_variance,
           sum(churn_probability * arr) AS arr_mean, sum(churn_probability * (1 - churn_probability) * arr * arr) AS arr_variance
    FROM marts.mart_customer_risk_scores`);
  const tiers = await w.rows(`
    SELECT 'health' AS basis, risk_tier AS tier, count(*)::INTEGER AS accounts, sum(arr) AS arr, sum(churn_probability * arr) AS expected_arr
    FROM marts.mart_customer_risk_scores GROUP BY ALL
    UNION ALL SELECT 'model', model_tier, count(*)::INTEGER, sum(arr), sum(churn_probability * arr) FROM marts.mart_customer_risk_scores GROUP BY ALL
    ORDER BY basis, tier`);
  const plans = await w.rows(`
    SELECT plan_tier, model_tier AS tier, count(*)::INTEGER AS accounts, sum(arr) AS arr
    FROM marts.mart_customer_risk_scores GROUP BY ALL ORDER BY ALL`);
  const churnMonthly = await w.rows(`
    SELECT month, churned_customers::INTEGER AS churned_customers, churned_arr
    FROM marts.mart_churn_monthly
    WHERE month > (SELECT as_of FROM marts.build_info) - INTERVAL 24 MONTH ORDER BY month`);
  const topAccounts = await w.rows(`
    SELECT customer_id, company_name, plan_tier, model_tier AS tier, arr, churn_probability AS churn_probability,
           churn_probability * arr AS expected_arr, days_to_renewal
    FROM marts.mart_customer_risk_scores ORDER BY expected_arr DESC, customer_id LIMIT 8`);
  return {
    schema: SCHEMA,
    build,
    current: {...kpis, expected},
    tiers,
    plans,
    churnMonthly,
    topAccounts,
  };
});

writeJson({...summary, previous: await previousSummary()});
