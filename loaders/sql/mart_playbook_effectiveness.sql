-- Does working a playbook's CTAs prevent churn? Per playbook and play tier, per playbook over
-- every tier (play_tier 'all'), and over every playbook ('all', 'all'): the CTAs whose churn
-- horizon has passed (int_cta_outcomes), those CSMs worked against those held out at raise
-- (never shown to anyone: config.playbooks.measurement.holdoutShare).
--
--   churn_reduction      churn rate of the held-out CTAs − churn rate of the worked ones (the
--                        share of accounts a worked CTA keeps; positive = the play helps)
--   effectiveness        1 − worked ÷ held out: the share of expected churn prevented — what the
--                        Uplift Simulator and the capacity queue multiply by
--   itt_churn_reduction  every CTA not held out (worked or not) against the held-out ones: the
--                        effect of raising the CTA as the team works them. It needs no
--                        assumption about which CTAs CSMs chose to work; worked vs held out
--                        assumes they did not pick them by how likely the account was to stay.
--   arr_retention_*      the average CTA's ARR at the horizon's end ÷ its ARR at raise (0 churned)
--
-- Intervals at interval_level (config.playbooks.measurement.intervalLevel). Churn intervals are
-- Agresti–Caffo: one churned and one retained CTA added to each arm, then the normal
-- approximation — near-nominal coverage even for small arms and rare churn (Agresti & Caffo
-- 2000) — widened by the design effect where an account has several CTAs (they share its one
-- churn); effectiveness's is the same on the log of the risk ratio; ARR retention's uses the
-- account-level variance. The test measures coverage against the synthetic portfolio's true
-- effects (tests/effectiveness.test.ts).
--
-- Holdouts are drawn within play tier × plan tier, and CSMs may work one tier's CTAs more than
-- another's, so a row over several tiers compares like with like: each tier's rates are
-- weighted by its CTAs (direct standardisation), over the tiers that have both arms; for one
-- tier these are the plain rates. enough_data is false, with a note saying how far along it is,
-- until both arms have config.playbooks.measurement.minPerArm matured CTAs.

-- The design effect of an arm whose n CTAs come from several accounts: the cluster-robust
-- variance of its churn rate p, Σ(y − p·k)²/n² over accounts (y churned of k CTAs; the sums yy, yk,
-- kk), over the binomial p(1−p)/n. Exactly 1 when every CTA has an account of its own; never
-- below 1, so an interval is never narrower than Agresti–Caffo's.
CREATE OR REPLACE MACRO marts.int_design_effect(yy, yk, kk, p, n) AS
  greatest(1, coalesce((yy - 2 * p * yk + p ^ 2 * kk) / nullif(n * p * (1 - p), 0), 1));

