// Scored active customers as an Arrow IPC stream, for the dashboards (rows.ts) and for SQL in the
// browser (db.ts, DuckDB-WASM). Allow-listed columns only (no PII).
import {exportArrow} from "../../loaders/site/export.ts";
import {RISK_SCORES_QUERY} from "../../loaders/site/site-columns.ts";

await exportArrow(RISK_SCORES_QUERY);
