// Measured playbook effectiveness: per playbook and play tier, worked against held-out CTAs whose
// churn horizon has passed, with intervals and whether there is enough data yet. Aggregates only.
// Columns: SITE_TABLES.playbook_effectiveness in loaders/site/site-tables.ts (the allow-list; no PII).
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("playbook_effectiveness");
