-- The accounts the executive brief names, per period and list, ranked (loaders/brief/):
--   entered_at_risk  entered an at-risk tier (riskiest tier first, then ARR at risk)
--   worsened         the biggest rises of ARR at risk (config.brief.movers)
--   improved         the biggest falls of ARR at risk (config.brief.movers)
--   renewal_window   renewals that entered the renewal window (at-risk first, then ARR)
-- Lists other than the movers name at most config.brief.listAccounts accounts; the brief counts
-- the rest (marts.mart_portfolio_brief). Movers are accounts active both then and now.
CREATE OR REPLACE TABLE marts.mart_portfolio_brief_accounts AS
WITH c AS (SELECT * FROM int_brief_comparison WHERE active_now),
listed AS (
  SELECT 'entered_at_risk' AS list, row_number() OVER (PARTITION BY period ORDER BY tier_rank DESC, arr_at_risk DESC, customer_id) AS rank, *
  FROM c WHERE entered_at_risk
  UNION ALL BY NAME
  SELECT 'worsened' AS list, row_number() OVER (PARTITION BY period ORDER BY arr_at_risk_change DESC, customer_id) AS rank, *
  FROM c WHERE in_baseline AND arr_at_risk_change > 0
  UNION ALL BY NAME
  SELECT 'improved' AS list, row_number() OVER (PARTITION BY period ORDER BY arr_at_risk_change, customer_id) AS rank, *
  FROM c WHERE in_baseline AND arr_at_risk_change < 0
  UNION ALL BY NAME
  SELECT 'renewal_window' AS list, row_number() OVER (PARTITION BY period ORDER BY at_risk DESC, arr DESC, customer_id) AS rank, *
  FROM c WHERE entered_renewal_window
)
SELECT period, list, CAST(rank AS INTEGER) AS rank, customer_id, company_name, risk_tier, baseline_risk_tier,
       health_score, baseline_health_score, arr, baseline_arr, round(arr_at_risk) AS arr_at_risk, round(baseline_arr_at_risk) AS baseline_arr_at_risk,
       arr_at_risk_change, days_to_renewal, renewal_date, has_open_renewal_opp, top_risk_drivers
FROM listed
WHERE rank <= CASE WHEN list IN ('worsened', 'improved') THEN getvariable('brief_movers') ELSE getvariable('brief_list_accounts') END
ORDER BY period, list, rank;
