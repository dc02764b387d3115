/**
 * The data facts every mart, loader and endpoint reads (active customer, open ticket, open
 * opportunity as of a day), on hand-made rows that sit on each edge of the definitions.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {all, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";
import {loadRules, runSteps} from "../loaders/marts.ts";

let w: Warehouse;
const ids = async (sql: string) => (await all<{id: string}>(w.conn, sql)).map((r) => r.id).sort();

beforeAll(async () => {
  w = await openWarehouse(":memory:");
  await w.conn.run(`
    CREATE SCHEMA raw; CREATE SCHEMA marts;
    CREATE TABLE raw.customers AS SELECT * FROM (VALUES
      ('signed-later', DATE '2026-07-01'), ('churned-that-day', DATE '2025-01-01'), ('churned-after', DATE '2025-01-01'),
      ('never-churned', DATE '2026-06-30')) t(customer_id, signup_date);
    CREATE TABLE raw.churn_events AS SELECT * FROM (VALUES
      ('churned-that-day', DATE '2026-06-30'), ('churned-after', DATE '2026-07-01')) t(customer_id, churn_date);
    CREATE TABLE raw.support_tickets AS SELECT * FROM (VALUES
      ('unresolved', TIMESTAMP '2026-06-01 09:00', NULL::TIMESTAMP),
      ('resolved-same-day', TIMESTAMP '2026-06-30 08:00', TIMESTAMP '2026-06-30 17:00'),
      ('resolved-next-day', TIMESTAMP '2026-06-29 08:00', TIMESTAMP '2026-07-01 00:30'),
      ('opened-after', TIMESTAMP '2026-07-01 08:00', NULL::TIMESTAMP),
      ('opened-late-that-day', TIMESTAMP '2026-06-30 23:59', NULL::TIMESTAMP)) t(ticket_id, opened_at, resolved_at);
    CREATE TABLE raw.gtm_opportunities AS SELECT * FROM (VALUES
      ('slipped-in-negotiation', 'negotiation', DATE '2026-03-01', DATE '2026-05-31'),
      ('won-later', 'closed_won', DATE '2026-03-01', DATE '2026-08-01'),
      ('lost-before', 'closed_lost', DATE '2026-03-01', DATE '2026-06-29'),
      ('won-that-day', 'closed_won', DATE '2026-03-01', DATE '2026-06-30'),
      ('created-after', 'prospecting', DATE '2026-07-01', DATE '2026-09-01')) t(opportunity_id, stage, created_date, close_date);
  `);
  await loadRules(w.conn, "2026-06-30"); // the demo's vocabulary: closed_won is won, closed_lost lost
  await runSteps(w.conn, [
    "int_active_customers_as_of",
    "int_contract_as_of",
    "int_open_tickets_as_of",
    "int_open_opportunities_as_of",
  ]);
});

afterAll(() => w?.close());

describe("data facts as of the end of 2026-06-30", () => {
  it("active customer: signed up by then and not churned by then", async () => {
    expect(await ids("SELECT customer_id AS id FROM marts.int_active_customers_as_of(DATE '2026-06-30')")).toEqual([
      "churned-after",
      "never-churned",
    ]);
  });

  it("open ticket: opened by that day, not resolved by the end of it", async () => {
    expect(await ids("SELECT ticket_id AS id FROM marts.int_open_tickets_as_of(DATE '2026-06-30')")).toEqual([
      "opened-late-that-day",
      "resolved-next-day",
      "unresolved",
    ]);
  });

  it("open opportunity: created by then, and not in a closed stage or closing later (a slipped deal stays open)", async () => {
    expect(await ids("SELECT opportunity_id AS id FROM marts.int_open_opportunities_as_of(DATE '2026-06-30')")).toEqual(
      ["slipped-in-negotiation", "won-later"],
    );
    // the predicate gives the same answer per row, for queries over many cutoffs
    expect(
      await ids(`SELECT opportunity_id AS id FROM raw.gtm_opportunities
                 WHERE marts.is_open_opportunity(stage, created_date, close_date, DATE '2026-06-30')`),
    ).toEqual(["slipped-in-negotiation", "won-later"]);
  });

  it("contract as of a day: ARR less the changes after it (never below 0), days to the renewal's next anniversary", async () => {
    const rows = await all<{arr: number; days: number}>(
      w.conn,
      `SELECT marts.arr_as_of(a, after) AS arr, marts.days_to_renewal(renewal, DATE '2026-06-30') AS days
       FROM (VALUES (1000.0, 200.0, DATE '2026-06-30'), (1000.0, NULL, DATE '2026-07-01'),
                    (100.0, 300.0, DATE '2026-06-29'), (500.0, -50.0, DATE '2027-06-30')) t(a, after, renewal)`,
    );
    // renews that day: 0; tomorrow: 1; yesterday (not renewed in the CRM yet): next year's, 364; a year on: 0
    expect(rows).toEqual([
      {arr: 800, days: 0},
      {arr: 1000, days: 1},
      {arr: 0, days: 364},
      {arr: 550, days: 0},
    ]);
  });
});
