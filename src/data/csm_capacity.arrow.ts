// CSM queue: each CSM's week against their CTAs and the rebalancing suggestion.
// Columns: SITE_TABLES.csm_capacity in loaders/site/site-tables.ts (the allow-list; no PII).
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("csm_capacity");
