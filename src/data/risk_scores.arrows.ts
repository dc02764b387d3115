// Scored active customers as an Arrow IPC stream, for pages that query them with DuckDB-WASM
// (same allow-listed columns as risk_scores.parquet — no PII).
import { exportArrow } from "../../loaders/site/export-parquet.ts";
import { RISK_SCORES_QUERY } from "../../loaders/site/site-columns.ts";

await exportArrow(RISK_SCORES_QUERY);
