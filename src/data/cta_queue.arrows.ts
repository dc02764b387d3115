// CSM queue: tonight's open CTAs (marts.mart_cta_queue — due dates fixed when each CTA opened,
// carried across builds) with the account's churn probability. Allow-listed columns only (no PII).
import {exportArrow} from "../../loaders/site/export.ts";
import {CTA_QUEUE_COLUMNS} from "../../loaders/site/site-columns.ts";

await exportArrow(`
  SELECT ${CTA_QUEUE_COLUMNS.map((c) => `q.${c}`).join(", ")}, r.churn_probability
  FROM marts.mart_cta_queue q JOIN marts.mart_customer_risk_scores r USING (customer_id)
  ORDER BY q.due_date, q.priority_rank, q.arr_at_risk DESC, q.cta_id`);
