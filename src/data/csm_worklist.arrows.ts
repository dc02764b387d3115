// CSM queue: each queued CTA's expected ARR saved per hour and its lane this week
// (marts.mart_csm_worklist). The page joins it to cta_queue.arrows by cta_id.
import {exportArrow} from "../../loaders/site/export.ts";
import {CSM_WORKLIST_COLUMNS} from "../../loaders/site/site-columns.ts";

await exportArrow(
  `SELECT ${CSM_WORKLIST_COLUMNS.join(", ")} FROM marts.mart_csm_worklist ORDER BY owner, rank_in_queue`,
);
