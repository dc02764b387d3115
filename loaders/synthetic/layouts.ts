/**
 * The synthetic portfolio written as vendors' exports (`npm run generate -- --layout …`): the
 * files a team would download from Salesforce, Zendesk, Stripe or Segment, in the layouts the
 * presets (presets/<name>.json) read. With them the whole path from vendor files to the site is
 * tested end to end, and a new user has a working example of every preset.
 *
 * Each layout is DuckDB SQL over the generated raw.* tables, written with COPY. What a vendor's
 * layout cannot say is lost as it would be in the vendor's own export (Zendesk's satisfaction is
 * good/bad, Intercom's priority is a flag); tests/presets.test.ts says where.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {mkdirSync} from "node:fs";
import {join} from "node:path";
import {lit} from "../../src/components/sql.ts";
import {run} from "../duckdb.ts";

export interface Layout {
  /** the raw tables its files hold */
  tables: readonly string[];
  /** writes the files into `dir` (the layout's folder) from raw.* */
  write(conn: DuckDBConnection, dir: string): Promise<void>;
  /**
   * what the generated mapping adds to the preset for this portfolio: the words a team would
   * declare for its own data (event names, a custom field's id)
   */
  mapping?: {tables?: Record<string, unknown>; vocabulary?: Record<string, unknown>};
}

const csv = (file: string) => `TO ${lit(file)} (FORMAT csv, HEADER true, FORCE_QUOTE *)`;
const jsonl = (file: string) => `TO ${lit(file)} (FORMAT json)`;
const epoch = (x: string) => `CAST(epoch(CAST(${x} AS TIMESTAMP)) AS BIGINT)`;
const isoZ = (x: string) => `strftime(CAST(${x} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ')`;
/** the number in a generated id (C000123 → 123) */
const num = (id: string) => `CAST(regexp_extract(${id}, '(\\d+)$', 1) AS BIGINT)`;
/** a stable pseudo-random integer in [0, n) from a key */
const spread = (key: string, n: number) => `CAST(hash(${key}) % ${n} AS BIGINT)`;

/** The demo's industries in Salesforce's standard Industry picklist. */
const SALESFORCE_INDUSTRY = `CASE industry WHEN 'FinTech' THEN 'Finance' WHEN 'HealthTech' THEN 'Healthcare'
  WHEN 'Logistics' THEN 'Transportation' WHEN 'Software' THEN 'Technology' ELSE industry END`;

/** An employee count inside the account's size band. */
const EMPLOYEES = `CASE company_size WHEN '1-50' THEN 5 + ${spread("customer_id", 45)}
  WHEN '51-200' THEN 51 + ${spread("customer_id", 150)} WHEN '201-1000' THEN 201 + ${spread("customer_id", 800)}
  WHEN '1001-5000' THEN 1001 + ${spread("customer_id", 4000)} ELSE 5001 + ${spread("customer_id", 20000)} END`;

/** The product's events as a team names them in its tracking plan (object + past-tense verb). */
export const TRACKED_EVENT_NAMES: Record<string, string> = {
  login: "Signed In",
  feature_use: "Feature Used",
  integration_connect: "Integration Connected",
  api_call: "API Call Made",
  report_export: "Report Exported",
  premium_feature_trial: "Premium Trial Started",
  feature_limit_hit: "Plan Limit Reached",
};
/** what a day's extra users did when they did nothing the plan tracks: they opened the app */
const SESSION_EVENT = "Session Started";
const trackedVocabulary = {
  usageEvents: {
    "Signed In": "login",
    "Feature Used": "feature_use",
    "Integration Connected": "integration",
    "API Call Made": "api_call",
    "Report Exported": "export",
    "Premium Trial Started": "premium_trial",
    "Plan Limit Reached": "limit_hit",
    [SESSION_EVENT]: "other",
  },
};

/**
 * The daily usage as one row per event (temp table `events`): each day's events of each type,
 * done in turn by the day's active users, plus a session event for each active user the day's
 * tracked events do not reach — so the distinct users per day are the day's active_users again.
 */
