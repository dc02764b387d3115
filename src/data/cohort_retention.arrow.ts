// Cohort retention: accounts and ARR of each signup quarter at every quarter end since, for the
// Cohort retention report. Columns: SITE_TABLES.cohort_retention in loaders/site/site-tables.ts.
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("cohort_retention");
