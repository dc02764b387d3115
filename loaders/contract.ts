/**
 * The raw data contract: every table SaaSGuard ingests, its columns, types and rules.
 *
 * The synthetic generator writes exactly these tables, a user's files in data/raw/ must match
 * them, and the ingest validator checks both against this one description. The README's
 * "Raw data contract" section is generated from the same object (`npm run contract`).
 */

import type {VocabularyKind} from "../src/rules/vocabulary.ts";

export type ColumnType = "VARCHAR" | "DATE" | "TIMESTAMP" | "DOUBLE" | "INTEGER" | "BOOLEAN";

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  required: boolean;
  description: string;
  /**
   * the vocabulary its values come from (src/rules/vocabulary.ts): values outside it are kept,
   * counted and reported, never rejected
   */
  vocabulary?: VocabularyKind;
  /** inclusive numeric range */
  min?: number;
  max?: number;
  /** foreign key: value must exist in that table's key column */
  references?: {table: string; column: string};
  /** the value may not lie more than config.dataQuality.maxFutureDays after the as-of date */
  notFarFuture?: boolean;
  /** holds personal data: never exported to the site, logs or prompts */
  pii?: boolean;
}

export interface TableSpec {
  name: string;
  description: string;
  /** columns whose combination must be unique */
  key: readonly string[];
  columns: readonly ColumnSpec[];
  /** row-level rules across columns, as SQL predicates over the typed row that must be true */
  rowRules?: readonly {rule: string; sql: string; column: string}[];
}

const customerRef = {table: "customers", column: "customer_id"} as const;
const customerIdColumn: ColumnSpec = {
  name: "customer_id",
  type: "VARCHAR",
  required: true,
  description: "The account the row belongs to.",
  references: customerRef,
};

