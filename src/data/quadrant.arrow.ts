// Propensity Quadrant: churn risk × expansion proxy per active account, with the account name.
// Columns: SITE_TABLES.quadrant in loaders/site/site-tables.ts (the allow-list; no PII).
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("quadrant");
