// Model and score quality: the model card plus back-test figures computed from the warehouse
// (calibration and lift by decile, metrics per cutoff, drift, and the health-score back-test).
import {config} from "../rules/config.ts";
import {modelCard, withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

/** AUC (Mann–Whitney, ties at average rank) of `score` against `label`, per cutoff. */
const aucSql = (score: string) => `
  WITH r AS (
    SELECT cutoff_date, label,
           rank() OVER (PARTITION BY cutoff_date ORDER BY ${score}) + (count(*) OVER (PARTITION BY cutoff_date, ${score}) - 1) / 2.0 AS rk
    FROM marts.model_backtest_predictions)
  SELECT cutoff_date,
         (sum(rk) FILTER (WHERE label) - count(*) FILTER (WHERE label) * (count(*) FILTER (WHERE label) + 1) / 2.0)
           / nullif(count(*) FILTER (WHERE label) * count(*) FILTER (WHERE NOT label), 0) AS auc
  FROM r GROUP BY cutoff_date`;

writeJson(
  await withWarehouse(async (w) => {
    const build = await w.row(`SELECT built_at, as_of, source, customers FROM marts.build_info`);
    // the card of the model that scored this warehouse
    const card = await modelCard(w);
    // "scored healthy": below the lowest band that is not Green (rule score) / not Low (model)
    const healthyBelow = `(SELECT min(min_score) FROM cfg.risk_tiers WHERE colour <> 'Green')`;
    const lowBelow = `(SELECT min(min_probability) FROM cfg.model_tiers WHERE min_probability > 0)`;
    const perCutoff = await w.rows(`
      WITH m AS (${aucSql("probability")}), h AS (${aucSql("risk_score")})
      SELECT b.cutoff_date,
             count(*)::INTEGER AS accounts,
             count(*) FILTER (WHERE label)::INTEGER AS churned,
             avg(label::INTEGER) AS churn_rate,
             avg(probability) AS mean_predicted,
             avg((probability - label::INTEGER) ^ 2) AS brier,
             any_value(m.auc) AS model_auc,
             any_value(h.auc) AS health_auc,
             count(*) FILTER (WHERE label AND risk_score < ${healthyBelow})::INTEGER AS churned_scored_healthy,
             count(*) FILTER (WHERE label AND probability < ${lowBelow})::INTEGER AS churned_scored_low
      FROM marts.model_backtest_predictions b JOIN m USING (cutoff_date) JOIN h USING (cutoff_date)
      GROUP BY b.cutoff_date ORDER BY b.cutoff_date`);
    const deciles = await w.rows(`
      WITH d AS (SELECT *, ntile(10) OVER (ORDER BY probability DESC) AS decile FROM marts.model_backtest_predictions)
      SELECT decile::INTEGER AS decile, count(*)::INTEGER AS accounts, avg(probability) AS mean_predicted,
             avg(label::INTEGER) AS observed_rate, count(*) FILTER (WHERE label)::INTEGER AS churned
      FROM d GROUP BY decile ORDER BY decile`);
    const thresholds = await w.row(`SELECT ${healthyBelow} AS healthy_below, ${lowBelow} AS low_below`);
    const drift = await w.rows(
      `SELECT decile::INTEGER AS decile, n::INTEGER AS n, predicted, observed FROM marts.model_drift ORDER BY decile`,
    );
    // the weights the health score scores with here: configured, or 0 and spread when not measured
    const healthWeights = await w.rows(`
      SELECT label, needs, measured, configured_weight, weight FROM marts.int_score_weights
      WHERE score = 'health' AND segment IS NULL ORDER BY configured_weight DESC, label`);
    // the segments with weights of their own, and those left on the global weights for too little history
    const healthSegments = await w.rows(
      `SELECT segment_by, segment, churned, own_weights, min_churned FROM cfg.health_segments ORDER BY segment`,
    );
    // how steady each score's tier is month to month (marts.mart_tier_stability)
    const stability = await w.rows(`
      SELECT score, as_of_date, accounts, changed_tier, change_rate FROM marts.mart_tier_stability ORDER BY as_of_date, score`);
    // the assistant's weekly accuracy and guardrail pass share (marts.mart_assistant_quality, read
    // from the operational store by the build): the last config.assistant.weeksShown weeks
    const assistant = await w.rows(`
      SELECT strftime(week, '%Y-%m-%d') AS week, generator, audience, made, guardrail_passed, rated, accurate,
             guardrail_pass_share, accuracy
      FROM marts.mart_assistant_quality
      WHERE week > (SELECT as_of FROM marts.build_info) - INTERVAL ${config.assistant.weeksShown * 7} DAY
      ORDER BY week, generator, audience`);
    return {
      build,
      card,
      backtest: {perCutoff, deciles, thresholds},
      drift,
      healthWeights,
      healthSegments,
      stability,
      assistant,
    };
  }),
);
