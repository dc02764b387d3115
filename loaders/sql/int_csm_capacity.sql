-- Each CSM's hours for CTA work this week: the operational store's override (temp table
-- ops_capacity, read from the store by loaders/cta.ts before this phase; empty when none), else
-- config.capacity.perCsm (cfg.csm_capacity), else config.capacity.defaultHoursPerWeek.
-- The CSMs are the owners of tonight's active accounts and whoever a CTA is assigned to; a name
-- only the store or the config knows (someone who left) owns nothing and is not listed.
CREATE OR REPLACE TEMP TABLE int_csm_capacity AS
WITH csms AS (
  SELECT DISTINCT csm_owner AS csm FROM marts.mart_customer_risk_scores WHERE csm_owner IS NOT NULL
  UNION
  SELECT DISTINCT owner FROM marts.mart_cta_queue
)
SELECT c.csm,
       coalesce(o.hours_per_week, p.hours_per_week, d.default_hours_per_week) AS capacity_hours,
       CASE WHEN o.hours_per_week IS NOT NULL THEN 'override' WHEN p.hours_per_week IS NOT NULL THEN 'config' ELSE 'default' END AS capacity_source
FROM csms c
CROSS JOIN cfg.capacity d
LEFT JOIN ops_capacity o USING (csm)
LEFT JOIN cfg.csm_capacity p USING (csm);