async function expandEvents(conn: DuckDBConnection): Promise<void> {
  const names = `CASE d.event_type ${Object.entries(TRACKED_EVENT_NAMES)
    .map(([k, v]) => `WHEN ${lit(k)} THEN ${lit(v)}`)
    .join(" ")} ELSE d.event_type END`;
  await run(
    conn,
    `CREATE OR REPLACE TEMP TABLE events AS
     WITH users AS (SELECT customer_id, event_date, event_count AS users FROM raw.usage_events WHERE event_type = 'active_users'),
     d AS (SELECT customer_id, event_date, event_type, event_count,
                  coalesce(sum(event_count) OVER (PARTITION BY customer_id, event_date ORDER BY event_type
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
           FROM raw.usage_events WHERE event_type <> 'active_users'),
     tracked AS (SELECT customer_id, event_date, ${names} AS name, d.before + r.k AS k FROM d, range(d.event_count) r(k)),
     totals AS (SELECT customer_id, event_date, sum(event_count) AS n FROM d GROUP BY ALL),
     sessions AS (SELECT x.customer_id, x.event_date, ${lit(SESSION_EVENT)} AS name, r.k
                  FROM (SELECT users.*, CAST(coalesce(totals.n, 0) AS BIGINT) AS n FROM users LEFT JOIN totals USING (customer_id, event_date)) x,
                       range(x.n, CAST(x.users AS BIGINT)) r(k))
     SELECT e.customer_id, e.name, e.k,
            CASE WHEN u.users > 0 THEN 'u-' || e.customer_id || '-' || (e.k % u.users) END AS user_id,
            CAST(e.event_date AS TIMESTAMP) + to_seconds(${spread("e.customer_id || e.event_date || e.k", 86_400)}) AS event_at
     FROM (SELECT * FROM tracked UNION ALL SELECT * FROM sessions) e LEFT JOIN users u USING (customer_id, event_date)`,
  );
}

