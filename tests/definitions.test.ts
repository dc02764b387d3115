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
  await runSteps(w.conn, ["int_active_customers_as_of", "int_open_tickets_as_of", "int_open_opportunities_as_of"]);
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

  it("contract as of a day: ARR and seats less the changes after it, days to the renewal's next anniversary", async () => {
    const c = await openWarehouse(":memory:");
    try {
      await c.conn.run(`
        CREATE SCHEMA raw; CREATE SCHEMA marts;
        CREATE TABLE raw.customers AS SELECT * FROM (VALUES
          ('renews-that-day', 1000.0, 10, DATE '2026-06-30'), ('renews-tomorrow', 1000.0, 10, DATE '2026-07-01'),
          ('renewed-yesterday', 100.0, 2, DATE '2026-06-29'), ('renews-in-a-year', 500.0, 5, DATE '2027-06-30'))
          t(customer_id, arr, seats_purchased, renewal_date);
        CREATE TABLE raw.subscription_changes AS SELECT * FROM (VALUES
          ('renews-that-day', DATE '2026-06-30', 999.0, 9), ('renews-that-day', DATE '2026-07-01', 200.0, 3),
          ('renewed-yesterday', DATE '2026-08-01', 300.0, 4), ('renews-in-a-year', DATE '2026-09-01', -50.0, -1))
          t(customer_id, change_date, arr_delta, seats_delta);
      `);
      await loadRules(c.conn, "2026-06-30");
      await runSteps(c.conn, ["int_contract_as_of"]);
      const rows = await all<{customer_id: string; arr: number; seats: number; days_to_renewal: number}>(
        c.conn,
        `SELECT customer_id, arr, seats::INTEGER AS seats, days_to_renewal
         FROM marts.int_contract_as_of(DATE '2026-06-30') ORDER BY customer_id`,
      );
      // changes on the day itself count as done by then; a roll-back never goes below 0 ARR or 1 seat;
      // renews that day: 0, tomorrow: 1, yesterday (the CRM not moved on yet): next year's, 364; a year on: 0
      expect(rows).toEqual([
        {customer_id: "renewed-yesterday", arr: 0, seats: 1, days_to_renewal: 364},
        {customer_id: "renews-in-a-year", arr: 550, seats: 6, days_to_renewal: 0},
        {customer_id: "renews-that-day", arr: 800, seats: 7, days_to_renewal: 0},
        {customer_id: "renews-tomorrow", arr: 1000, seats: 10, days_to_renewal: 1},
      ]);
      // the scalar rules, for callers that sum the later changes in their own join shape
      expect(
        await all(
          c.conn,
          "SELECT marts.arr_as_of(100.0, NULL) AS a, marts.days_to_renewal(DATE '2026-01-01', DATE '2026-06-30') AS d",
        ),
      ).toEqual([{a: 100, d: 185}]);
    } finally {
      c.close();
    }
  });
});
