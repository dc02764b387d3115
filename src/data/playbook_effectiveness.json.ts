// Measured playbook effectiveness (marts.mart_playbook_effectiveness): per playbook and play tier,
// worked against held-out CTAs whose churn horizon has passed, with intervals and whether there
// is enough data yet. Aggregates only: no account appears in it.
import {exportJson} from "../../loaders/site/export.ts";
await exportJson(
  `SELECT playbook_id, playbook, play_tier, holdout_share, ctas_matured, n_worked, n_holdout,
          churn_rate_worked, churn_rate_holdout, churn_reduction, churn_reduction_lo, churn_reduction_hi,
          effectiveness, effectiveness_lo, effectiveness_hi, itt_churn_reduction, itt_churn_reduction_lo, itt_churn_reduction_hi,
          arr_retention_worked, arr_retention_holdout, interval_level, enough_data, note
   FROM marts.mart_playbook_effectiveness`,
);
