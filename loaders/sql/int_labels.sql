-- Plain language in text written by SQL (CTA details, escalation messages).
-- marts.int_labels(): what a reader calls each health component (cfg.health_components, their
-- `label` in src/rules/config.ts) and each model feature (cfg.feature_labels, from
-- src/rules/labels.ts). The scalar macros turn a ', '-separated list of ids into their labels, in
-- order: marts.component_labels(top_risk_drivers), marts.feature_labels(model_top_drivers). NULL
-- for an empty list; an id without a label is shown as it is rather than dropped
-- (tests/labels.test.ts makes sure none is missing).
CREATE OR REPLACE MACRO marts.int_labels() AS TABLE
  SELECT 'component' AS kind, component_id AS id, label FROM cfg.health_components
  UNION ALL
  SELECT 'feature', feature, label FROM cfg.feature_labels;

CREATE OR REPLACE MACRO marts.labels_of(kind_, ids) AS (
  SELECT string_agg(coalesce(l.label, d.id), ', ' ORDER BY d.pos)
  FROM unnest(string_split(ids, ', ')) WITH ORDINALITY AS d(id, pos)
  LEFT JOIN marts.int_labels() l ON l.kind = kind_ AND l.id = d.id
  WHERE d.id <> ''
);
CREATE OR REPLACE MACRO marts.component_labels(ids) AS marts.labels_of('component', ids);
CREATE OR REPLACE MACRO marts.feature_labels(names) AS marts.labels_of('feature', names);
