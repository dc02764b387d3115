/**
 * The marts on real DuckDB over a small synthetic portfolio: the business rules of the config
 * module are applied exactly, features are point-in-time, and the data-quality checks both
 * pass on good data and catch broken marts.
 */
import {rmSync} from "node:fs";
import {mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {config, tierOfRiskScore, validateConfig} from "../src/rules/config.ts";
import {loadHealthScore} from "../src/rules/health-score.ts";
import {build} from "../loaders/build.ts";
import {buildMarts, loadRules, runSteps} from "../loaders/marts.ts";
import {DataQualityError, MART_CHECKS, runQualityChecks} from "../loaders/quality.ts";
import {all, one, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";
import {TEST_AS_OF} from "./helpers/raw-files.ts";
import {CUSTOMERS_PER_USAGE_SLICE, SQL_STEPS} from "../loaders/sql/steps.ts";

let root: string;
let w: Warehouse;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "saasguard-marts-"));
  await build({
    asOf: TEST_AS_OF,
    customers: 400,
    seed: 11,
    source: "synthetic",
    warehousePath: join(root, "w.duckdb"),
    site: false,
    log: () => {},
  });
  w = await openWarehouse(join(root, "w.duckdb"));
});
afterAll(() => {
  w?.close();
  rmSync(root, {recursive: true, force: true});
});

type Row = Record<string, number | string | boolean | null>;

