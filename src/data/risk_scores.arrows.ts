// Scored active customers as an Arrow IPC stream, for pages that query them with DuckDB-WASM
// (same allow-listed columns as risk_scores.parquet — no PII).
import { exportArrow } from "../../loaders/site/export-parquet.ts";
import { RISK_SCORE_COLUMNS } from "../../loaders/site/site-columns.ts";

await exportArrow(`SELECT ${RISK_SCORE_COLUMNS.join(", ")} FROM marts.mart_customer_risk_scores ORDER BY customer_id`);
