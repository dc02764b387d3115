// CSM queue: tonight's open CTAs (due dates fixed when each CTA opened, carried across builds)
// with the account's churn probability.
// Columns: SITE_TABLES.cta_queue in loaders/site/site-tables.ts (the allow-list; no PII).
import {exportSiteTable} from "../../loaders/site/export.ts";

await exportSiteTable("cta_queue");
