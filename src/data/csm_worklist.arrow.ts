// CSM queue: each queued CTA's expected ARR saved per hour and its lane this week. The page joins
// it to cta_queue.arrow by cta_id.
// Columns: SITE_TABLES.csm_worklist in loaders/site/site-tables.ts (the allow-list; no PII).
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("csm_worklist");
