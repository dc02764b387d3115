// Playbook results: how the team works its CTAs, per CSM and playbook and for the team. Counts
// and rates per CSM only: no account appears in it.
// Columns: SITE_TABLES.cta_performance in loaders/site/site-tables.ts (the allow-list; no PII).
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("cta_performance");
