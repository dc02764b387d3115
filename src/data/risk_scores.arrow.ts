// Scored active customers, for the dashboards (rows.ts), SQL in the browser (db.ts) and reports'
// `sql:` front matter.
// Columns: SITE_TABLES.risk_scores in loaders/site/site-tables.ts (the allow-list; no PII).
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("risk_scores");
