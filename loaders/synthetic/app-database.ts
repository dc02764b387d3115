/**
 * The synthetic portfolio as a SaaS product's own PostgreSQL application database: accounts,
 * users, subscription events, invoices, tickets and a raw `events` table with one row per
 * product event — the shape a team's database has, not SaaSGuard's raw tables. Written from a
 * folder `npm run generate -- --layout segment` wrote (its event log is the events table), with
 * a source mapping beside it (`app-database.json`) that reads those five tables from the
 * database and the rest from the folder. A build from it equals the build from the folder's own
 * mapping, value for value (tests/database-sources.test.ts).
 *
 * Rows go in with COPY … FROM STDIN, in bulk.
 */
import {createReadStream, readFileSync, rmSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {pipeline} from "node:stream/promises";
import {DuckDBInstance} from "@duckdb/node-api";
import pg from "pg";
import {from as copyFrom} from "pg-copy-streams";
import {lit} from "../duckdb.ts";

/** The tables, as the application defines them. */
const SCHEMA = `
CREATE TABLE accounts (
  id text PRIMARY KEY, name text NOT NULL, billing_email text, industry text, employee_band text,
  plan text, arr numeric, seats integer, created_on date, contract_start date, renews_on date,
  lifecycle text, csm text, updated_at timestamptz NOT NULL);
CREATE TABLE users (id text PRIMARY KEY, account_id text NOT NULL REFERENCES accounts (id), email text);
CREATE TABLE subscription_events (
  id text PRIMARY KEY, account_id text NOT NULL REFERENCES accounts (id), happened_on date, kind text,
  arr_delta numeric, seats_delta integer, updated_at timestamptz NOT NULL);
CREATE TABLE invoices (
  id text PRIMARY KEY, account_id text NOT NULL REFERENCES accounts (id), issued_on date, due_on date,
  paid_on date, amount numeric, updated_at timestamptz NOT NULL);
CREATE TABLE tickets (
  id text PRIMARY KEY, account_id text NOT NULL REFERENCES accounts (id), opened_at timestamptz,
  resolved_at timestamptz, priority text, category text, csat smallint, subject text, updated_at timestamptz NOT NULL);
CREATE TABLE events (
  id bigserial PRIMARY KEY, account_id text, user_id text, name text NOT NULL, occurred_at timestamptz NOT NULL);
CREATE INDEX events_occurred_at ON events (occurred_at);
`;

/**
 * Each application table from the generated files (DuckDB SQL over them). A record's updated_at
 * is when it last changed: its latest date.
 */
function tableQueries(dir: string): [table: string, columns: string, select: string][] {
  const csv = (name: string) => `read_csv(${lit(join(dir, `${name}.csv`))}, header = true, all_varchar = false)`;
  const tracks = `read_parquet(${lit(join(dir, "segment", "tracks", "*.parquet"))})`;
  return [
    [
      "accounts",
      "id, name, billing_email, industry, employee_band, plan, arr, seats, created_on, contract_start, renews_on, lifecycle, csm, updated_at",
      `SELECT customer_id, company_name, primary_contact_email, industry, company_size, plan_tier, arr, seats_purchased,
              signup_date, contract_start_date, renewal_date, lifecycle_stage, csm_owner,
              strftime(greatest(signup_date, contract_start_date), '%Y-%m-%d 00:00:00+00')
       FROM ${csv("customers")} ORDER BY customer_id`,
    ],
    [
      "users",
      "id, account_id, email",
      `SELECT user_id, any_value(context_group_id), user_id || '@example.com' FROM ${tracks}
       WHERE user_id IS NOT NULL GROUP BY user_id ORDER BY user_id`,
    ],
    [
      "subscription_events",
      "id, account_id, happened_on, kind, arr_delta, seats_delta, updated_at",
      `SELECT change_id, customer_id, change_date, change_type, arr_delta, seats_delta,
              strftime(change_date, '%Y-%m-%d 00:00:00+00') FROM ${csv("subscription_changes")} ORDER BY change_id`,
    ],
    [
      "invoices",
      "id, account_id, issued_on, due_on, paid_on, amount, updated_at",
      `SELECT invoice_id, customer_id, issued_date, due_date, paid_date, amount,
              strftime(coalesce(paid_date, issued_date), '%Y-%m-%d 00:00:00+00') FROM ${csv("invoices")} ORDER BY invoice_id`,
    ],
    [
      "tickets",
      "id, account_id, opened_at, resolved_at, priority, category, csat, subject, updated_at",
      // the files' times are the team's local time (UTC in the demo): written with their offset
      `SELECT ticket_id, customer_id, strftime(opened_at, '%Y-%m-%d %H:%M:%S+00'), strftime(resolved_at, '%Y-%m-%d %H:%M:%S+00'),
              priority, category, csat_score, subject, strftime(coalesce(resolved_at, opened_at), '%Y-%m-%d %H:%M:%S+00')
       FROM ${csv("support_tickets")} ORDER BY ticket_id`,
    ],
    [
      "events",
      "account_id, user_id, name, occurred_at",
      `SELECT context_group_id, user_id, event, strftime(timezone('UTC', "timestamp"), '%Y-%m-%d %H:%M:%S.%f+00')
       FROM ${tracks} ORDER BY "timestamp", id`,
    ],
  ];
}

/** The source mapping reading the five application tables from the database, the rest from the folder. */
export function appDatabaseMapping(urlVariable: string, vocabulary: unknown): object {
  const db = "app";
  return {
    description:
      "The synthetic portfolio's application database (PostgreSQL): accounts, subscription events, invoices, tickets and the raw product events; the other tables from this folder",
    databases: {[db]: {url: urlVariable}},
    folder: ".",
    tables: {
      customers: {
        from: {
          database: db,
          query:
            "SELECT id AS customer_id, name AS company_name, billing_email AS primary_contact_email, industry, employee_band AS company_size, plan AS plan_tier, arr, seats AS seats_purchased, created_on AS signup_date, contract_start AS contract_start_date, renews_on AS renewal_date, lifecycle AS lifecycle_stage, csm AS csm_owner, updated_at FROM accounts",
          cursor: {column: "updated_at", key: "customer_id"},
        },
      },
      subscription_changes: {
        from: {
          database: db,
          query:
            "SELECT id AS change_id, account_id AS customer_id, happened_on AS change_date, kind AS change_type, arr_delta, seats_delta, updated_at FROM subscription_events",
          cursor: {column: "updated_at", key: "change_id"},
        },
      },
      invoices: {
        from: {
          database: db,
          query:
            "SELECT id AS invoice_id, account_id AS customer_id, issued_on AS issued_date, due_on AS due_date, paid_on AS paid_date, amount, updated_at FROM invoices",
          cursor: {column: "updated_at", key: "invoice_id"},
        },
      },
      support_tickets: {
        from: {
          database: db,
          query:
            "SELECT id AS ticket_id, account_id AS customer_id, opened_at, resolved_at, priority, category, csat AS csat_score, subject, updated_at FROM tickets",
          cursor: {column: "updated_at", key: "ticket_id"},
        },
      },
      usage_events: {
        from: {database: db, table: "events", cursor: {column: "occurred_at"}},
        events: {at: "occurred_at", name: "name", account: "account_id", user: "user_id"},
      },
    },
    ...(vocabulary ? {vocabulary} : {}),
  };
}

/**
 * Writes the application database from a folder of `npm run generate -- --layout segment` into
 * the (empty) PostgreSQL database at `url`, and `app-database.json` beside the files. Returns
 * the rows written per table and the mapping's path.
 */
export async function writeAppDatabase(
  dir: string,
  url: string,
  opts: {urlVariable?: string} = {},
): Promise<{mapping: string; rows: Record<string, number>}> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  const client = new pg.Client({connectionString: url});
  await client.connect();
  const rows: Record<string, number> = {};
  try {
    await client.query("SET TimeZone = 'UTC'");
    await client.query(`BEGIN; ${SCHEMA}`);
    for (const [table, columns, select] of tableQueries(dir)) {
      const file = join(dir, `.app-database-${table}.csv`);
      try {
        await conn.run(`COPY (${select}) TO ${lit(file)} (FORMAT csv, HEADER false)`);
        const copy = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN WITH (FORMAT csv)`));
        await pipeline(createReadStream(file), copy);
        rows[table] = copy.rowCount;
      } finally {
        rmSync(file, {force: true});
      }
    }
    await client.query("COMMIT; ANALYZE");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    if ((e as {code?: string}).code === "42P07")
      throw new Error(`${(e as Error).message}: the application database is written into an empty database`);
    throw e;
  } finally {
    await client.end();
    conn.closeSync();
    instance.closeSync();
  }
  const vocabulary = (JSON.parse(readFileSync(join(dir, "mapping.json"), "utf8")) as {vocabulary?: unknown}).vocabulary;
  const mapping = join(dir, "app-database.json");
  writeFileSync(
    mapping,
    JSON.stringify(appDatabaseMapping(opts.urlVariable ?? "APP_DATABASE_URL", vocabulary), null, 2) + "\n",
  );
  return {mapping, rows};
}
