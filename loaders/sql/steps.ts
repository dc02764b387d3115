/**
 * The SQL of the pipeline, in the order it runs, with each mart's data-quality checks beside
 * its file. Every file in this folder is listed here and creates the object it is named after
 * (`int_*`: intermediate macros and tables the marts are made of; `mart_*`: what pages, the
 * API and alerts read). loaders/marts.ts runs the steps of a phase; loaders/quality.ts runs the
 * checks after the build; a test holds the list, the folder and the built warehouse together.
 *
 * Phases, in build order:
 *   features  raw tables → point-in-time features (the model scores them next, loaders/score.ts)
 *   scores    health score, risk tiers, quadrant, segments… beside the model's probability
 *   ctas      CTA carry-over, escalations and alerts, with the previous build attached (loaders/cta.ts)
 *   dossiers  per-account views that need the CTAs (Customer 360)
 *   brief     the executive brief: tonight against the previous build and the last weekly digest,
 *             with the previous build attached (loaders/brief/), its text written between steps
 */
import type {MartChecks} from "../quality.ts";
import {config, RISK_TIERS} from "../../src/rules/config.ts";
import {PRIORITIES} from "../../src/rules/playbooks.ts";
import {SUMMARY_AUDIENCES, SUMMARY_GENERATORS} from "../store/types.ts";

/** The groups of marts.int_score_disagreement (int_score_disagreement.sql). */
export const DISAGREEMENTS = ["watermelon", "false_alarm"] as const;

/** The lanes of marts.mart_csm_worklist: fits this week, kept for later, the weekly digest. */
export const WORKLIST_LANES = ["this_week", "next", "digest"] as const;

export type Phase = "features" | "scores" | "ctas" | "dossiers" | "brief";

/** The periods of the executive brief (marts.mart_portfolio_brief) and the lists of accounts it names. */
export const BRIEF_PERIODS = ["build", "week"] as const;
export const BRIEF_LISTS = ["entered_at_risk", "worsened", "improved", "renewal_window"] as const;
/** The brief's generators: the language model, or the built-in one (loaders/brief/). */
export const BRIEF_GENERATORS = ["llm", "builtin"] as const;

export interface SqlStep {
  /** the file loaders/sql/<name>.sql, and the object it creates (marts.<name>, or a temp table) */
  name: string;
  phase: Phase;
  /** "table" counts its rows after running; "macros" and "temp" are not published */
  creates: "table" | "macros" | "temp";
  /** the data-quality checks of the table (required for every published mart) */
  checks?: MartChecks;
  /**
   * built in parts (loaders/marts.ts): `count` (SQL) is split into parts of at most `perPart` (a
   * number, or SQL giving one); the file reads getvariable('part') of getvariable('parts') and
   * creates the table, later parts insert
   */
  partitioned?: {count: string; perPart: number | string};
}

/**
 * Active accounts per part of the Customer 360 dossiers: those of 77,621 accounts need more than
 * 1.2 GB of DuckDB memory at once (measured); a part of 50,000 stays well inside the build's 4 GB
 * cap, and builds below it run in one part.
 */
export const ACCOUNTS_PER_PART = 50_000;
/**
 * Customers per slice of the daily usage aggregate, by how raw usage is stored. Each slice scans
 * raw usage for its own customers, so small slices pay only when the table is in customer order
 * (the generator writes customer batches; an export in time order is not): each slice's scan then
 * skips the other slices' row groups, and a slice of 5,000 aggregates about twice as fast per
 * customer as one of 25,000 (100,000 customers: 35 s in 20 slices against 71 s in 4). Stored in
 * any other order every slice reads the whole table, and 25,000 keeps those reads few (the same
 * data sorted by day: 62 s in 4 slices, 70 s in 20).
 */
export const CUSTOMERS_PER_USAGE_SLICE = {inCustomerOrder: 5_000, otherwise: 25_000} as const;
/** Leading rows of raw usage that tell its order (about eight of DuckDB's row groups). */
const USAGE_ORDER_SAMPLE = 1_000_000;
/**
 * True when raw usage is stored in customer order: its first USAGE_ORDER_SAMPLE rows name at most
 * four times the customers that many rows of an average customer would (a table sorted by day
 * names nearly every customer there).
 */
