// CSM queue: each CSM's week against their CTAs and the rebalancing suggestion (marts.mart_csm_capacity).
import {exportJson} from "../../loaders/site/export.ts";
import {CSM_CAPACITY_COLUMNS} from "../../loaders/site/site-columns.ts";

await exportJson(`SELECT ${CSM_CAPACITY_COLUMNS.join(", ")} FROM marts.mart_csm_capacity ORDER BY csm`);
