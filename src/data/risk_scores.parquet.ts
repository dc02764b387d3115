// Scored active customers for the dashboards — allow-listed columns only (no PII).
import { exportParquet } from "../../loaders/site/export-parquet.ts";
import { RISK_SCORE_COLUMNS } from "../../loaders/site/site-columns.ts";

await exportParquet(`SELECT ${RISK_SCORE_COLUMNS.join(", ")} FROM marts.mart_customer_risk_scores ORDER BY customer_id`);