const USAGE_IN_CUSTOMER_ORDER = `(SELECT count(DISTINCT customer_id) FROM (SELECT customer_id FROM raw.usage_events LIMIT ${USAGE_ORDER_SAMPLE}))
  <= 1 + 4 * ${USAGE_ORDER_SAMPLE} / greatest(1, (SELECT count(*) FROM raw.usage_events) / greatest(1, (SELECT count(*) FROM raw.customers)))`;

/** Accounts active at the build's as-of date, by the one definition (int_active_customers_as_of.sql). */
const ACTIVE_CUSTOMERS = "(SELECT count(*) FROM marts.int_active_customers_as_of(getvariable('as_of')))";
const ONE_ROW_PER_ACCOUNT = "(SELECT count(*) FROM marts.mart_customer_churn_features)";
const QUADRANTS = Object.values(config.quadrant.labels);

export const SQL_STEPS: readonly SqlStep[] = [
  // ---- features
  {name: "int_vocabulary", phase: "features", creates: "macros"},
  {name: "int_active_customers_as_of", phase: "features", creates: "macros"},
  {name: "int_contract_as_of", phase: "features", creates: "macros"},
  {name: "int_open_tickets_as_of", phase: "features", creates: "macros"},
  {name: "int_open_opportunities_as_of", phase: "features", creates: "macros"},
  {name: "int_expansions_between", phase: "features", creates: "macros"},
  {name: "int_churn_periods", phase: "features", creates: "macros"},
  {name: "int_retention_between", phase: "features", creates: "macros"},
  {name: "int_usage_days", phase: "features", creates: "table"},
  {
    name: "int_usage_daily",
    phase: "features",
    creates: "table",
    partitioned: {
      count: "(SELECT count(*) FROM raw.customers)",
      perPart: `CASE WHEN ${USAGE_IN_CUSTOMER_ORDER} THEN ${CUSTOMERS_PER_USAGE_SLICE.inCustomerOrder} ELSE ${CUSTOMERS_PER_USAGE_SLICE.otherwise} END`,
    },
  },
  {name: "int_data_coverage", phase: "features", creates: "table"},
  {name: "int_score_weights", phase: "features", creates: "table"},
  {name: "int_customer_features_as_of", phase: "features", creates: "macros"},
  {name: "int_health_components_of", phase: "features", creates: "macros"},
  {name: "int_labels", phase: "features", creates: "macros"},
  {
    name: "mart_customer_churn_features",
    phase: "features",
    creates: "table",
    checks: {
      table: "marts.mart_customer_churn_features",
      unique: ["customer_id"],
      notNull: [
        "customer_id",
        "as_of_date",
        "plan_tier",
        "tenure_days",
        "days_to_renewal",
        "arr",
        "seats",
        "events_last_30d",
        "events_last_90d",
        "seat_utilisation",
      ],
      ranges: {
        arr: [0, null],
        seats: [1, null],
        tenure_days: [0, null],
        days_to_renewal: [0, 365],
        events_last_30d: [0, null],
        seat_utilisation: [0, null],
        latest_nps: [0, 10],
        avg_csat_90d: [1, 5],
      },
      rowsEqual: ACTIVE_CUSTOMERS,
      minRows: 1,
    },
  },
  {
    name: "mart_health_components",
    phase: "features",
    creates: "table",
    checks: {
      table: "marts.mart_health_components",
      unique: ["customer_id", "component_id"],
      notNull: ["customer_id", "component_id", "component_score", "points_lost"],
      ranges: {component_score: [0, 100], points_lost: [0, 100]},
      // one row per account and measured component (marts.int_score_weights)
      rowsEqual:
        "(SELECT count(*) * (SELECT count(*) FROM marts.int_score_weights WHERE score = 'health' AND segment IS NULL AND measured) FROM marts.mart_customer_churn_features)",
    },
  },
  // ---- scores (after the model has scored tonight's features)
  {
    name: "mart_customer_risk_scores",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_customer_risk_scores",
      unique: ["customer_id"],
      notNull: [
        "customer_id",
        "company_name",
        "plan_tier",
        "arr",
        "health_score",
        "risk_score",
        "risk_tier",
        "health_colour",
        "recommended_action",
        "low_events",
        "support_overload",
        "onboarding_at_risk",
        "payment_failing",
        "compliance_risk",
        "over_deployed",
        "arr_at_risk",
        "renewal_date",
        "churn_probability",
        "model_tier",
        "expected_arr_loss_90d",
      ],
      accepted: {
        risk_tier: RISK_TIERS,
        model_tier: RISK_TIERS,
        health_colour: ["Red", "Yellow", "Green"],
      },
      ranges: {
        health_score: [0, 100],
        risk_score: [0, 100],
        arr_at_risk: [0, null],
        churn_probability: [0, 1],
        expected_arr_loss_90d: [0, null],
      },
      rowsEqual: ONE_ROW_PER_ACCOUNT,
    },
  },
  {name: "int_score_disagreement", phase: "scores", creates: "macros"},
  {
    name: "mart_score_disagreements",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_score_disagreements",
      unique: ["customer_id"],
      notNull: ["customer_id", "disagreement", "health_score", "risk_tier", "churn_probability", "model_tier"],
      accepted: {disagreement: DISAGREEMENTS, risk_tier: RISK_TIERS, model_tier: RISK_TIERS},
    },
  },
  {
    name: "mart_score_disagreement_backtest",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_score_disagreement_backtest",
      unique: ["disagreement"],
      notNull: ["disagreement", "accounts", "churned", "churn_rate"],
      accepted: {disagreement: [...DISAGREEMENTS, "rest", "all"]},
      ranges: {churn_rate: [0, 1], accounts: [1, null], churned: [0, null]},
    },
  },
  {
    name: "mart_tier_stability",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_tier_stability",
      unique: ["score", "as_of_date"],
      notNull: ["score", "as_of_date", "accounts", "changed_tier", "change_rate"],
      accepted: {score: ["health score", "churn model"]},
      ranges: {change_rate: [0, 1], accounts: [1, null]},
    },
  },
  {
    name: "mart_customer_expansion_features",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_customer_expansion_features",
      unique: ["customer_id"],
      notNull: ["customer_id", "upgrade_propensity_proxy", "mrr_tier_ceiling_pct"],
      ranges: {upgrade_propensity_proxy: [0, 1], mrr_tier_ceiling_pct: [0, 1]},
      rowsEqual: ONE_ROW_PER_ACCOUNT,
    },
  },
  {
    name: "mart_propensity_quadrant",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_propensity_quadrant",
      unique: ["customer_id"],
      notNull: [
        "customer_id",
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
      ],
      accepted: {
        health_quadrant: QUADRANTS,
        model_quadrant: QUADRANTS,
        health_quadrant_by_expansion_model: QUADRANTS,
        model_quadrant_by_expansion_model: QUADRANTS,
      },
      ranges: {
        health_risk: [0, 1],
        churn_probability: [0, 1],
        upgrade_propensity_proxy: [0, 1],
        expected_arr_uplift_proxy: [0, null],
        expansion_probability: [0, 1],
        expected_expansion_arr: [0, null],
      },
      rowsEqual: ONE_ROW_PER_ACCOUNT,
    },
  },
  {
    name: "mart_segment_risk",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_segment_risk",
      unique: ["plan_tier", "industry"],
      notNull: ["plan_tier", "industry", "customers", "arr"],
      ranges: {churn_rate_12m: [0, 1], customers: [1, null]},
      minRows: 1,
    },
  },
  {
    name: "mart_portfolio_kpis",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_portfolio_kpis",
      notNull: ["as_of_date", "active_customers", "total_arr"],
      ranges: {logo_churn_rate_12m: [0, 1], grr_12m: [0, 1], nrr_12m: [0, null]},
      rowsEqual: "1",
    },
  },
  {
    name: "mart_churn_monthly",
    phase: "scores",
    creates: "table",
    checks: {table: "marts.mart_churn_monthly", unique: ["month"], notNull: ["month", "churned_customers"]},
  },
  // the worked reports' tables (src/reports/): cohort retention and one row per churned account
  {
    name: "mart_cohort_retention",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_cohort_retention",
      unique: ["cohort_quarter", "quarters_since_signup"],
      notNull: [
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
      ranges: {
        quarters_since_signup: [0, null],
        logos_start: [1, null],
        logos_retained: [0, null],
        arr_retained: [0, null],
      },
    },
  },
  {
    name: "mart_churn_events",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_churn_events",
      unique: ["customer_id"],
      notNull: ["customer_id", "signup_date", "churn_date", "tenure_days", "tenure_months", "reason", "reason_order"],
      ranges: {tenure_days: [0, null], arr_lost: [0, null], days_to_renewal_at_churn: [0, 364]},
      rowsEqual: "(SELECT count(*) FROM raw.churn_events WHERE churn_date <= getvariable('as_of'))",
    },
  },
  {
    name: "mart_risk_signals",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_risk_signals",
      unique: ["analysis", "bucket_order"],
      notNull: ["analysis", "bucket", "in_signal", "observations", "churned", "churn_rate"],
      accepted: {analysis: ["usage_decay", "support_load", "activation_gate"]},
      ranges: {churn_rate: [0, 1], observations: [1, null], churned: [0, null]},
    },
  },
  {
    name: "mart_customer_usage_90d",
    phase: "scores",
    creates: "table",
    checks: {
      table: "marts.mart_customer_usage_90d",
      unique: ["customer_id", "event_date"],
      notNull: ["customer_id", "event_date", "events"],
      ranges: {events: [1, null]},
    },
  },
  // ---- CTAs, escalations and alerts (loaders/cta.ts attaches the previous build first)
  {name: "int_cta_candidates", phase: "ctas", creates: "temp"},
  {
    name: "mart_cta_history",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_cta_history",
      unique: ["cta_id"],
      notNull: ["cta_id", "customer_id", "cta_type", "reason", "created_date", "due_date", "status", "last_seen_date"],
      accepted: {status: ["open", "in_progress", "snoozed", "done", "dismissed", "closed"]},
    },
  },
  // measured effectiveness: worked vs held-out CTAs whose churn horizon has passed (before the queue reads it)
  {name: "int_cta_outcomes", phase: "ctas", creates: "temp"},
  {
    name: "mart_playbook_effectiveness",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_playbook_effectiveness",
      unique: ["playbook_id", "play_tier"],
      notNull: [
        "playbook_id",
        "playbook",
        "play_tier",
        "ctas_matured",
        "n_worked",
        "n_holdout",
        "n_not_held_out",
        "interval_level",
        "enough_data",
        "note",
      ],
      ranges: {
        holdout_share: [0, 1],
        ctas_matured: [0, null],
        churn_rate_worked: [0, 1],
        churn_rate_holdout: [0, 1],
        churn_rate_not_held_out: [0, 1],
        churn_reduction: [-1, 1],
        effectiveness_hi: [null, 1],
        arr_retention_worked: [0, null],
        arr_retention_holdout: [0, null],
      },
      minRows: 1,
    },
  },
  {
    name: "mart_cta_performance",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_cta_performance",
      unique: ["owner", "playbook_id"],
      notNull: ["owner", "playbook_id", "ctas_raised", "ctas_worked", "ctas_done", "worked_rate", "completion_rate"],
      ranges: {worked_rate: [0, 1], completion_rate: [0, 1], median_days_to_first_action: [0, null]},
    },
  },
  {
    name: "mart_cta_queue",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_cta_queue",
      unique: ["customer_id", "cta_type", "reason"],
      notNull: [
        "cta_id",
        "customer_id",
        "csm_owner",
        "cta_type",
        "reason",
        "playbook",
        "step",
        "created_date",
        "due_date",
        "priority",
        "arr_at_risk",
      ],
      accepted: {priority: PRIORITIES},
      ranges: {days_open: [0, null], arr_at_risk: [0, null]},
    },
  },
  // a queue that respects capacity: each CSM's week, the lanes and the rebalancing suggestion
  {name: "int_csm_capacity", phase: "ctas", creates: "temp"},
  {
    name: "mart_csm_worklist",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_csm_worklist",
      unique: ["cta_id"],
      notNull: [
        "cta_id",
        "owner",
        "playbook_id",
        "priority",
        "effort_hours",
        "effectiveness",
        "expected_arr_saved",
        "value_per_hour",
        "capacity_hours",
        "rank_in_queue",
        "fits_this_week",
        "lane",
        "lane_reason",
      ],
      accepted: {
        lane: WORKLIST_LANES,
        effectiveness_source: ["measured", "config"],
        capacity_source: ["override", "config", "default"],
      },
      ranges: {effort_hours: [0, null], effectiveness: [0, 1], value_per_hour: [0, null], capacity_hours: [0, null]},
      rowsEqual: "(SELECT count(*) FROM marts.mart_cta_queue)",
    },
  },
  {
    name: "mart_csm_capacity",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_csm_capacity",
      unique: ["csm"],
      notNull: ["csm", "capacity_hours", "hours_queued", "overload_hours", "room_hours", "week_left_hours"],
      // this week's CTAs fit the week; no digested CTA is worth more per hour than one kept
      ranges: {week_left_hours: [0, null], digest_value_gap: [0, null], capacity_hours: [0, null]},
    },
  },
  {
    name: "mart_escalations",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_escalations",
      unique: ["customer_id", "trigger_id"],
      notNull: [
        "escalation_id",
        "customer_id",
        "trigger_id",
        "level",
        "subject",
        "body",
        "urgency",
        "first_raised_date",
      ],
      accepted: {urgency: ["critical", "high", "medium"]},
    },
  },
  {
    name: "mart_alert_history",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_alert_history",
      unique: ["alert_id"],
      notNull: ["alert_id", "raised_on", "kind", "customer_id", "company_name"],
      accepted: {kind: ["tier_entered", "health_drop", "renewal_at_risk"]},
    },
  },
  {
    name: "mart_assistant_quality",
    phase: "ctas",
    creates: "table",
    checks: {
      table: "marts.mart_assistant_quality",
      unique: ["week", "generator", "audience"],
      notNull: ["week", "generator", "audience", "made", "guardrail_passed", "rated", "accurate"],
      accepted: {generator: SUMMARY_GENERATORS, audience: SUMMARY_AUDIENCES},
      ranges: {made: [0, null], rated: [0, null], accurate: [0, null], accuracy: [0, 1], guardrail_pass_share: [0, 1]},
    },
  },
  // ---- dossiers
  {
    name: "mart_customer_360",
    phase: "dossiers",
    creates: "table",
    partitioned: {count: "(SELECT count(*) FROM marts.mart_customer_risk_scores)", perPart: ACCOUNTS_PER_PART},
    checks: {
      table: "marts.mart_customer_360",
      unique: ["customer_id"],
      notNull: [
        "customer_id",
        "company_name",
        "model_tier",
        "risk_tier",
        "health_quadrant",
        "model_quadrant",
        "open_tickets",
        "open_opportunities",
        "usage_90d",
      ],
      accepted: {model_tier: RISK_TIERS, risk_tier: RISK_TIERS, health_quadrant: QUADRANTS, model_quadrant: QUADRANTS},
      rowsEqual: ONE_ROW_PER_ACCOUNT,
    },
  },
  // ---- the executive brief (loaders/brief/ attaches the previous build and writes the text)
  {
    name: "mart_brief_baselines",
    phase: "brief",
    creates: "table",
    checks: {
      table: "marts.mart_brief_baselines",
      unique: ["period", "customer_id"],
      notNull: ["period", "baseline_as_of", "customer_id", "risk_tier", "health_score", "arr_at_risk"],
      accepted: {period: BRIEF_PERIODS, risk_tier: RISK_TIERS},
    },
  },
  {name: "int_brief_comparison", phase: "brief", creates: "temp"},
  {
    name: "mart_portfolio_brief",
    phase: "brief",
    creates: "table",
    checks: {
      table: "marts.mart_portfolio_brief",
      unique: ["period"],
      // the text columns too: the brief is written before the checks run
      notNull: [
        "period",
        "as_of_date",
        "has_baseline",
        "accounts",
        "arr_at_risk",
        "at_risk_accounts",
        "renewal_window_days",
        "digest_due",
        "headline",
        "summary",
        "text",
        "generator",
        "guardrail_passed",
        "watermark",
      ],
      accepted: {period: BRIEF_PERIODS, generator: BRIEF_GENERATORS},
      ranges: {accounts: [0, null], days_covered: [0, null], entered_at_risk_accounts: [0, null]},
      rowsEqual: String(BRIEF_PERIODS.length),
    },
  },
  {
    name: "mart_portfolio_brief_accounts",
    phase: "brief",
    creates: "table",
    checks: {
      table: "marts.mart_portfolio_brief_accounts",
      unique: ["period", "list", "rank"],
      notNull: ["period", "list", "rank", "customer_id", "company_name", "risk_tier", "arr", "arr_at_risk"],
      accepted: {period: BRIEF_PERIODS, list: BRIEF_LISTS, risk_tier: RISK_TIERS},
      ranges: {rank: [1, Math.max(config.brief.movers, config.brief.listAccounts)]},
    },
  },
  {
    name: "mart_brief_digests",
    phase: "brief",
    creates: "table",
    checks: {
      table: "marts.mart_brief_digests",
      unique: ["as_of_date"],
      notNull: ["digest_id", "as_of_date", "baseline_as_of", "headline", "text", "generator", "watermark"],
      accepted: {generator: BRIEF_GENERATORS},
    },
  },
];
