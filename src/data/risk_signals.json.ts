// Risk Drill-Down: the three risk findings measured on history (marts.mart_risk_signals).
import {withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

writeJson(
  await withWarehouse(async (w) => ({
    build: await w.row(`SELECT built_at, as_of, source, customers FROM marts.build_info`),
    signals: await w.rows(`
      SELECT analysis, bucket_order, bucket, in_signal, observations, churned, churn_rate, first_cutoff, last_cutoff
      FROM marts.mart_risk_signals ORDER BY analysis, bucket_order`),
  })),
);
