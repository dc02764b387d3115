-- One row per active account with everything a Customer 360 dossier shows beyond the scores
-- row of mart_customer_risk_scores: health components, 90 days of usage, open tickets, every
-- opportunity with whether it is open, open CTAs, model drivers, score history, both
-- quadrants, and the expansion model's probability, expected ARR and drivers. The site's Customer 360 loader and the API's 360 endpoint read this table, so
-- the page and the API show the same tickets, opportunities, tiers and quadrants.
-- Open tickets and open opportunities follow the one definition of each (int_open_*_as_of.sql).
--
-- Built in parts (loaders/marts.ts runs the file once per part, `part` of `parts`, inserting after
-- the first): the per-account lists are list aggregates, whose states DuckDB cannot spill to
-- disk, so at a million customers all accounts at once outgrow the memory cap. Every input is
-- filtered to the part's accounts; one part below ACCOUNTS_PER_PART accounts.
--
-- A list in a fixed order whose first field is a key unique per account (the day, the driver's
-- rank, the cutoff: the checks hold them unique and not null) is sorted after it is made
-- (list_sort), not made by an ordered aggregate, which sorts per account at twice the cost
-- (100,000 customers: 8.4–9.6 → 6.6–7.4 s, the same table).
CREATE OR REPLACE MACRO marts.in_dossier_part(id) AS hash(id) % getvariable('parts') = getvariable('part');
CREATE OR REPLACE TABLE marts.mart_customer_360 AS
WITH accounts AS (
  SELECT customer_id, company_name, risk_tier, model_tier, open_tickets AS open_ticket_count
  FROM marts.mart_customer_risk_scores WHERE marts.in_dossier_part(customer_id)
),
components AS (
  SELECT customer_id,
         list({component_id: component_id, label: label, value: value, score: round(component_score, 1), points_lost: round(points_lost, 2)}
              ORDER BY points_lost DESC, component_id) AS health_components
  FROM marts.mart_health_components WHERE marts.in_dossier_part(customer_id) GROUP BY customer_id
),
days AS (SELECT getvariable('as_of') - 89 + i::INTEGER AS d, i FROM range(90) t(i)),
usage AS (
  SELECT a.customer_id, list_transform(list_sort(list({i: days.i, events: coalesce(u.events, 0)})), x -> x.events) AS usage_90d
  FROM accounts a CROSS JOIN days
  LEFT JOIN (SELECT * FROM marts.mart_customer_usage_90d WHERE marts.in_dossier_part(customer_id)) u
    ON u.customer_id = a.customer_id AND u.event_date = days.d
  GROUP BY a.customer_id
),
tickets AS (
  -- most urgent first, then oldest
  SELECT customer_id,
         list({ticket_id: ticket_id, opened_at: strftime(opened_at, '%Y-%m-%d %H:%M:%S'), priority: priority, category: category, subject: subject}
              ORDER BY marts.severity_rank(priority), opened_at, ticket_id) AS open_tickets
  FROM marts.int_open_tickets_as_of(getvariable('as_of')) WHERE marts.in_dossier_part(customer_id) GROUP BY customer_id
),
opportunities AS (
  -- every opportunity created by the as-of date, newest first, marked open or not
  SELECT customer_id,
         list({opportunity_id: opportunity_id, opportunity_type: opportunity_type, stage: stage, amount: amount,
               created_date: CAST(created_date AS VARCHAR), close_date: CAST(close_date AS VARCHAR),
               open: marts.is_open_opportunity(stage, created_date, close_date, getvariable('as_of'))}
              ORDER BY created_date DESC, opportunity_id) AS opportunities
  FROM raw.gtm_opportunities WHERE created_date <= getvariable('as_of') AND marts.in_dossier_part(customer_id) GROUP BY customer_id
),
ctas AS (
  SELECT customer_id,
         list({cta_id: cta_id, priority: priority, reason: reason_label, detail: detail, playbook: playbook, step: step,
               created_date: created_date, due_date: due_date, overdue: overdue} ORDER BY due_date, priority_rank, cta_id) AS open_ctas
  FROM marts.mart_cta_queue WHERE marts.in_dossier_part(customer_id) GROUP BY customer_id
),
drivers AS (
  SELECT customer_id, list_sort(list({rank: rank, feature: feature, value: feature_value, contribution: contribution})) AS model_drivers
  FROM marts.mart_customer_drivers WHERE marts.in_dossier_part(customer_id) GROUP BY customer_id
),
expansion_drivers AS (
  SELECT customer_id, list_sort(list({rank: rank, feature: feature, value: feature_value, contribution: contribution})) AS expansion_drivers
  FROM marts.mart_expansion_drivers WHERE marts.in_dossier_part(customer_id) GROUP BY customer_id
),
history AS (
  SELECT customer_id, list_sort(list({as_of_date: as_of_date, churn_probability: churn_probability})) AS score_history
  FROM marts.mart_churn_score_history WHERE marts.in_dossier_part(customer_id) GROUP BY customer_id
)
SELECT
  a.customer_id,
  a.company_name,
  a.risk_tier,
  a.model_tier,
  q.health_risk,
  q.health_quadrant,
  q.churn_probability,
  q.model_quadrant,
  a.open_ticket_count,
  coalesce(c.health_components, []) AS health_components,
  u.usage_90d,
  coalesce(t.open_tickets, []) AS open_tickets,
  coalesce(o.opportunities, []) AS opportunities,
  list_filter(coalesce(o.opportunities, []), x -> x.open) AS open_opportunities,
  coalesce(ct.open_ctas, []) AS open_ctas,
  coalesce(dr.model_drivers, []) AS model_drivers,
  coalesce(h.score_history, []) AS score_history,
  q.expansion_probability,
  q.expected_expansion_arr,
  coalesce(xd.expansion_drivers, []) AS expansion_drivers
FROM accounts a
JOIN marts.mart_propensity_quadrant q USING (customer_id)
LEFT JOIN components c USING (customer_id)
LEFT JOIN usage u USING (customer_id)
LEFT JOIN tickets t USING (customer_id)
LEFT JOIN opportunities o USING (customer_id)
LEFT JOIN ctas ct USING (customer_id)
LEFT JOIN drivers dr USING (customer_id)
LEFT JOIN history h USING (customer_id)
LEFT JOIN expansion_drivers xd USING (customer_id)
ORDER BY a.customer_id;