export const CONTRACT: readonly TableSpec[] = [
  {
    name: "customers",
    description: "One row per account ever served, churned ones included.",
    key: ["customer_id"],
    columns: [
      {name: "customer_id", type: "VARCHAR", required: true, description: "Stable account id (CRM id)."},
      {
        name: "company_name",
        type: "VARCHAR",
        required: true,
        description: "Account name. Shown in the site to CSMs; never sent to an LLM.",
        pii: true,
      },
      {
        name: "primary_contact_email",
        type: "VARCHAR",
        required: false,
        description: "Main contact. Personal data: never exported to the site, logs or prompts.",
        pii: true,
      },
      {name: "industry", type: "VARCHAR", required: true, description: "Vertical.", vocabulary: "industries"},
      {
        name: "company_size",
        type: "VARCHAR",
        required: true,
        description: "Employee band.",
        vocabulary: "companySizes",
      },
      {name: "plan_tier", type: "VARCHAR", required: true, description: "Current plan.", vocabulary: "planTiers"},
      {name: "arr", type: "DOUBLE", required: true, description: "Current annual recurring revenue in USD.", min: 0},
      {name: "seats_purchased", type: "INTEGER", required: true, description: "Licensed seats.", min: 1},
      {
        name: "signup_date",
        type: "DATE",
        required: true,
        description: "First day as a customer (onboarding starts).",
        notFarFuture: true,
      },
      {
        name: "contract_start_date",
        type: "DATE",
        required: true,
        description: "Start of the current contract term.",
        notFarFuture: true,
      },
      {
        name: "renewal_date",
        type: "DATE",
        required: true,
        description: "End of the current contract term.",
        notFarFuture: true,
      },
      {
        name: "lifecycle_stage",
        type: "VARCHAR",
        required: false,
        description: "CS lifecycle stage; when empty or unknown it is derived from tenure and the renewal date.",
        vocabulary: "lifecycleStages",
      },
      {name: "csm_owner", type: "VARCHAR", required: true, description: "Owning CSM (name or id)."},
    ],
    rowRules: [
      {rule: "contract_start_date <= renewal_date", sql: "contract_start_date <= renewal_date", column: "renewal_date"},
      {
        rule: "signup_date <= contract_start_date",
        sql: "signup_date <= contract_start_date",
        column: "contract_start_date",
      },
    ],
  },
  {
    name: "usage_events",
    description: "Daily product usage per account and event type (one row per account, day and type with activity).",
    key: ["customer_id", "event_date", "event_type"],
    columns: [
      customerIdColumn,
      {name: "event_date", type: "DATE", required: true, description: "Day of the activity (UTC).", notFarFuture: true},
      {
        name: "event_type",
        type: "VARCHAR",
        required: true,
        description:
          "What happened, in your product's event names; the type meaning `active_users` counts distinct active users that day.",
        vocabulary: "usageEvents",
      },
      {
        name: "event_count",
        type: "INTEGER",
        required: true,
        description: "How many events of that type that day.",
        min: 0,
      },
    ],
  },
  {
    name: "support_tickets",
    description: "Support tickets from the help desk.",
    key: ["ticket_id"],
    columns: [
      {name: "ticket_id", type: "VARCHAR", required: true, description: "Help-desk ticket id."},
      customerIdColumn,
      {
        name: "opened_at",
        type: "TIMESTAMP",
        required: true,
        description: "When the ticket was opened (UTC).",
        notFarFuture: true,
      },
      {
        name: "resolved_at",
        type: "TIMESTAMP",
        required: false,
        description: "When it was resolved; empty while open.",
        notFarFuture: true,
      },
      {
        name: "priority",
        type: "VARCHAR",
        required: true,
        description: "Ticket priority.",
        vocabulary: "ticketPriorities",
      },
      {
        name: "category",
        type: "VARCHAR",
        required: true,
        description: "Ticket category.",
        vocabulary: "ticketCategories",
      },
      {
        name: "csat_score",
        type: "INTEGER",
        required: false,
        description: "Customer satisfaction 1–5 after resolution.",
        min: 1,
        max: 5,
      },
      {
        name: "subject",
        type: "VARCHAR",
        required: false,
        description: "Free-text subject. Untrusted text: sanitised before any prompt.",
      },
    ],
    rowRules: [
      {rule: "resolved_at >= opened_at", sql: "resolved_at IS NULL OR resolved_at >= opened_at", column: "resolved_at"},
    ],
  },
  {
    name: "gtm_opportunities",
    description: "Renewal and expansion opportunities from the CRM.",
    key: ["opportunity_id"],
    columns: [
      {name: "opportunity_id", type: "VARCHAR", required: true, description: "CRM opportunity id."},
      customerIdColumn,
      {
        name: "opportunity_type",
        type: "VARCHAR",
        required: true,
        description: "Renewal or expansion.",
        vocabulary: "opportunityTypes",
      },
      {name: "stage", type: "VARCHAR", required: true, description: "Pipeline stage.", vocabulary: "opportunityStages"},
      {name: "amount", type: "DOUBLE", required: true, description: "Opportunity ARR in USD.", min: 0},
      {name: "created_date", type: "DATE", required: true, description: "When it was opened.", notFarFuture: true},
      {
        name: "close_date",
        type: "DATE",
        required: true,
        description: "Expected or actual close date.",
        notFarFuture: true,
      },
    ],
  },
  {
    name: "subscription_changes",
    description: "Plan and seat changes from billing.",
    key: ["change_id"],
    columns: [
      {name: "change_id", type: "VARCHAR", required: true, description: "Billing event id."},
      customerIdColumn,
      {name: "change_date", type: "DATE", required: true, description: "Effective date.", notFarFuture: true},
      {
        name: "change_type",
        type: "VARCHAR",
        required: true,
        description: "What changed.",
        vocabulary: "subscriptionChanges",
      },
      {name: "arr_delta", type: "DOUBLE", required: true, description: "ARR change in USD (negative for downgrades)."},
      {name: "seats_delta", type: "INTEGER", required: false, description: "Seat change."},
    ],
  },
  {
    name: "invoices",
    description: "Invoices and their payment.",
    key: ["invoice_id"],
    columns: [
      {name: "invoice_id", type: "VARCHAR", required: true, description: "Invoice number."},
      customerIdColumn,
      {name: "issued_date", type: "DATE", required: true, description: "Issue date.", notFarFuture: true},
      {name: "due_date", type: "DATE", required: true, description: "Payment due date.", notFarFuture: true},
      {
        name: "paid_date",
        type: "DATE",
        required: false,
        description: "When it was paid; empty while unpaid.",
        notFarFuture: true,
      },
      {name: "amount", type: "DOUBLE", required: true, description: "Invoice amount in USD.", min: 0},
    ],
    rowRules: [{rule: "due_date >= issued_date", sql: "due_date >= issued_date", column: "due_date"}],
  },
  {
    name: "payment_attempts",
    description:
      "Card and direct-debit charge attempts, retries included (optional: the dunning signal — failed payments).",
    key: ["attempt_id"],
    columns: [
      {name: "attempt_id", type: "VARCHAR", required: true, description: "Charge or transaction id."},
      customerIdColumn,
      {name: "attempted_at", type: "DATE", required: true, description: "Day of the attempt.", notFarFuture: true},
      {name: "amount", type: "DOUBLE", required: true, description: "Amount charged in USD.", min: 0},
      {
        name: "status",
        type: "VARCHAR",
        required: true,
        description: "Outcome of the attempt.",
        vocabulary: "paymentOutcomes",
      },
    ],
  },
  {
    name: "account_risk_signals",
    description:
      "Security and compliance reviews of an account (optional): how far it is from the controls it committed to, and its open vendor-risk findings.",
    key: ["customer_id", "assessed_date"],
    columns: [
      customerIdColumn,
      {name: "assessed_date", type: "DATE", required: true, description: "Day of the review.", notFarFuture: true},
      {
        name: "compliance_gap_score",
        type: "DOUBLE",
        required: true,
        description: "Share of committed controls not met: 0 (none missing) to 1 (all missing).",
        min: 0,
        max: 1,
      },
      {
        name: "vendor_risk_flags",
        type: "INTEGER",
        required: true,
        description: "Open vendor-risk findings raised by the review.",
        min: 0,
      },
    ],
  },
  {
    name: "nps_responses",
    description: "Net Promoter Score survey answers.",
    key: ["response_id"],
    columns: [
      {name: "response_id", type: "VARCHAR", required: true, description: "Survey response id."},
      customerIdColumn,
      {name: "response_date", type: "DATE", required: true, description: "Answer date.", notFarFuture: true},
      {name: "score", type: "INTEGER", required: true, description: "0–10 answer.", min: 0, max: 10},
    ],
  },
  {
    name: "cs_outreach",
    description: "Customer Success touches logged by CSMs.",
    key: ["outreach_id"],
    columns: [
      {name: "outreach_id", type: "VARCHAR", required: true, description: "Activity id."},
      customerIdColumn,
      {name: "outreach_date", type: "DATE", required: true, description: "Day of the touch.", notFarFuture: true},
      {
        name: "channel",
        type: "VARCHAR",
        required: true,
        description: "How the CSM reached out.",
        vocabulary: "outreachChannels",
      },
      {name: "csm_owner", type: "VARCHAR", required: true, description: "Who reached out."},
    ],
  },
  {
    name: "churn_events",
    description: "Accounts that cancelled or did not renew (at most one row per account).",
    key: ["customer_id"],
    columns: [
      customerIdColumn,
      {name: "churn_date", type: "DATE", required: true, description: "Last day of service.", notFarFuture: true},
      {name: "reason", type: "VARCHAR", required: false, description: "Stated reason.", vocabulary: "churnReasons"},
      {name: "arr_lost", type: "DOUBLE", required: true, description: "ARR lost in USD.", min: 0},
    ],
  },
  {
    name: "cta_history",
    description:
      "CTAs worked before SaaSGuard's first build (optional): another CS platform's export, or the demo's simulated year of a CS team running SaaSGuard's plays. The first build starts its CTA history from it, so measured playbook effectiveness has matured outcomes from day one. Only CTAs already closed.",
    key: ["cta_id"],
    columns: [
      {name: "cta_id", type: "VARCHAR", required: true, description: "CTA id."},
      customerIdColumn,
      {
        name: "cta_type",
        type: "VARCHAR",
        required: true,
        description: "Kind of trigger: `risk`, `onboarding`, `support`, `engagement` or `renewal` (the CTA rules).",
      },
      {
        name: "reason",
        type: "VARCHAR",
        required: true,
        description: "The rule's reason code, e.g. `risk_tier_high`, `low_events`, `renewal_90d`.",
      },
      {
        name: "playbook_id",
        type: "VARCHAR",
        required: true,
        description: "The playbook worked: `critical_risk`, `high_risk`, `medium_risk`, `onboarding` or `renewal`.",
      },
      {
        name: "priority",
        type: "VARCHAR",
        required: true,
        description: "`critical`, `high`, `medium` or `low` when raised.",
      },
      {
        name: "play_tier",
        type: "VARCHAR",
        required: true,
        description: "The risk tier that drove the plays when raised: `Critical`, `High`, `Medium` or `Low`.",
      },
      {
        name: "segment",
        type: "VARCHAR",
        required: true,
        description: "The account's plan when raised.",
        vocabulary: "planTiers",
      },
      {name: "created_date", type: "DATE", required: true, description: "Day it was raised.", notFarFuture: true},
      {name: "closed_date", type: "DATE", required: true, description: "Day it was closed.", notFarFuture: true},
      {
        name: "status",
        type: "VARCHAR",
        required: true,
        description: "`done` (worked), `dismissed`, or `closed` (its trigger cleared, or it was never worked).",
      },
      {
        name: "holdout",
        type: "BOOLEAN",
        required: true,
        description: "Held out at raise to measure the playbook: never shown to a CSM, never worked.",
      },
      {
        name: "first_action_date",
        type: "DATE",
        required: false,
        description: "Day of the first human action on it; empty when nobody worked it.",
        notFarFuture: true,
      },
      {
        name: "arr_at_raise",
        type: "DOUBLE",
        required: true,
        description: "The account's ARR in USD when raised.",
        min: 0,
      },
    ],
    rowRules: [
      {rule: "closed_date >= created_date", sql: "closed_date >= created_date", column: "closed_date"},
      {
        rule: "first_action_date >= created_date",
        sql: "first_action_date IS NULL OR first_action_date >= created_date",
        column: "first_action_date",
      },
      {
        rule: "a holdout has no first_action_date",
        sql: "NOT holdout OR first_action_date IS NULL",
        column: "first_action_date",
      },
    ],
  },
];

export function tableSpec(name: string): TableSpec {
  const spec = CONTRACT.find((t) => t.name === name);
  if (!spec) throw new Error(`unknown raw table "${name}"`);
  return spec;
}

/** DuckDB DDL for a raw table. */
export function createTableSql(spec: TableSpec, schema = "raw"): string {
  const cols = spec.columns.map((c) => `"${c.name}" ${c.type}`).join(", ");
  return `CREATE TABLE ${schema}.${spec.name} (${cols})`;
}
