-- Every weekly digest of the executive brief ever raised (carried from the previous warehouse,
-- like mart_alert_history), plus tonight's when marts.mart_portfolio_brief says one is due.
-- loaders/alerts/enqueue.ts sends tonight's row to the alert targets; digest_id is stable for
-- one week's digest (its date and the week it covers), so a re-run never sends it twice.
CREATE OR REPLACE TABLE marts.mart_brief_digests AS
SELECT digest_id, as_of_date, baseline_as_of, headline, summary, key_points, recommended_actions, text, generator, watermark,
       accounts, arr_at_risk, arr_at_risk_change, entered_at_risk_accounts, renewals_entering
FROM prev_brief_digests
UNION ALL
SELECT md5(concat_ws('|', 'weekly_brief', as_of_date, baseline_as_of)), as_of_date, baseline_as_of, headline, summary, key_points,
       recommended_actions, text, generator, watermark, accounts, arr_at_risk, arr_at_risk_change, entered_at_risk_accounts, renewals_entering
FROM marts.mart_portfolio_brief
WHERE period = 'week' AND digest_due
ORDER BY as_of_date;