describe("marts", () => {
  it("scores every active customer exactly once", async () => {
    const active = await one<{n: number}>(
      w.conn,
      `SELECT count(*) AS n FROM raw.customers c LEFT JOIN raw.churn_events ch USING (customer_id) WHERE c.signup_date <= DATE '${TEST_AS_OF}' AND (ch.churn_date IS NULL OR ch.churn_date > DATE '${TEST_AS_OF}')`,
    );
    expect(active.n).toBeGreaterThan(200);
    for (const t of [
      "mart_customer_churn_features",
      "mart_customer_risk_scores",
      "mart_customer_expansion_features",
      "mart_propensity_quadrant",
    ]) {
      const r = await one<{n: number; u: number}>(
        w.conn,
        `SELECT count(*) AS n, count(DISTINCT customer_id) AS u FROM marts.${t}`,
      );
      expect(r, t).toEqual({n: active.n, u: active.n});
    }
  });

  it("health score = weighted components of health-score.json (a segment's own weights where fitted); tiers, colours and actions follow the bands", async () => {
    const h = loadHealthScore();
    const comps = await all<Row>(w.conn, "SELECT customer_id, component_id, value FROM marts.mart_health_components");
    const byCustomer = new Map<string, Map<string, number | null>>();
    for (const c of comps) {
      const m = byCustomer.get(c.customer_id as string) ?? new Map();
      m.set(c.component_id as string, c.value as number | null);
      byCustomer.set(c.customer_id as string, m);
    }
    const scores = await all<Row>(
      w.conn,
      `SELECT r.customer_id, health_score, risk_score, risk_tier, health_colour, recommended_action, f.${h.segmentBy} AS segment
       FROM marts.mart_customer_risk_scores r JOIN marts.mart_customer_churn_features f USING (customer_id)`,
    );
    for (const s of scores) {
      const values = byCustomer.get(s.customer_id as string)!;
      const own = h.segments[s.segment as string]?.weights;
      let health = 0;
      for (const c of h.components) {
        const v = values.get(c.id) ?? c.whenMissing;
        const weight = own ? own[c.id]! : c.weight;
        health += weight * 100 * Math.max(0, Math.min(1, ((v ?? c.whenMissing) - c.worst) / (c.best - c.worst)));
      }
      expect(s.health_score as number).toBeCloseTo(Math.round(health * 10) / 10, 5);
      expect(s.risk_score as number).toBeCloseTo(100 - (s.health_score as number), 5);
      const tier = tierOfRiskScore(s.risk_score as number);
      const band = config.riskTiers.find((b) => b.tier === tier)!;
      expect([s.risk_tier, s.health_colour, s.recommended_action]).toEqual([tier, band.colour, band.recommendedAction]);
    }
    const tiers = new Set(scores.map((s) => s.risk_tier));
    expect(tiers.size).toBeGreaterThanOrEqual(3); // a realistic portfolio spreads over the bands
  });

  it("the health score's monthly history ends with tonight's scores; tier changes month to month are counted from it", async () => {
    const tonight = await all<Row>(
      w.conn,
      `SELECT r.customer_id, r.health_score, r.risk_tier, h.health_score AS h_score, h.risk_tier AS h_tier
       FROM marts.mart_customer_risk_scores r LEFT JOIN marts.mart_health_score_history h
         ON h.customer_id = r.customer_id AND h.as_of_date = DATE '${TEST_AS_OF}'`,
    );
    for (const t of tonight) expect([t.h_score, t.h_tier]).toEqual([t.health_score, t.risk_tier]);
    const history = await all<{customer_id: string; d: string; tier: string}>(
      w.conn,
      "SELECT customer_id, CAST(as_of_date AS VARCHAR) AS d, risk_tier AS tier FROM marts.mart_health_score_history ORDER BY customer_id, d",
    );
    expect(new Set(history.map((h) => h.d)).size).toBeGreaterThanOrEqual(6);
    // the oracle: each account's tier against its previous cutoff, counted per cutoff
    const counted = new Map<string, {accounts: number; changed: number}>();
    history.forEach((h, i) => {
      const prev = history[i - 1];
      if (!prev || prev.customer_id !== h.customer_id) return;
      const c = counted.get(h.d) ?? {accounts: 0, changed: 0};
      c.accounts++;
      if (prev.tier !== h.tier) c.changed++;
      counted.set(h.d, c);
    });
    const stability = await all<{d: string; accounts: number; changed_tier: number}>(
      w.conn,
      "SELECT CAST(as_of_date AS VARCHAR) AS d, accounts, changed_tier FROM marts.mart_tier_stability WHERE score = 'health score' ORDER BY d",
    );
    expect(stability.map((s) => [s.d, s.accounts, s.changed_tier])).toEqual(
      [...counted].sort().map(([d, c]) => [d, c.accounts, c.changed]),
    );
    expect(stability.some((s) => s.changed_tier > 0)).toBe(true);
  });

  it("flags follow the configured thresholds", async () => {
    const rows = await all<Row>(
      w.conn,
      "SELECT r.low_events, r.support_overload, r.onboarding_at_risk, f.events_last_30d, f.high_priority_tickets_30d, f.tenure_days, f.integrations_first_30d FROM marts.mart_customer_risk_scores r JOIN marts.mart_customer_churn_features f USING (customer_id)",
    );
    const f = config.flags;
    for (const r of rows) {
      expect(r.low_events).toBe((r.events_last_30d as number) < f.lowEventsThreshold30d);
      expect(r.support_overload).toBe((r.high_priority_tickets_30d as number) >= f.supportOverloadHighTickets);
      expect(r.onboarding_at_risk).toBe(
        (r.tenure_days as number) < f.onboardingWindowDays &&
          (r.integrations_first_30d as number) < f.activationGateIntegrations,
      );
    }
    expect(rows.some((r) => r.low_events)).toBe(true);
  });

  it("expansion proxy and both quadrants follow the configured weights and thresholds", async () => {
    const rows = await all<Row>(
      w.conn,
      "SELECT e.*, q.health_risk, q.health_quadrant, q.churn_probability, q.model_quadrant, r.risk_score, r.churn_probability AS model_probability FROM marts.mart_customer_expansion_features e JOIN marts.mart_propensity_quadrant q USING (customer_id, upgrade_propensity_proxy) JOIN marts.mart_customer_risk_scores r USING (customer_id)",
    );
    const q = config.quadrant;
    for (const r of rows) {
      const proxy = config.expansion.inputs.reduce(
        (s, i) => s + i.weight * Math.min(Number(r[i.feature]) / i.cap, 1),
        0,
      );
      expect(r.upgrade_propensity_proxy as number).toBeCloseTo(proxy, 3);
      const e = r.upgrade_propensity_proxy as number;
      const label = (c: number) =>
        c >= q.highChurn && e >= q.highExpansion
          ? q.labels.flightRisk
          : c < q.lowChurn && e >= q.highExpansion
            ? q.labels.growthEngine
            : c >= q.highChurn && e < q.lowExpansion
              ? q.labels.churnCandidate
              : q.labels.stableBase;
      // the health quadrant on the health score's risk, the model quadrant on the model's probability
      expect(r.health_risk as number).toBeCloseTo((r.risk_score as number) / 100, 9);
      expect(r.churn_probability).toBe(r.model_probability);
      expect(r.health_quadrant).toBe(label(r.health_risk as number));
      expect(r.model_quadrant).toBe(label(r.churn_probability as number));
    }
  });

  it("features at a cutoff ignore everything dated after it", async () => {
    const cutoff = "2026-01-31";
    // the macro reads usage through marts.int_usage_daily, so rebuild that from raw first
    const snapshot = async () => {
      await buildMarts(w.conn, TEST_AS_OF, undefined, ["int_usage_daily"]);
      return all<Row>(w.conn, `SELECT * FROM marts.int_customer_features_as_of(DATE '${cutoff}') ORDER BY customer_id`);
    };
    const before = await snapshot();
    // rewrite the future: more usage, tickets, churn, ARR changes and outreach after the cutoff
    await w.conn.run(`CREATE TEMP TABLE saved_usage AS FROM raw.usage_events`);
    await w.conn.run(
      `UPDATE raw.usage_events SET event_count = event_count * 7 + 3 WHERE event_date > DATE '${cutoff}'`,
    );
    await w.conn.run(
      `UPDATE raw.support_tickets SET priority = 'urgent', csat_score = 1 WHERE CAST(opened_at AS DATE) > DATE '${cutoff}'`,
    );
    await w.conn.run(`UPDATE raw.nps_responses SET score = 0 WHERE response_date > DATE '${cutoff}'`);
    await w.conn.run(
      `INSERT INTO raw.cs_outreach SELECT 'X' || customer_id, customer_id, DATE '${cutoff}' + 1, 'call', 'someone' FROM raw.customers`,
    );
    await w.conn.run(`UPDATE raw.customers SET arr = arr * 3, lifecycle_stage = 'Renewal'`);
    await w.conn.run(
      `INSERT INTO raw.subscription_changes SELECT 'Y' || customer_id, customer_id, DATE '${cutoff}' + 10, 'upgrade', 0, 0 FROM raw.customers`,
    );
    await w.conn.run(
      `UPDATE raw.subscription_changes SET arr_delta = arr_delta + (SELECT 2 * arr / 3 FROM raw.customers c WHERE c.customer_id = subscription_changes.customer_id) WHERE change_id LIKE 'Y%'`,
    );
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(before.length).toBeGreaterThan(100);
    // and the same comparison notices a change dated on or before the cutoff
    await w.conn.run(`UPDATE raw.usage_events SET event_count = event_count + 1 WHERE event_date = DATE '${cutoff}'`);
    expect(await snapshot()).not.toEqual(before);
    await w.conn.run(`DELETE FROM raw.usage_events; INSERT INTO raw.usage_events FROM saved_usage`);
  });

  it("Customer 360 dossiers built in parts of the accounts are the dossiers built at once, row for row", async () => {
    await loadRules(w.conn, TEST_AS_OF);
    const accounts = (await one<{n: number}>(w.conn, "SELECT count(*) AS n FROM marts.mart_customer_risk_scores")).n;
    await runSteps(w.conn, ["mart_customer_360"], undefined, {perPart: accounts});
    await w.conn.run("CREATE OR REPLACE TEMP TABLE at_once AS SELECT * FROM marts.mart_customer_360");
    const [t] = await runSteps(w.conn, ["mart_customer_360"], undefined, {perPart: Math.ceil(accounts / 5)});
    expect(t!.rows).toBe(accounts);
    const d = await one<{a: number; b: number; ids: number}>(
      w.conn,
      `SELECT (SELECT count(*) FROM (SELECT * FROM marts.mart_customer_360 EXCEPT ALL SELECT * FROM at_once)) AS a,
              (SELECT count(*) FROM (SELECT * FROM at_once EXCEPT ALL SELECT * FROM marts.mart_customer_360)) AS b,
              (SELECT count(DISTINCT customer_id) FROM marts.mart_customer_360) AS ids`,
    );
    expect(d).toEqual({a: 0, b: 0, ids: accounts});
  });

  it("the daily usage aggregate built in slices of the customers is the one built at once, row for row", async () => {
    await loadRules(w.conn, TEST_AS_OF);
    const customers = (await one<{n: number}>(w.conn, "SELECT count(*) AS n FROM raw.customers")).n;
    await runSteps(w.conn, ["int_usage_daily"], undefined, {perPart: customers});
    await w.conn.run("CREATE OR REPLACE TEMP TABLE at_once AS SELECT * FROM marts.int_usage_daily");
    await runSteps(w.conn, ["int_usage_daily"], undefined, {perPart: Math.ceil(customers / 7)});
    const d = await one<{a: number; b: number; n: number}>(
      w.conn,
      `SELECT (SELECT count(*) FROM (SELECT * FROM marts.int_usage_daily EXCEPT ALL SELECT * FROM at_once)) AS a,
              (SELECT count(*) FROM (SELECT * FROM at_once EXCEPT ALL SELECT * FROM marts.int_usage_daily)) AS b,
              (SELECT count(*) FROM at_once) AS n`,
    );
    expect(d.a).toBe(0);
    expect(d.b).toBe(0);
    expect(d.n).toBeGreaterThan(1000);
  });

  it("the usage aggregate's slices are small only when raw usage is stored in customer order", async () => {
    const {perPart} = SQL_STEPS.find((s) => s.name === "int_usage_daily")!.partitioned!;
    const db = await openWarehouse(":memory:");
    try {
      // 50,000 customers × 120 days: the first million rows name 8,334 customers in customer order, all of them by day
      await db.conn.run(`CREATE SCHEMA raw;
        CREATE TABLE raw.customers AS SELECT printf('C%05d', i) AS customer_id FROM range(50000) t(i);
        CREATE TABLE raw.usage_events AS
          SELECT printf('C%05d', c) AS customer_id, DATE '2026-01-01' + CAST(d AS INTEGER) AS event_date FROM range(50000) a(c), range(120) b(d) ORDER BY c, d`);
      const slice = async () => (await one<{n: number}>(db.conn, `SELECT ${perPart} AS n`)).n;
      expect(await slice()).toBe(CUSTOMERS_PER_USAGE_SLICE.inCustomerOrder);
      await db.conn.run(
        "CREATE OR REPLACE TABLE raw.usage_events AS FROM raw.usage_events ORDER BY event_date, customer_id",
      );
      expect(await slice()).toBe(CUSTOMERS_PER_USAGE_SLICE.otherwise);
    } finally {
      db.close();
    }
  });

  it("portfolio KPIs are consistent with the customer rows", async () => {
    const k = await one<Row>(w.conn, "SELECT * FROM marts.mart_portfolio_kpis");
    const s = await one<Row>(
      w.conn,
      "SELECT count(*) AS n, sum(arr) AS arr, sum(arr_at_risk) AS risk FROM marts.mart_customer_risk_scores",
    );
    expect(k.active_customers).toBe(s.n);
    expect(k.total_arr as number).toBeCloseTo(s.arr as number, 2);
    expect(k.arr_at_risk as number).toBeCloseTo(s.risk as number, 2);
    expect(k.grr_12m as number).toBeLessThanOrEqual(1);
    expect(k.grr_12m as number).toBeGreaterThan(0.5);
    expect(k.nrr_12m as number).toBeGreaterThanOrEqual(k.grr_12m as number);
  });

  it("data-quality checks pass on the built marts and fail loudly on broken ones", async () => {
    expect(await runQualityChecks(w.conn, TEST_AS_OF)).toBeGreaterThan(40);
    await buildMarts(w.conn, TEST_AS_OF);
    await w.conn.run(
      "INSERT INTO marts.mart_customer_risk_scores SELECT * FROM marts.mart_customer_risk_scores LIMIT 1",
    );
    await w.conn.run(
      "UPDATE marts.mart_propensity_quadrant SET health_quadrant = 'Moonshot' WHERE customer_id = (SELECT min(customer_id) FROM marts.mart_propensity_quadrant)",
    );
    await w.conn.run(
      "UPDATE marts.mart_customer_churn_features SET seat_utilisation = -1 WHERE customer_id = (SELECT min(customer_id) FROM marts.mart_customer_churn_features)",
    );
    // two failures of one table, each counted and shown on its own (a table's row checks share one scan)
    await w.conn.run(
      "UPDATE marts.mart_propensity_quadrant SET expansion_probability = NULL, churn_probability = 7 WHERE customer_id = (SELECT max(customer_id) FROM marts.mart_propensity_quadrant)",
    );
    const last = await one<{id: string}>(w.conn, "SELECT max(customer_id) AS id FROM marts.mart_propensity_quadrant");
    const err = await runQualityChecks(w.conn, TEST_AS_OF).catch((e) => e);
    expect(err).toBeInstanceOf(DataQualityError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/marts\.mart_customer_risk_scores\(customer_id\): unique failed for 1 key/);
    expect(msg).toMatch(/marts\.mart_customer_risk_scores: row count \d+, expected \d+/);
    expect(msg).toMatch(
      /marts\.mart_propensity_quadrant\.health_quadrant: accepted_values failed on 1 row\(s\), e\.g\. Moonshot/,
    );
    expect(msg).toMatch(/marts\.mart_customer_churn_features\.seat_utilisation: range \[0, ∞\] failed on 1 row/);
    expect(msg).toContain(
      `marts.mart_propensity_quadrant.expansion_probability: not_null failed on 1 row(s), e.g. ${last.id}`,
    );
    expect(msg).toContain(
      "marts.mart_propensity_quadrant.churn_probability: range [0, 1] failed on 1 row(s), e.g. 7.0",
    );
    // freshness: an as-of date long after the newest event fails
    const stale = await runQualityChecks(w.conn, "2027-06-30", []).catch((e) => e);
    expect((stale as Error).message).toMatch(/raw\.usage_events: freshness failed/);
    await buildMarts(w.conn, TEST_AS_OF);
    expect(MART_CHECKS.length).toBeGreaterThan(5);
  });
});

describe("config module", () => {
  it("is valid as shipped and rejects broken edits with the path of the bad value", () => {
    expect(validateConfig()).toEqual([]);
    const broken = structuredClone(config) as unknown as {
      healthScore: {components: {id: string}[]};
      riskTiers: {minScore: number}[];
    };
    broken.healthScore.components[1]!.id = broken.healthScore.components[0]!.id;
    broken.riskTiers[1]!.minScore = 95;
    const problems = validateConfig(broken as unknown as typeof config);
    expect(problems.join("\n")).toMatch(/config\.healthScore\.components\[1\]: id usage_level is used twice/);
    expect(problems.join("\n")).toMatch(/config\.riskTiers: minScore must strictly decrease/);
  });
});
