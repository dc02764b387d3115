// Playbook results: how the team works its CTAs, per CSM and playbook and for the team
// (marts.mart_cta_performance). Counts and rates per CSM only: no account appears in it.
import {exportJson} from "../../loaders/site/export.ts";
await exportJson(
  `SELECT owner, playbook_id, playbook, ctas_raised, ctas_worked, ctas_done, ctas_dismissed, ctas_open, ctas_overdue,
          worked_rate, completion_rate, median_days_to_first_action, window_days
   FROM marts.mart_cta_performance`,
);
