// Churned accounts: one row each (segment, CSM, dates, tenure, stated reason, ARR lost; no contact
// data), for the Churn timing and reasons report. Columns: SITE_TABLES.churn_events in loaders/site/site-tables.ts.
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("churn_events");
