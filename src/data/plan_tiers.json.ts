// The plan tiers of the active accounts, highest first, in the installation's own words: the
// vocabulary's order (cfg.vocabulary, lowest = rank 1), then plans it does not list, by name.
// Every page's plan filter, axis and legend reads this one list.
import {exportJson} from "../../loaders/site/export.ts";
await exportJson(
  `
  SELECT list(p.plan_tier ORDER BY v.rank DESC NULLS LAST, p.plan_tier) AS plan_tiers
  FROM (SELECT DISTINCT plan_tier FROM marts.mart_customer_risk_scores) p
  LEFT JOIN cfg.vocabulary v ON v.kind = 'planTiers' AND v.value = p.plan_tier`,
  {single: true},
);
