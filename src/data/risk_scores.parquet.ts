// Scored active customers for the dashboards — allow-listed columns only (no PII).
import { exportParquet } from "../../loaders/site/export-parquet.ts";
import { RISK_SCORES_QUERY } from "../../loaders/site/site-columns.ts";

await exportParquet(RISK_SCORES_QUERY);
