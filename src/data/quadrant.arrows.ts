// Propensity Quadrant: churn risk × expansion proxy per active account, with the account name
// (allow-listed columns only, no PII).
import {exportArrow} from "../../loaders/site/export.ts";
import {QUADRANT_COLUMNS} from "../../loaders/site/site-columns.ts";
await exportArrow(`
  SELECT ${QUADRANT_COLUMNS.map((c) => `q.${c}`).join(", ")}, r.company_name
  FROM marts.mart_propensity_quadrant q JOIN marts.mart_customer_risk_scores r USING (customer_id)
  ORDER BY q.customer_id`);
