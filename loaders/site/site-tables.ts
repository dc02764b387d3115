/**
 * The tables the static site publishes — the one allow-list of what leaves the warehouse.
 *
 * Each entry of SITE_TABLES becomes `src/data/<name>.arrow` (an Arrow IPC stream written by
 * `exportSiteTable`), which pages read with `loadRows`/`loadTables` and reports name in their
 * `sql:` front matter; the data dictionary page is generated from the same entries. Loaders
 * select exactly these columns (never `SELECT *`), so a PII column added to a mart later (e.g.
 * `primary_contact_email`) cannot leak into dist/ by accident, and a PII column put on a list
 * fails the export (`siteTableQuery`).
 */
export const RISK_SCORE_COLUMNS = [
  "customer_id",
  "company_name",
  "industry",
  "company_size",
  "plan_tier",
  "csm_owner",
  "arr",
  "seats_purchased",
  "renewal_date",
  "days_to_renewal",
  "lifecycle_stage",
  "tenure_days",
  "events_last_30d",
  "high_priority_tickets_30d",
  "open_tickets",
  "integrations_first_30d",
  "health_score",
  "risk_score",
  "risk_tier",
  "health_colour",
  "low_events",
  "support_overload",
  "onboarding_at_risk",
  "payment_failing",
  "compliance_risk",
  "over_deployed",
  "over_deployed_users",
  "recommended_action",
  "top_risk_drivers",
  "arr_at_risk",
  // the churn model's columns (every build scores with a model)
  "churn_probability",
  "model_tier",
  "model_top_drivers",
  "expected_arr_loss_90d",
] as const;

/** marts.mart_propensity_quadrant */
export const QUADRANT_COLUMNS = [
  "customer_id",
  "plan_tier",
  "industry",
  "arr",
  "health_risk",
  "health_quadrant",
  "churn_probability",
  "model_quadrant",
  "upgrade_propensity_proxy",
  "expected_arr_uplift_proxy",
  "expansion_probability",
  "expected_expansion_arr",
  "health_quadrant_by_expansion_model",
  "model_quadrant_by_expansion_model",
  "was_contacted",
  "days_since_last_outreach",
] as const;

/** marts.mart_cta_queue: tonight's open CTAs, for the CSM queue page */
export const CTA_QUEUE_COLUMNS = [
  "cta_id",
  "customer_id",
  "company_name",
  "csm_owner",
  "cta_type",
  "reason_label",
  "detail",
  "playbook",
  "step",
  "priority",
  "priority_rank",
  "created_date",
  "due_date",
  "days_open",
  "overdue",
  "play_tier",
  "arr_at_risk",
  "days_to_renewal",
] as const;

/** Columns that must never appear in any site export. */
export const PII_COLUMNS = [
  "primary_contact_email",
  "primary_contact_name",
  "contact_email",
  "email",
  "phone",
] as const;

/** marts.mart_csm_worklist: each queued CTA's value per hour and lane, for the CSM queue page */
export const CSM_WORKLIST_COLUMNS = [
  "cta_id",
  "owner",
  "effort_hours",
  "effectiveness",
  "effectiveness_source",
  "expected_arr_saved",
  "value_per_hour",
  "rank_in_queue",
  "lane",
  "lane_reason",
] as const;

/** marts.mart_csm_capacity: each CSM's week and the rebalancing suggestion */
export const CSM_CAPACITY_COLUMNS = [
  "csm",
  "capacity_hours",
  "capacity_source",
  "ctas_open",
  "hours_open",
  "ctas_this_week",
  "hours_this_week",
  "ctas_next",
  "hours_next",
  "ctas_digest",
  "hours_digest",
  "overload_hours",
  "room_hours",
  "digest_max_value_per_hour",
  "move_out_hours",
  "rebalance_to",
  "receive_hours",
  "rebalance_from",
  "overload_after_hours",
] as const;

/** One published table. */
export interface SiteTable {
  /** what one row is, in a sentence (the data dictionary's description) */
  readonly about: string;
  /** the FROM clause: the warehouse relations read (with aliases when joined) */
  readonly from: string;
  /** the allow-listed columns, in the file's order */
  readonly columns: readonly string[];
  /** alias that qualifies the plain columns when `from` joins relations */
  readonly alias?: string;
  /** column → SQL expression, for columns that are not the main relation's own (a join's) */
  readonly expressions?: Readonly<Record<string, string>>;
  readonly orderBy: string;
  /** a DATE column whose latest value says how recent the rows are (the data dictionary shows it) */
  readonly freshness?: string;
}

