// Scored active customers for the dashboards — every column except PII (no primary_contact_email).
import { exportParquet } from "../../loaders/site/export-parquet.ts";
import { RISK_SCORE_COLUMNS } from "../../loaders/site/site-columns.ts";
await exportParquet(`SELECT ${RISK_SCORE_COLUMNS.join(", ")} FROM marts.mart_customer_risk_scores ORDER BY customer_id`);