CREATE OR REPLACE TABLE marts.mart_playbook_effectiveness AS
WITH accounts AS (
  -- one row per account and tier: an account's CTAs share its one churn, so they count as a cluster
  SELECT playbook_id, play_tier, customer_id,
    count(*) AS k_all,
    count(*) FILTER (worked) AS k_w, count(*) FILTER (worked AND churned) AS y_w, sum(arr_retention) FILTER (worked) AS r_w,
    count(*) FILTER (holdout) AS k_h, count(*) FILTER (holdout AND churned) AS y_h, sum(arr_retention) FILTER (holdout) AS r_h,
    count(*) FILTER (NOT holdout) AS k_t, count(*) FILTER (NOT holdout AND churned) AS y_t
  FROM int_cta_outcomes GROUP BY ALL
),
strata AS (
  -- per tier and arm: CTAs (n), churned (x), accounts (c), and the sums the account-level variances need
  SELECT playbook_id, play_tier, sum(k_all) AS n_all,
    sum(k_w) AS n_w, sum(y_w) AS x_w, count(*) FILTER (k_w > 0) AS c_w, sum(k_w ^ 2) AS kk_w, sum(y_w * k_w) AS yk_w, sum(y_w ^ 2) AS yy_w,
    sum(k_h) AS n_h, sum(y_h) AS x_h, count(*) FILTER (k_h > 0) AS c_h, sum(k_h ^ 2) AS kk_h, sum(y_h * k_h) AS yk_h, sum(y_h ^ 2) AS yy_h,
    sum(k_t) AS n_t, sum(y_t) AS x_t, sum(k_t ^ 2) AS kk_t, sum(y_t * k_t) AS yk_t, sum(y_t ^ 2) AS yy_t,
    sum(r_w) AS sum_r_w, sum(r_w ^ 2) AS rr_w, sum(r_w * k_w) AS rk_w,
    sum(r_h) AS sum_r_h, sum(r_h ^ 2) AS rr_h, sum(r_h * k_h) AS rk_h
  FROM accounts GROUP BY ALL
),
rates AS (
  SELECT *, x_w / nullif(n_w, 0) AS p_w, x_h / nullif(n_h, 0) AS p_h, x_t / nullif(n_t, 0) AS p_t,
    sum_r_w / nullif(n_w, 0) AS r_w, sum_r_h / nullif(n_h, 0) AS r_h
  FROM strata
),
arms AS (
  -- per tier: raw rates, Agresti–Caffo rates (a_*) and their variances (v_*). Several CTAs of one
  -- account are not independent: a variance is multiplied by its design effect (the
  -- account-level, cluster-robust variance over the binomial one) when that is above 1.
  SELECT playbook_id, play_tier, n_all, n_w, x_w, n_h, x_h, n_t, x_t, p_w, p_h, p_t, r_w, r_h,
    n_w > 0 AND n_h > 0 AS compared, n_t > 0 AND n_h > 0 AS itt_compared,
    (x_w + 1) / (n_w + 2) AS a_w, (x_h + 1) / (n_h + 2) AS a_h, (x_t + 1) / (n_t + 2) AS a_t,
    (x_w + 1) * (n_w + 1 - x_w) / (n_w + 2) ^ 3 * marts.int_design_effect(yy_w, yk_w, kk_w, p_w, n_w) AS v_w,
    (x_h + 1) * (n_h + 1 - x_h) / (n_h + 2) ^ 3 * marts.int_design_effect(yy_h, yk_h, kk_h, p_h, n_h) AS v_h,
    (x_t + 1) * (n_t + 1 - x_t) / (n_t + 2) ^ 3 * marts.int_design_effect(yy_t, yk_t, kk_t, p_t, n_t) AS v_t,
    -- ARR retention: the account-level variance of each arm's mean (none from a single account)
    (rr_w - 2 * r_w * rk_w + r_w ^ 2 * kk_w) / n_w ^ 2 * c_w / nullif(c_w - 1, 0) AS rv_w,
    (rr_h - 2 * r_h * rk_h + r_h ^ 2 * kk_h) / n_h ^ 2 * c_h / nullif(c_h - 1, 0) AS rv_h
  FROM rates
),
groups AS (
  SELECT
    CASE WHEN grouping(playbook_id) = 1 THEN 'all' ELSE playbook_id END AS playbook_id,
    CASE WHEN grouping(play_tier) = 1 THEN 'all' ELSE play_tier END AS play_tier,
    CAST(sum(n_all) AS BIGINT) AS ctas_matured,
    -- worked vs held out (tiers with both arms)
    sum(n_all) FILTER (compared) AS w,
    CAST(sum(n_w) FILTER (compared) AS BIGINT) AS n_worked, CAST(sum(x_w) FILTER (compared) AS BIGINT) AS churned_worked,
    CAST(sum(n_h) FILTER (compared) AS BIGINT) AS n_holdout, CAST(sum(x_h) FILTER (compared) AS BIGINT) AS churned_holdout,
    sum(n_all * p_w) FILTER (compared) AS sp_w, sum(n_all * p_h) FILTER (compared) AS sp_h,
    sum(n_all * a_w) FILTER (compared) AS sa_w, sum(n_all * a_h) FILTER (compared) AS sa_h,
    sum(n_all ^ 2 * v_w) FILTER (compared) AS sv_w, sum(n_all ^ 2 * v_h) FILTER (compared) AS sv_h,
    -- ARR retention; its interval needs a variance in every tier's arms (two CTAs or more)
    sum(n_all * r_w) FILTER (compared) AS sr_w, sum(n_all * r_h) FILTER (compared) AS sr_h,
    sum(n_all ^ 2 * (rv_w + rv_h)) FILTER (compared) AS srv,
    bool_and(rv_w IS NOT NULL AND rv_h IS NOT NULL) FILTER (compared) AS retention_measurable,
    -- intention to treat: not held out vs held out (tiers with both arms)
    sum(n_all) FILTER (itt_compared) AS w_itt,
    CAST(sum(n_t) FILTER (itt_compared) AS BIGINT) AS n_not_held_out, CAST(sum(x_t) FILTER (itt_compared) AS BIGINT) AS churned_not_held_out,
    sum(n_all * p_t) FILTER (itt_compared) AS sp_t, sum(n_all * p_h) FILTER (itt_compared) AS sp_h_itt,
    sum(n_all * (a_h - a_t)) FILTER (itt_compared) AS sd_itt,
    sum(n_all ^ 2 * (v_t + v_h)) FILTER (itt_compared) AS sv_itt
  FROM arms
  GROUP BY GROUPING SETS ((playbook_id, play_tier), (playbook_id), ())
),
frame AS (
  -- every playbook a CTA rule raises, and all of them together: a row even before any outcome matured
  SELECT DISTINCT playbook_id, 'all' AS play_tier FROM cfg.cta_rules
  UNION SELECT 'all', 'all'
  UNION SELECT playbook_id, play_tier FROM groups WHERE ctas_matured > 0
),
measured AS (
  SELECT f.playbook_id, f.play_tier, coalesce(pb.playbook, 'All playbooks') AS playbook, pb.holdout_share,
    coalesce(g.ctas_matured, 0) AS ctas_matured,
    coalesce(g.n_worked, 0) AS n_worked, coalesce(g.churned_worked, 0) AS churned_worked, g.sp_w / g.w AS churn_rate_worked,
    coalesce(g.n_holdout, 0) AS n_holdout, coalesce(g.churned_holdout, 0) AS churned_holdout, g.sp_h / g.w AS churn_rate_holdout,
    (g.sp_h - g.sp_w) / g.w AS churn_reduction,
    (g.sa_h - g.sa_w) / g.w AS ac_centre, sqrt(g.sv_w + g.sv_h) / g.w AS ac_se,
    1 - g.sp_w / nullif(g.sp_h, 0) AS effectiveness,
    ln(g.sa_w / g.sa_h) AS log_rr, sqrt(g.sv_w / g.sa_w ^ 2 + g.sv_h / g.sa_h ^ 2) AS log_rr_se,
    g.sr_w / g.w AS arr_retention_worked, g.sr_h / g.w AS arr_retention_holdout,
    CASE WHEN g.retention_measurable THEN sqrt(g.srv) / g.w END AS retention_se,
    coalesce(g.n_not_held_out, 0) AS n_not_held_out, coalesce(g.churned_not_held_out, 0) AS churned_not_held_out,
    g.sp_t / g.w_itt AS churn_rate_not_held_out,
    (g.sp_h_itt - g.sp_t) / g.w_itt AS itt_churn_reduction,
    g.sd_itt / g.w_itt AS itt_centre, sqrt(g.sv_itt) / g.w_itt AS itt_se
  FROM frame f
  LEFT JOIN groups g USING (playbook_id, play_tier)
  LEFT JOIN cfg.playbooks pb USING (playbook_id)
)
SELECT
  playbook_id, playbook, play_tier, holdout_share, ctas_matured,
  n_worked, churned_worked, churn_rate_worked,
  n_holdout, churned_holdout, churn_rate_holdout,
  churn_reduction,
  ac_centre - getvariable('effect_z') * ac_se AS churn_reduction_lo,
  ac_centre + getvariable('effect_z') * ac_se AS churn_reduction_hi,
  effectiveness,
  1 - exp(log_rr + getvariable('effect_z') * log_rr_se) AS effectiveness_lo,
  1 - exp(log_rr - getvariable('effect_z') * log_rr_se) AS effectiveness_hi,
  n_not_held_out, churned_not_held_out, churn_rate_not_held_out,
  itt_churn_reduction,
  itt_centre - getvariable('effect_z') * itt_se AS itt_churn_reduction_lo,
  itt_centre + getvariable('effect_z') * itt_se AS itt_churn_reduction_hi,
  arr_retention_worked, arr_retention_holdout,
  arr_retention_worked - arr_retention_holdout AS arr_retention_gain,
  arr_retention_worked - arr_retention_holdout - getvariable('effect_z') * retention_se AS arr_retention_gain_lo,
  arr_retention_worked - arr_retention_holdout + getvariable('effect_z') * retention_se AS arr_retention_gain_hi,
  getvariable('effect_interval_level') AS interval_level,
  n_worked >= getvariable('effect_min_per_arm') AND n_holdout >= getvariable('effect_min_per_arm') AS enough_data,
  CASE
    WHEN holdout_share = 0 AND n_holdout = 0
      THEN 'not measured: this playbook holds no CTAs out (config.playbooks.measurement.holdoutShare)'
    WHEN n_worked >= getvariable('effect_min_per_arm') AND n_holdout >= getvariable('effect_min_per_arm')
      THEN printf('measured on %d worked and %d held-out CTAs whose %d-day horizon has passed', n_worked, n_holdout, getvariable('churn_horizon_days'))
    ELSE 'not enough data yet: ' || concat_ws(' and ',
           CASE WHEN n_holdout < getvariable('effect_min_per_arm') THEN printf('%d of %d held-out', n_holdout, getvariable('effect_min_per_arm')) END,
           CASE WHEN n_worked < getvariable('effect_min_per_arm') THEN printf('%d of %d worked', n_worked, getvariable('effect_min_per_arm')) END)
         || printf(' CTAs with a matured %d-day outcome', getvariable('churn_horizon_days'))
  END AS note
FROM measured
ORDER BY playbook_id = 'all', playbook_id, play_tier = 'all' DESC, play_tier;