export const SITE_TABLES = {
  risk_scores: {
    about: "One row per active customer: tonight's health score, risk tier and flags, churn probability and drivers.",
    from: "marts.mart_customer_risk_scores",
    columns: RISK_SCORE_COLUMNS,
    orderBy: "customer_id",
  },
  quadrant: {
    about:
      "One row per active customer on both churn axes (health-score risk and model probability) against both expansion axes (the rule-based proxy and the expansion model).",
    from: "marts.mart_propensity_quadrant q JOIN marts.mart_customer_risk_scores r USING (customer_id)",
    alias: "q",
    columns: [...QUADRANT_COLUMNS, "company_name"],
    expressions: {company_name: "r.company_name"},
    orderBy: "q.customer_id",
  },
  cta_queue: {
    about: "One row per open call to action (CTA) tonight, with its due date fixed when it opened.",
    from: "marts.mart_cta_queue q JOIN marts.mart_customer_risk_scores r USING (customer_id)",
    alias: "q",
    columns: [...CTA_QUEUE_COLUMNS, "churn_probability"],
    expressions: {churn_probability: "r.churn_probability"},
    orderBy: "q.due_date, q.priority_rank, q.arr_at_risk DESC, q.cta_id",
    freshness: "created_date",
  },
  csm_worklist: {
    about: "One row per open CTA: its expected ARR saved per hour of work and its lane in the owner's week.",
    from: "marts.mart_csm_worklist",
    columns: CSM_WORKLIST_COLUMNS,
    orderBy: "owner, rank_in_queue",
  },
  csm_capacity: {
    about: "One row per CSM: this week's hours against their open CTAs, and the rebalancing suggestion.",
    from: "marts.mart_csm_capacity",
    columns: CSM_CAPACITY_COLUMNS,
    orderBy: "csm",
  },
  cta_performance: {
    about:
      "One row per CSM and playbook (and the team as owner 'all'): CTAs raised in the window, worked, done, dismissed, overdue.",
    from: "marts.mart_cta_performance",
    columns: [
      "owner",
      "playbook_id",
      "playbook",
      "ctas_raised",
      "ctas_worked",
      "ctas_done",
      "ctas_dismissed",
      "ctas_open",
      "ctas_overdue",
      "worked_rate",
      "completion_rate",
      "median_days_to_first_action",
      "window_days",
    ],
    orderBy: "owner <> 'all', owner, playbook_id",
  },
  playbook_effectiveness: {
    about: "One row per playbook and play tier: churn of worked CTAs against held-out ones, with 90% intervals.",
    from: "marts.mart_playbook_effectiveness",
    columns: [
      "playbook_id",
      "playbook",
      "play_tier",
      "holdout_share",
      "ctas_matured",
      "n_worked",
      "n_holdout",
      "churn_rate_worked",
      "churn_rate_holdout",
      "churn_reduction",
      "churn_reduction_lo",
      "churn_reduction_hi",
      "effectiveness",
      "effectiveness_lo",
      "effectiveness_hi",
      "itt_churn_reduction",
      "itt_churn_reduction_lo",
      "itt_churn_reduction_hi",
      "arr_retention_worked",
      "arr_retention_holdout",
      "interval_level",
      "enough_data",
      "note",
    ],
    orderBy: "playbook_id = 'all', playbook_id, play_tier = 'all' DESC, play_tier",
  },
  cohort_retention: {
    about:
      "One row per signup quarter (cohort) and quarter end since: the cohort's accounts and ARR at signup, and how many and how much are still there.",
    from: "marts.mart_cohort_retention",
    columns: [
      "cohort_quarter",
      "cohort",
      "full_history",
      "quarters_since_signup",
      "quarter_end",
      "logos_start",
      "logos_retained",
      "arr_start",
      "arr_retained",
      "arr_retained_gross",
    ],
    orderBy: "cohort_quarter, quarters_since_signup",
  },
  churn_events: {
    about:
      "One row per account that churned: its segment and CSM, when it left and after how long, the stated reason and the ARR lost.",
    from: "marts.mart_churn_events",
    columns: [
      "customer_id",
      "plan_tier",
      "industry",
      "company_size",
      "csm_owner",
      "signup_date",
      "churn_date",
      "tenure_days",
      "tenure_months",
      "reason",
      "reason_order",
      "arr_lost",
      "days_to_renewal_at_churn",
    ],
    orderBy: "churn_date, customer_id",
  },
} as const satisfies Record<string, SiteTable>;

/** The name of a published table (= its file's base name and its SQL name in reports). */
export type SiteTableName = keyof typeof SITE_TABLES;

/** The published file of a table, relative to src/ (`data/<name>.arrow`). */
export const siteTableFile = (name: SiteTableName): string => `data/${name}.arrow`;

/** Columns that would put personal data on the site, found among `columns`. */
export function piiColumns(columns: readonly string[]): string[] {
  const pii = new Set<string>(PII_COLUMNS);
  return columns.filter((c) => pii.has(c.toLowerCase()) || /(^|_)(e_?mail|phone)(_|$)/i.test(c));
}

/** The SELECT that publishes `name` (throws for an unknown table or a PII column on its list). */
export function siteTableQuery(name: string, tables: Readonly<Record<string, SiteTable>> = SITE_TABLES): string {
  const table = Object.hasOwn(tables, name) ? tables[name] : undefined;
  if (!table)
    throw new Error(
      `unknown site table ${JSON.stringify(name)}; the published tables are: ${Object.keys(tables).join(", ")}`,
    );
  const pii = piiColumns(table.columns);
  if (pii.length)
    throw new Error(
      `site table ${name} (loaders/site/site-tables.ts) lists personal data: ${pii.join(", ")} — contact details never leave the warehouse`,
    );
  const select = table.columns.map((c) => {
    const expression = table.expressions?.[c];
    return expression ? `${expression} AS ${c}` : table.alias ? `${table.alias}.${c}` : c;
  });
  return `SELECT ${select.join(", ")} FROM ${table.from} ORDER BY ${table.orderBy}`;
}