export const LAYOUTS: Record<string, Layout> = {
  salesforce: {
    tables: ["customers", "gtm_opportunities"],
    async write(conn, dir) {
      await run(
        conn,
        `CREATE OR REPLACE TEMP TABLE sf_users AS
         SELECT '0055g00000' || lpad(CAST(row_number() OVER (ORDER BY csm_owner) AS VARCHAR), 8, '0') AS Id, csm_owner AS Name,
                lower(replace(csm_owner, ' ', '.')) || '@example.com' AS Email, true AS IsActive
         FROM (SELECT DISTINCT csm_owner FROM raw.customers)`,
      );
      await run(conn, `COPY (SELECT * FROM sf_users ORDER BY Id) ${csv(join(dir, "User.csv"))}`);
      // every customer account, and prospects (no Customer_Since__c) that the preset leaves out
      await run(
        conn,
        `COPY (
           SELECT customer_id AS Id, company_name AS Name, 'Customer' AS Type, ${SALESFORCE_INDUSTRY} AS Industry,
                  ${EMPLOYEES} AS NumberOfEmployees, u.Id AS OwnerId, ${isoZ("signup_date")} AS CreatedDate,
                  plan_tier AS Plan__c, arr AS ARR__c, seats_purchased AS Seats__c, signup_date AS Customer_Since__c,
                  contract_start_date AS Contract_Start_Date__c, renewal_date AS Renewal_Date__c, lifecycle_stage AS Lifecycle_Stage__c
           FROM raw.customers c JOIN sf_users u ON u.Name = c.csm_owner
           UNION ALL
           SELECT 'P' || customer_id, 'Prospect of ' || company_name, 'Prospect', ${SALESFORCE_INDUSTRY}, ${EMPLOYEES}, u.Id,
                  ${isoZ("contract_start_date")}, NULL, NULL, NULL, NULL, NULL, NULL, NULL
           FROM raw.customers c JOIN sf_users u ON u.Name = c.csm_owner WHERE ${num("customer_id")} % 10 = 0
           ORDER BY Id) ${csv(join(dir, "Account.csv"))}`,
      );
      await run(
        conn,
        `COPY (
           SELECT opportunity_id AS Id, customer_id AS AccountId,
                  (SELECT company_name FROM raw.customers c WHERE c.customer_id = o.customer_id) || ' – ' || opportunity_type || ' ' || year(close_date) AS Name,
                  CASE opportunity_type WHEN 'renewal' THEN 'Renewal' WHEN 'expansion' THEN 'Existing Customer - Upgrade' ELSE 'New Customer' END AS Type,
                  CASE stage WHEN 'prospecting' THEN 'Prospecting' WHEN 'qualification' THEN 'Qualification'
                    WHEN 'proposal' THEN 'Proposal/Price Quote' WHEN 'negotiation' THEN 'Negotiation/Review'
                    WHEN 'closed_won' THEN 'Closed Won' WHEN 'closed_lost' THEN 'Closed Lost' END AS StageName,
                  amount AS Amount, close_date AS CloseDate, ${isoZ("created_date")} AS CreatedDate,
                  stage IN ('closed_won', 'closed_lost') AS IsClosed, stage = 'closed_won' AS IsWon
           FROM raw.gtm_opportunities o ORDER BY Id) ${csv(join(dir, "Opportunity.csv"))}`,
      );
    },
  },

  hubspot: {
    tables: ["customers", "gtm_opportunities"],
    async write(conn, dir) {
      // the CRM's company id is the account id every other system's records are matched to
      const company = (c: string) => c;
      await run(
        conn,
        `CREATE OR REPLACE TEMP TABLE hs_owners AS
         SELECT CAST(40000000 + row_number() OVER (ORDER BY csm_owner) AS VARCHAR) AS owner_id, split_part(csm_owner, ' ', 1) AS first_name,
                substr(csm_owner, length(split_part(csm_owner, ' ', 1)) + 2) AS last_name,
                lower(replace(csm_owner, ' ', '.')) || '@example.com' AS email
         FROM (SELECT DISTINCT csm_owner FROM raw.customers)`,
      );
      await run(conn, `COPY (SELECT * FROM hs_owners ORDER BY owner_id) ${csv(join(dir, "owner.csv"))}`);
      const industry = `CASE industry WHEN 'FinTech' THEN 'FINANCIAL_SERVICES' WHEN 'HealthTech' THEN 'HOSPITAL_HEALTH_CARE'
        WHEN 'Retail' THEN 'RETAIL' WHEN 'Manufacturing' THEN 'MACHINERY' WHEN 'Media' THEN 'ONLINE_MEDIA'
        WHEN 'Education' THEN 'E_LEARNING' WHEN 'Logistics' THEN 'LOGISTICS_AND_SUPPLY_CHAIN' WHEN 'Software' THEN 'COMPUTER_SOFTWARE' END`;
      await run(
        conn,
        `COPY (SELECT ${company("customer_id")} AS id, false AS is_deleted, company_name AS property_name, ${industry} AS property_industry,
                      ${EMPLOYEES} AS property_numberofemployees, o.owner_id AS property_hubspot_owner_id,
                      split_part(primary_contact_email, '@', 2) AS property_domain, 'customer' AS property_lifecyclestage,
                      ${isoZ("signup_date")} AS property_createdate, plan_tier AS property_plan, arr AS property_arr,
                      seats_purchased AS property_seats, signup_date AS property_customer_since,
                      contract_start_date AS property_contract_start_date, renewal_date AS property_renewal_date
               FROM raw.customers c JOIN hs_owners o ON o.first_name || ' ' || o.last_name = c.csm_owner ORDER BY id)
         ${csv(join(dir, "company.csv"))}`,
      );
      const deal = (o: string) => `CAST(11000000000 + ${num(o)} AS VARCHAR)`;
      await run(
        conn,
        `COPY (SELECT ${deal("opportunity_id")} AS deal_id, false AS is_deleted, 'default' AS deal_pipeline_id,
                      CASE stage WHEN 'prospecting' THEN 'appointmentscheduled' WHEN 'qualification' THEN 'qualifiedtobuy'
                        WHEN 'proposal' THEN 'presentationscheduled' WHEN 'negotiation' THEN 'contractsent'
                        WHEN 'closed_won' THEN 'closedwon' WHEN 'closed_lost' THEN 'closedlost' END AS deal_pipeline_stage_id,
                      opportunity_type || ' ' || year(close_date) AS property_dealname,
                      CASE opportunity_type WHEN 'renewal' THEN 'renewal' WHEN 'expansion' THEN 'existingbusiness' ELSE 'newbusiness' END AS property_dealtype,
                      amount AS property_amount, ${isoZ("created_date")} AS property_createdate, ${isoZ("close_date")} AS property_closedate
               FROM raw.gtm_opportunities ORDER BY deal_id) ${csv(join(dir, "deal.csv"))}`,
      );
      await run(
        conn,
        `COPY (SELECT ${deal("opportunity_id")} AS deal_id, ${company("customer_id")} AS company_id, 5 AS type_id
               FROM raw.gtm_opportunities ORDER BY deal_id) ${csv(join(dir, "deal_company.csv"))}`,
      );
    },
  },

  chargebee: {
    tables: ["invoices", "churn_events"],
    async write(conn, dir) {
      const cust = (c: string) => `'16Bj' || lpad(to_hex(${num(c)} * 7919), 12, '0')`;
      const sub = (c: string) => `'AzZ' || lpad(to_hex(${num(c)} * 15485863), 14, '0')`;
      const ts = (x: string) => `strftime(CAST(${x} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S')`;
      await run(
        conn,
        `COPY (SELECT ${cust("customer_id")} AS id, company_name AS company, primary_contact_email AS email,
                      ${ts("signup_date")} AS created_at, customer_id AS cf_crm_account_id
               FROM raw.customers ORDER BY id) ${csv(join(dir, "customers.csv"))}`,
      );
      await run(
        conn,
        `COPY (SELECT invoice_id AS id, ${cust("customer_id")} AS customer_id, ${sub("customer_id")} AS subscription_id,
                      CASE WHEN paid_date IS NOT NULL THEN 'paid' ELSE 'payment_due' END AS status,
                      ${ts("issued_date")} AS "date", ${ts("due_date")} AS due_date,
                      CASE WHEN paid_date IS NOT NULL THEN ${ts("paid_date")} END AS paid_at,
                      CAST(round(amount * 100) AS BIGINT) AS total,
                      CASE WHEN paid_date IS NULL THEN CAST(round(amount * 100) AS BIGINT) ELSE 0 END AS amount_due,
                      CASE WHEN paid_date IS NULL THEN 0 ELSE CAST(round(amount * 100) AS BIGINT) END AS amount_paid, 'USD' AS currency_code
               FROM raw.invoices ORDER BY invoice_id) ${csv(join(dir, "invoices.csv"))}`,
      );
      await run(
        conn,
        `COPY (SELECT ${sub("c.customer_id")} AS id, ${cust("c.customer_id")} AS customer_id,
                      CASE WHEN ch.customer_id IS NULL THEN 'active' ELSE 'cancelled' END AS status,
                      ${ts("c.signup_date")} AS started_at, ${ts("c.contract_start_date")} AS current_term_start,
                      ${ts("c.renewal_date")} AS current_term_end,
                      CASE WHEN ch.customer_id IS NOT NULL THEN ${ts("ch.churn_date")} END AS cancelled_at,
                      ch.reason AS cancel_reason_code, 1 AS billing_period, 'year' AS billing_period_unit
               FROM raw.customers c LEFT JOIN raw.churn_events ch USING (customer_id) ORDER BY id) ${csv(join(dir, "subscriptions.csv"))}`,
      );
      await run(
        conn,
        `COPY (SELECT ${sub("c.customer_id")} AS subscription_id, lower(c.plan_tier) || '-USD-Yearly' AS item_price_id, 'plan' AS item_type,
                      1 AS quantity, CAST(round(coalesce(ch.arr_lost, c.arr) * 100) AS BIGINT) AS amount
               FROM raw.customers c LEFT JOIN raw.churn_events ch USING (customer_id) ORDER BY subscription_id)
         ${csv(join(dir, "subscription_items.csv"))}`,
      );
    },
  },

  zendesk: {
    tables: ["support_tickets"],
    async write(conn, dir) {
      const orgId = (c: string) => `360000000000 + ${num(c)}`;
      await run(
        conn,
        `COPY (SELECT ${orgId("customer_id")} AS id, company_name AS name, customer_id AS external_id,
                      [split_part(primary_contact_email, '@', 2)] AS domain_names, ${isoZ("signup_date")} AS created_at
               FROM raw.customers ORDER BY id) ${jsonl(join(dir, "organizations.jsonl"))}`,
      );
      await run(
        conn,
        `COPY (SELECT ${num("ticket_id")} AS id, ${isoZ("opened_at")} AS created_at,
                      ${isoZ("coalesce(resolved_at, opened_at)")} AS updated_at,
                      CASE category WHEN 'bug' THEN 'problem' WHEN 'outage' THEN 'incident' WHEN 'how_to' THEN 'question'
                        WHEN 'billing' THEN 'question' ELSE 'task' END AS type,
                      subject, CASE priority WHEN 'medium' THEN 'normal' ELSE priority END AS priority,
                      CASE WHEN resolved_at IS NULL THEN 'open' ELSE 'solved' END AS status,
                      ${orgId("customer_id")} AS organization_id, [category] AS tags,
                      [{'id': 360000000001, 'value': category}] AS custom_fields,
                      {'score': CASE WHEN csat_score >= 4 THEN 'good' WHEN csat_score <= 2 THEN 'bad'
                                     WHEN csat_score = 3 THEN 'offered' ELSE 'unoffered' END} AS satisfaction_rating
               FROM raw.support_tickets ORDER BY id) ${jsonl(join(dir, "tickets.jsonl"))}`,
      );
      await run(
        conn,
        `COPY (SELECT 900000000 + ${num("ticket_id")} AS id, ${num("ticket_id")} AS ticket_id, ${isoZ("opened_at")} AS created_at,
                      CASE WHEN resolved_at IS NOT NULL THEN ${isoZ("resolved_at")} END AS solved_at
               FROM raw.support_tickets ORDER BY id) ${jsonl(join(dir, "ticket_metrics.jsonl"))}`,
      );
    },
    // this help desk categorises tickets with a custom field (its values are the demo's words)
    mapping: {
      tables: {
        support_tickets: {columns: {category: {sql: "list_filter(custom_fields, f -> f.id = 360000000001)[1].value"}}},
      },
    },
  },

  intercom: {
    tables: ["support_tickets"],
    async write(conn, dir) {
      const companyId = (c: string) => `'6' || lpad(to_hex(${num(c)}), 23, '0')`;
      const contactId = (c: string) => `'7' || lpad(to_hex(${num(c)}), 23, '0')`;
      await run(
        conn,
        `COPY (SELECT 'company' AS type, ${companyId("customer_id")} AS id, customer_id AS company_id, company_name AS name,
                      ${epoch("signup_date")} AS created_at
               FROM raw.customers ORDER BY id) ${jsonl(join(dir, "companies.jsonl"))}`,
      );
      await run(
        conn,
        `COPY (SELECT 'contact' AS type, ${contactId("customer_id")} AS id, 'user' AS role,
                      {'type': 'list', 'data': [{'type': 'company', 'id': ${companyId("customer_id")}}]} AS companies
               FROM raw.customers ORDER BY id) ${jsonl(join(dir, "contacts.jsonl"))}`,
      );
      await run(
        conn,
        `COPY (SELECT 'conversation' AS type, CAST(${num("ticket_id")} AS VARCHAR) AS id, ${epoch("opened_at")} AS created_at,
                      ${epoch("coalesce(resolved_at, opened_at)")} AS updated_at,
                      CASE WHEN resolved_at IS NULL THEN 'open' ELSE 'closed' END AS state,
                      CASE WHEN priority IN ('high', 'urgent') THEN 'priority' ELSE 'not_priority' END AS priority,
                      subject AS title, {'type': 'conversation', 'subject': '', 'body': '<p>' || subject || '</p>'} AS source,
                      {'type': 'tag.list', 'tags': [{'type': 'tag', 'name': category}]} AS tags,
                      {'type': 'contact.list', 'contacts': [{'type': 'contact', 'id': ${contactId("customer_id")}}]} AS contacts,
                      CASE WHEN csat_score IS NOT NULL THEN {'rating': csat_score} END AS conversation_rating,
                      {'last_close_at': CASE WHEN resolved_at IS NOT NULL THEN ${epoch("resolved_at")} END} AS statistics
               FROM raw.support_tickets ORDER BY ${num("ticket_id")}) ${jsonl(join(dir, "conversations.jsonl"))}`,
      );
    },
  },

  stripe: {
    tables: ["invoices", "churn_events"],
    async write(conn, dir) {
      const cus = (c: string) => `'cus_' || upper(lpad(to_hex(${num(c)} * 7919), 14, '0'))`;
      await run(
        conn,
        `COPY (SELECT ${cus("customer_id")} AS id, 'customer' AS object, company_name AS name, primary_contact_email AS email,
                      ${epoch("signup_date")} AS created, {'crm_account_id': customer_id} AS metadata
               FROM raw.customers ORDER BY id) ${jsonl(join(dir, "customers.jsonl"))}`,
      );
      await run(
        conn,
        `COPY (SELECT 'in_' || upper(lpad(to_hex(${num("invoice_id")} * 104729), 20, '0')) AS id, 'invoice' AS object,
                      ${cus("i.customer_id")} AS customer, invoice_id AS number, 'send_invoice' AS collection_method,
                      CASE WHEN paid_date IS NULL THEN 'open' ELSE 'paid' END AS status, 'usd' AS currency,
                      CAST(round(amount * 100) AS BIGINT) AS amount_due,
                      CASE WHEN paid_date IS NULL THEN 0 ELSE CAST(round(amount * 100) AS BIGINT) END AS amount_paid,
                      ${epoch("issued_date")} AS created, ${epoch("due_date")} AS due_date,
                      {'finalized_at': ${epoch("issued_date")}, 'paid_at': CASE WHEN paid_date IS NOT NULL THEN ${epoch("paid_date")} END} AS status_transitions
               FROM raw.invoices i ORDER BY invoice_id) ${jsonl(join(dir, "invoices.jsonl"))}`,
      );
      // one yearly subscription per account; a churned account's ended on its churn date
      await run(
        conn,
        `COPY (SELECT 'sub_' || upper(lpad(to_hex(${num("c.customer_id")} * 15485863), 20, '0')) AS id, 'subscription' AS object,
                      ${cus("c.customer_id")} AS customer,
                      CASE WHEN ch.customer_id IS NULL THEN 'active' ELSE 'canceled' END AS status,
                      ${epoch("c.signup_date")} AS created,
                      CASE WHEN ch.customer_id IS NOT NULL THEN ${epoch("ch.churn_date")} END AS canceled_at,
                      CASE WHEN ch.customer_id IS NOT NULL THEN ${epoch("ch.churn_date")} END AS ended_at,
                      ${epoch("c.contract_start_date")} AS current_period_start, ${epoch("c.renewal_date")} AS current_period_end,
                      {'feedback': CASE ch.reason WHEN 'budget' THEN 'too_expensive' WHEN 'competitor' THEN 'switched_service'
                                     WHEN 'low_adoption' THEN 'unused' WHEN 'product_gaps' THEN 'missing_features'
                                     WHEN 'support_experience' THEN 'customer_service' WHEN 'acquired' THEN 'other'
                                     WHEN 'other' THEN 'other' END,
                       'reason': CASE WHEN ch.customer_id IS NOT NULL THEN 'cancellation_requested' END} AS cancellation_details,
                      {'object': 'list', 'data': [{'quantity': 1, 'price': {'unit_amount': CAST(round(coalesce(ch.arr_lost, c.arr) * 100) AS BIGINT),
                                                    'currency': 'usd', 'recurring': {'interval': 'year'}}}]} AS items
               FROM raw.customers c LEFT JOIN raw.churn_events ch USING (customer_id) ORDER BY id) ${jsonl(join(dir, "subscriptions.jsonl"))}`,
      );
    },
  },

  segment: {
    tables: ["usage_events"],
    async write(conn, dir) {
      await expandEvents(conn);
      mkdirSync(join(dir, "tracks"), {recursive: true});
      await run(
        conn,
        `COPY (SELECT md5(customer_id || k || event_at) AS id, event_at + INTERVAL 2 SECOND AS received_at, event_at AS sent_at,
                      timezone('UTC', event_at) AS "timestamp", name AS event, lower(name) AS event_text, user_id,
                      md5(coalesce(user_id, customer_id)) AS anonymous_id, customer_id AS context_group_id,
                      'analytics.js' AS context_library_name
               FROM events ORDER BY event_at, id) TO ${lit(join(dir, "tracks", "part-0000.parquet"))} (FORMAT parquet, COMPRESSION zstd)`,
      );
    },
    mapping: {vocabulary: trackedVocabulary},
  },

  amplitude: {
    tables: ["usage_events"],
    async write(conn, dir) {
      await expandEvents(conn);
      await run(
        conn,
        `COPY (SELECT strftime(event_at, '%Y-%m-%d %H:%M:%S.%f') AS event_time, name AS event_type, user_id,
                      ${spread("coalesce(user_id, customer_id)", 1_000_000_000)} AS amplitude_id,
                      {'company': [customer_id]} AS groups, {'source': 'web'} AS event_properties,
                      md5(customer_id || k || event_at) AS "$insert_id"
               FROM events ORDER BY event_at, "$insert_id") ${jsonl(join(dir, "123456_export.json"))}`,
      );
    },
    mapping: {vocabulary: trackedVocabulary},
  },

  mixpanel: {
    tables: ["usage_events"],
    async write(conn, dir) {
      await expandEvents(conn);
      await run(
        conn,
        `COPY (SELECT name AS event,
                      {'time': ${epoch("event_at")}, 'distinct_id': user_id, '$insert_id': md5(customer_id || k || event_at),
                       'company_id': customer_id, 'mp_lib': 'web'} AS properties
               FROM events ORDER BY event_at, md5(customer_id || k || event_at)) ${jsonl(join(dir, "export.jsonl"))}`,
      );
    },
    mapping: {vocabulary: trackedVocabulary},
  },
};
