/**
 * The synthetic generator against a real in-memory DuckDB: determinism, the raw data contract,
 * temporal sanity, the truth probabilities, and the benchmark findings
 * (usage decay, support overload, activation gate, expansion signals) measured from the tables.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import type {DuckDBConnection} from "@duckdb/node-api";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {config} from "../src/rules/config.ts";
import {CONTRACT} from "../loaders/contract.ts";
import {valuesOf} from "../src/rules/vocabulary.ts";
import {addMonths, MonthGrid, parseIsoDate} from "../loaders/synthetic/calendar.ts";
import {parseGenerateArgs, runGenerate} from "../loaders/cli/generate.ts";
import {UsageError} from "../loaders/cli/command.ts";
import {DEFAULTS, todayUtc} from "../loaders/build.ts";
import {generateSynthetic} from "../loaders/synthetic/generate.ts";
import type {SyntheticSummary} from "../loaders/synthetic/generate.ts";
import {
  churnProbability90,
  nextMean,
  renewalChurn,
  SIGMA,
  starterHazard,
  starterUpgrade,
} from "../loaders/synthetic/latent-health.ts";
import type {TruthState} from "../loaders/synthetic/latent-health.ts";
import {Rng} from "../loaders/synthetic/rng.ts";

const AS_OF = "2026-11-22";
const MAIN = {customers: 1500, seed: 42, asOf: AS_OF};
const MAX_FUTURE = config.dataQuality.maxFutureDays;
const HORIZON = config.dataQuality.churnHorizonDays;
/** the demo's event names whose usage signal counts as engagement */
const ENGAGEMENT = Object.entries(config.vocabulary.usageEvents)
  .filter(([, signal]) => config.engagementSignals.includes(signal))
  .map(([t]) => `'${t}'`)
  .join(", ");

async function open(): Promise<{instance: DuckDBInstance; conn: DuckDBConnection}> {
  const instance = await DuckDBInstance.create(":memory:");
  return {instance, conn: await instance.connect()};
}

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

async function scalar(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = (await conn.runAndReadAll(sql)).getRows()[0]![0];
  return Number(r);
}

/** md5 of every table's rows in key order (content, not physical order) */
async function contentHash(conn: DuckDBConnection): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const spec of [
    ...CONTRACT.map((t) => ({table: `raw.${t.name}`, order: t.key})),
    {table: "truth.churn_probability", order: ["customer_id", "cutoff_date"]},
  ]) {
    const order = spec.order.map((k) => `"${k}"`).join(", ");
    const r = await conn.runAndReadAll(
      `SELECT md5(string_agg(CAST(t AS VARCHAR), '\n' ORDER BY ${order})) FROM ${spec.table} t`,
    );
    out[spec.table] = String(r.getRows()[0]![0]);
  }
  return out;
}

describe("synthetic generator", () => {
  let main: {instance: DuckDBInstance; conn: DuckDBConnection};
  let conn: DuckDBConnection;
  let summary: SyntheticSummary;

  beforeAll(async () => {
    main = await open();
    conn = main.conn;
    summary = await generateSynthetic(conn, MAIN);
    // the analysis population: accounts active at each cutoff whose 90-day label is complete
    await conn.run(`
      CREATE TEMP TABLE pop AS
      SELECT t.customer_id, t.cutoff_date AS c, t.p_churn_90d AS p,
             coalesce(ch.churn_date > t.cutoff_date AND ch.churn_date <= t.cutoff_date + ${HORIZON}, false) AS y
      FROM truth.churn_probability t LEFT JOIN raw.churn_events ch USING (customer_id)
      WHERE t.cutoff_date + ${HORIZON} <= DATE '${AS_OF}'`);
    await conn.run(`
      CREATE TEMP TABLE feat AS
      SELECT p.customer_id, p.c, p.y, p.p,
        (SELECT coalesce(sum(event_count), 0) FROM raw.usage_events u
          WHERE u.customer_id = p.customer_id AND u.event_date >= p.c - 30 AND u.event_date < p.c AND u.event_type IN (${ENGAGEMENT})) AS ev30,
        (SELECT count(*) FROM raw.support_tickets s
          WHERE s.customer_id = p.customer_id AND s.opened_at >= p.c - 30 AND s.opened_at < p.c AND s.priority IN ('high', 'urgent')) AS hi30,
        (SELECT coalesce(sum(event_count), 0) FROM raw.usage_events u
          WHERE u.customer_id = p.customer_id AND u.event_date >= p.c - 30 AND u.event_date < p.c AND u.event_type = 'premium_feature_trial') AS trials30,
        (SELECT count(*) FROM raw.gtm_opportunities o
          WHERE o.customer_id = p.customer_id AND o.opportunity_type = 'expansion' AND o.created_date >= p.c AND o.created_date < p.c + 90) AS exp_opps_next90,
        (SELECT count(*) FROM raw.cs_outreach o WHERE o.customer_id = p.customer_id AND o.outreach_date >= p.c - 90 AND o.outreach_date < p.c) AS outreach90,
        (SELECT count(*) FROM raw.subscription_changes s WHERE s.customer_id = p.customer_id AND s.change_type IN ('seat_remove', 'downgrade') AND s.change_date >= p.c - 90 AND s.change_date < p.c) AS shrink90
      FROM pop p`);
  });

  afterAll(() => {
    main.conn.closeSync();
    main.instance.closeSync();
  });

  it("rejects invalid options with a clear error", async () => {
    const {conn: c, instance} = await open();
    await expect(generateSynthetic(c, {customers: 10, seed: 1, asOf: "2026-13-01"})).rejects.toThrow(/asOf|date/);
    await expect(generateSynthetic(c, {customers: 0, seed: 1, asOf: AS_OF})).rejects.toThrow(/customers/);
    instance.closeSync();
  });

  it("is deterministic: same options give identical content, another seed differs", async () => {
    const opts = {customers: 300, seed: 7, asOf: AS_OF, months: 12};
    const runs: Record<string, string>[] = [];
    for (const seed of [7, 7, 8]) {
      const {conn: c, instance} = await open();
      await generateSynthetic(c, {...opts, seed});
      runs.push(await contentHash(c));
      instance.closeSync();
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]!["raw.usage_events"]).not.toBe(runs[0]!["raw.usage_events"]);
    expect(runs[2]!["raw.customers"]).not.toBe(runs[0]!["raw.customers"]);
    expect(runs[2]!["truth.churn_probability"]).not.toBe(runs[0]!["truth.churn_probability"]);
  });

  it("fills every raw table and reports its row counts", async () => {
    for (const spec of CONTRACT) {
      const n = await scalar(conn, `SELECT count(*) FROM raw.${spec.name}`);
      expect(n, spec.name).toBeGreaterThan(0);
      expect(summary.tables[spec.name], spec.name).toBe(n);
    }
    expect(await scalar(conn, "SELECT count(*) FROM raw.customers")).toBe(MAIN.customers);
    expect(summary.seconds).toBeGreaterThan(0);
  });

  it("satisfies the raw data contract: types, required, accepted values, ranges, keys, references, row rules, dates", async () => {
    const maxDate = `DATE '${AS_OF}' + ${MAX_FUTURE}`;
    for (const spec of CONTRACT) {
      const described = await rows(conn, `DESCRIBE raw.${spec.name}`);
      expect(
        described.map((d) => [d.column_name, d.column_type]),
        spec.name,
      ).toEqual(spec.columns.map((c) => [c.name, c.type]));
      const keyCols = spec.key.map((k) => `"${k}"`).join(", ");
      expect(
        await scalar(conn, `SELECT count(*) - count(DISTINCT (${keyCols})) FROM raw.${spec.name}`),
        `${spec.name} key`,
      ).toBe(0);
      for (const col of spec.columns) {
        const c = `"${col.name}"`;
        const where = `${spec.name}.${col.name}`;
        if (col.required)
          expect(
            await scalar(conn, `SELECT count(*) FROM raw.${spec.name} WHERE ${c} IS NULL`),
            `${where} required`,
          ).toBe(0);
        if (col.vocabulary) {
          const list = valuesOf(config.vocabulary, col.vocabulary)
            .map((v) => `'${v}'`)
            .join(", ");
          expect(
            await scalar(
              conn,
              `SELECT count(*) FROM raw.${spec.name} WHERE ${c} IS NOT NULL AND ${c} NOT IN (${list})`,
            ),
            `${where} accepted`,
          ).toBe(0);
        }
        if (col.min !== undefined)
          expect(
            await scalar(conn, `SELECT count(*) FROM raw.${spec.name} WHERE ${c} < ${col.min}`),
            `${where} min`,
          ).toBe(0);
        if (col.max !== undefined)
          expect(
            await scalar(conn, `SELECT count(*) FROM raw.${spec.name} WHERE ${c} > ${col.max}`),
            `${where} max`,
          ).toBe(0);
        if (col.references)
          expect(
            await scalar(
              conn,
              `SELECT count(*) FROM raw.${spec.name} x WHERE x.${c} IS NOT NULL AND x.${c} NOT IN (SELECT "${col.references.column}" FROM raw.${col.references.table})`,
            ),
            `${where} references`,
          ).toBe(0);
        if (col.notFarFuture)
          expect(
            await scalar(conn, `SELECT count(*) FROM raw.${spec.name} WHERE CAST(${c} AS DATE) > ${maxDate}`),
            `${where} future`,
          ).toBe(0);
      }
      for (const rule of spec.rowRules ?? [])
        expect(
          await scalar(conn, `SELECT count(*) FROM raw.${spec.name} WHERE NOT (${rule.sql})`),
          `${spec.name}: ${rule.rule}`,
        ).toBe(0);
    }
  });

  it("has no activity after as-of or after an account's churn date", async () => {
    const afterAsOf: [string, string][] = [
      ["usage_events", "event_date"],
      ["support_tickets", "CAST(opened_at AS DATE)"],
      ["support_tickets", "CAST(resolved_at AS DATE)"],
      ["nps_responses", "response_date"],
      ["cs_outreach", "outreach_date"],
      ["invoices", "issued_date"],
      ["invoices", "paid_date"],
      ["churn_events", "churn_date"],
      ["customers", "signup_date"],
    ];
    for (const [table, expr] of afterAsOf)
      expect(
        await scalar(conn, `SELECT count(*) FROM raw.${table} WHERE ${expr} > DATE '${AS_OF}'`),
        `${table}.${expr} after as-of`,
      ).toBe(0);
    const afterChurn: [string, string][] = [
      ["usage_events", "event_date"],
      ["support_tickets", "CAST(opened_at AS DATE)"],
      ["nps_responses", "response_date"],
      ["cs_outreach", "outreach_date"],
      ["invoices", "issued_date"],
      ["subscription_changes", "change_date"],
    ];
    for (const [table, expr] of afterChurn)
      expect(
        await scalar(
          conn,
          `SELECT count(*) FROM raw.${table} x JOIN raw.churn_events c USING (customer_id) WHERE ${expr} > c.churn_date`,
        ),
        `${table} after churn`,
      ).toBe(0);
    // nothing before signup either
    expect(
      await scalar(
        conn,
        "SELECT count(*) FROM raw.usage_events u JOIN raw.customers c USING (customer_id) WHERE u.event_date < c.signup_date",
      ),
    ).toBe(0);
    // open opportunities only for live accounts, closed ones not in the future
    expect(
      await scalar(
        conn,
        `SELECT count(*) FROM raw.gtm_opportunities WHERE stage IN ('closed_won', 'closed_lost') AND close_date > DATE '${AS_OF}'`,
      ),
    ).toBe(0);
    expect(
      await scalar(
        conn,
        `SELECT count(*) FROM raw.gtm_opportunities WHERE stage NOT IN ('closed_won', 'closed_lost') AND close_date <= DATE '${AS_OF}'`,
      ),
    ).toBe(0);
    expect(
      await scalar(
        conn,
        "SELECT count(*) FROM raw.gtm_opportunities o JOIN raw.churn_events c USING (customer_id) WHERE o.stage NOT IN ('closed_won', 'closed_lost')",
      ),
    ).toBe(0);
    // renewal opportunities agree with the churn outcome
    expect(
      await scalar(
        conn,
        "SELECT count(*) FROM raw.gtm_opportunities o JOIN raw.churn_events c USING (customer_id) WHERE o.opportunity_type = 'renewal' AND o.stage = 'closed_lost' AND o.close_date <> c.churn_date",
      ),
    ).toBe(0);
  });

  it("keeps daily active users within the seats held that day, but for the accounts that over-deploy (within their factor)", async () => {
    const over = (cond: string) =>
      scalar(
        conn,
        `WITH au AS (SELECT customer_id, event_date, event_count FROM raw.usage_events WHERE event_type = 'active_users'),
         seats AS (
           SELECT a.customer_id, a.event_date, a.event_count, t.over_deploy_factor AS factor,
             c.seats_purchased - coalesce((SELECT sum(seats_delta) FROM raw.subscription_changes s WHERE s.customer_id = a.customer_id AND s.change_date > a.event_date), 0) AS seats_then
           FROM au a JOIN raw.customers c USING (customer_id) JOIN truth.account_signals t USING (customer_id))
         SELECT count(*) FROM seats WHERE ${cond}`,
      );
    expect(await over("factor = 1 AND event_count > seats_then")).toBe(0);
    expect(await over("event_count > round(seats_then * factor)")).toBe(0);
    expect(await over("factor > 1 AND event_count > seats_then")).toBeGreaterThan(0);
  });

  it("looks like a B2B SaaS portfolio", async () => {
    const tiers = Object.fromEntries(
      (
        await rows(conn, "SELECT plan_tier, count(*) / sum(count(*)) OVER () AS share FROM raw.customers GROUP BY 1")
      ).map((r) => [r.plan_tier, Number(r.share)]),
    );
    expect(tiers.Starter).toBeGreaterThan(0.38);
    expect(tiers.Starter).toBeLessThan(0.6);
    expect(tiers.Enterprise).toBeGreaterThan(0.1);
    expect(tiers.Enterprise).toBeLessThan(0.25);
    for (const {name: tier, arrCeiling: ceiling} of config.vocabulary.planTiers)
      expect(
        await scalar(conn, `SELECT count(*) FROM raw.customers WHERE plan_tier = '${tier}' AND arr > ${ceiling}`),
        tier,
      ).toBe(0);
    const avgArr = await scalar(conn, "SELECT avg(arr) FROM raw.customers");
    expect(avgArr).toBeGreaterThan(35_000);
    expect(avgArr).toBeLessThan(60_000);
    expect(
      await scalar(conn, "SELECT count(*) FROM raw.customers WHERE primary_contact_email NOT LIKE '%@example.com'"),
    ).toBe(0);
    expect(
      await scalar(conn, "SELECT count(*) FROM raw.customers WHERE NOT regexp_full_match(customer_id, 'C[0-9]{6}')"),
    ).toBe(0);
    const csms = await scalar(conn, "SELECT count(DISTINCT csm_owner) FROM raw.customers");
    expect(csms).toBeGreaterThan(MAIN.customers / 90);
    expect(csms).toBeLessThanOrEqual(Math.round(MAIN.customers / 60));
    // accounts from before the window and a stream of new signups during it
    const start = `DATE '${AS_OF}' - INTERVAL 24 MONTH`;
    expect(
      await scalar(conn, `SELECT count(*) FROM raw.customers WHERE signup_date < ${start} - INTERVAL 3 YEAR`),
    ).toBeGreaterThan(0);
    const newShare = await scalar(conn, `SELECT avg((signup_date > ${start})::INT) FROM raw.customers`);
    expect(newShare).toBeGreaterThan(0.2);
    expect(
      await scalar(
        conn,
        `SELECT count(DISTINCT date_trunc('month', signup_date)) FROM raw.customers WHERE signup_date > ${start}`,
      ),
    ).toBeGreaterThanOrEqual(24);
    // annual logo churn among accounts live a year before as-of: ~10–15 %
    const churn = (
      await rows(
        conn,
        `
      WITH base AS (SELECT customer_id, plan_tier, arr FROM raw.customers WHERE signup_date <= DATE '${AS_OF}' - 365
        AND customer_id NOT IN (SELECT customer_id FROM raw.churn_events WHERE churn_date <= DATE '${AS_OF}' - 365))
      SELECT avg((c.customer_id IS NOT NULL)::INT) AS logo, sum(coalesce(c.arr_lost, 0)) / sum(b.arr) AS revenue
      FROM base b LEFT JOIN raw.churn_events c ON c.customer_id = b.customer_id AND c.churn_date > DATE '${AS_OF}' - 365`,
      )
    )[0]!;
    expect(Number(churn.logo)).toBeGreaterThan(0.08);
    expect(Number(churn.logo)).toBeLessThan(0.19);
    expect(Number(churn.revenue)).toBeLessThan(Number(churn.logo));
    // churn dates: Growth/Enterprise at a term end (a month end), Starter at a month end
    expect(await scalar(conn, "SELECT count(*) FROM raw.churn_events WHERE churn_date <> last_day(churn_date)")).toBe(
      0,
    );
    // a few hostile or personal ticket subjects on purpose (guardrail test material)
    const hostile = await scalar(
      conn,
      "SELECT avg((subject ILIKE '%ignore%instructions%' OR subject ILIKE '%@example.com%' OR subject LIKE '%555%' OR subject ILIKE '%system prompt%' OR subject ILIKE 'SYSTEM:%' OR subject ILIKE '%forget the rules%')::INT) FROM raw.support_tickets",
    );
    expect(hostile).toBeGreaterThan(0.001);
    expect(hostile).toBeLessThan(0.015);
  });

  it("writes truth probabilities for exactly the accounts active at each cutoff", async () => {
    const grid = new MonthGrid(parseIsoDate(AS_OF), 24);
    expect(await scalar(conn, "SELECT count(DISTINCT cutoff_date) FROM truth.churn_probability")).toBe(
      grid.cutoffs().length,
    );
    expect(
      await scalar(
        conn,
        "SELECT count(*) FROM truth.churn_probability WHERE p_churn_90d < 0 OR p_churn_90d > 1 OR p_churn_90d IS NULL",
      ),
    ).toBe(0);
    const mismatch = await scalar(
      conn,
      `WITH cut AS (SELECT DISTINCT cutoff_date AS c FROM truth.churn_probability),
       active AS (SELECT cu.customer_id, cut.c FROM raw.customers cu CROSS JOIN cut LEFT JOIN raw.churn_events ch USING (customer_id)
                  WHERE cu.signup_date < cut.c AND (ch.churn_date IS NULL OR ch.churn_date > cut.c))
       SELECT (SELECT count(*) FROM (SELECT customer_id, c FROM active EXCEPT SELECT customer_id, cutoff_date FROM truth.churn_probability))
            + (SELECT count(*) FROM (SELECT customer_id, cutoff_date FROM truth.churn_probability EXCEPT SELECT customer_id, c FROM active))`,
    );
    expect(mismatch).toBe(0);
    expect(await scalar(conn, `SELECT (max(cutoff_date) = DATE '${AS_OF}')::INT FROM truth.churn_probability`)).toBe(1);
  });

  it("truth probabilities are calibrated and discriminate realised churn", async () => {
    const r = (
      await rows(
        conn,
        "SELECT avg(p) FILTER (WHERE y) AS p1, avg(p) FILTER (WHERE NOT y) AS p0, avg(p) AS mean_p, avg(y::INT) AS rate, count(*) FILTER (WHERE y) AS n1 FROM pop",
      )
    )[0]!;
    expect(Number(r.n1)).toBeGreaterThan(100);
    expect(Number(r.p1)).toBeGreaterThan(3 * Number(r.p0));
    expect(Number(r.mean_p)).toBeGreaterThan(Number(r.rate) * 0.8);
    expect(Number(r.mean_p)).toBeLessThan(Number(r.rate) * 1.25);
    const auc = await scalar(
      conn,
      `WITH r AS (SELECT c, y, rank() OVER (PARTITION BY c ORDER BY p) AS rk FROM pop),
       a AS (SELECT sum(rk) FILTER (WHERE y) AS s1, count(*) FILTER (WHERE y) AS n1, count(*) FILTER (WHERE NOT y) AS n0 FROM r GROUP BY c HAVING n1 > 0)
       SELECT avg((s1 - n1 * (n1 + 1) / 2.0) / (n1 * n0)) FROM a`,
    );
    expect(auc).toBeGreaterThan(0.78);
  });

  it("truth quadrature matches a Monte Carlo of the same latent dynamics", () => {
    // month k ends on Jan 31 + k months (clamped to the month's length)
    const monthEnd = (k: number) => addMonths(parseIsoDate("2026-01-31"), k);
    const monthOf = (day: number) => {
      let k = 0;
      while (monthEnd(k) < day) k++;
      return k;
    };
    const cutoff = monthEnd(0) + 1; // Feb 1st: month 0 (January) is known
    const states: TruthState[] = [
      {
        tier: "Starter",
        mu: -0.6,
        e: 0.3,
        act: false,
        signup: cutoff - 20,
        knownMonth: 0,
        zKnown: -1.2,
        termEnd: monthEnd(11),
        firstEligibleMonth: 1,
        extra: 0,
      },
      {
        tier: "Starter",
        mu: 0.2,
        e: 1.5,
        act: true,
        signup: cutoff - 400,
        knownMonth: 0,
        zKnown: 0.1,
        termEnd: monthEnd(5),
        firstEligibleMonth: -10,
        extra: 0,
      },
      {
        tier: "Growth",
        mu: -0.3,
        e: -0.5,
        act: false,
        signup: cutoff - 900,
        knownMonth: 0,
        zKnown: -0.9,
        termEnd: monthEnd(2),
        firstEligibleMonth: -20,
        extra: 0,
      },
    ];
    const rng = new Rng(99, 1);
    for (const s of states) {
      const p = churnProbability90(s, cutoff, HORIZON, monthEnd, monthOf);
      let churned = 0;
      const n = 100_000;
      for (let i = 0; i < n; i++) {
        let z = s.zKnown;
        let tier = s.tier;
        for (let j = 1; j <= 3; j++) {
          z = nextMean(s.mu, z) + SIGMA * rng.normal();
          const me = monthEnd(j);
          if (me > cutoff + HORIZON) break;
          if (tier === "Starter" && j >= s.firstEligibleMonth) {
            if (rng.u() < starterHazard(z, s.e, me - s.signup <= HORIZON, s.act)) {
              churned++;
              break;
            }
            if (rng.u() < starterUpgrade(z, s.e)) tier = "Growth";
          } else if (tier !== "Starter" && s.termEnd === me) {
            if (rng.u() < renewalChurn(tier, z, s.e)) churned++;
            break;
          }
        }
      }
      const mc = churned / n;
      expect(p).toBeGreaterThan(0);
      expect(Math.abs(p - mc), `${s.tier} p=${p} mc=${mc}`).toBeLessThan(4 * Math.sqrt((mc * (1 - mc)) / n) + 0.002);
    }
  });

  it("finding 1 — usage decay: dormant accounts churn several times as often as active ones", async () => {
    const r = (
      await rows(
        conn,
        `SELECT avg(y::INT) FILTER (WHERE ev30 < ${config.flags.lowEventsThreshold30d}) AS low, avg(y::INT) FILTER (WHERE ev30 >= ${config.flags.lowEventsThreshold30d}) AS active, count(*) FILTER (WHERE ev30 < ${config.flags.lowEventsThreshold30d}) AS n_low FROM feat`,
      )
    )[0]!;
    expect(Number(r.n_low)).toBeGreaterThan(100);
    const ratio = Number(r.low) / Number(r.active);
    expect(ratio).toBeGreaterThan(2.2);
    expect(ratio).toBeLessThan(8);
    // and usage per seat tracks the latent risk: the truth probability falls across usage quintiles
    const byQuintile = await rows(
      conn,
      `
      WITH s AS (SELECT f.p, f.ev30 / c.seats_purchased AS per_seat FROM feat f JOIN raw.customers c USING (customer_id)),
      q AS (SELECT p, ntile(5) OVER (ORDER BY per_seat) AS qn FROM s)
      SELECT qn, avg(p) AS p FROM q GROUP BY qn ORDER BY qn`,
    );
    expect(Number(byQuintile[0]!.p)).toBeGreaterThan(2 * Number(byQuintile[4]!.p));
  });

  it("finding 2 — support overload: ≥ 2 high/urgent tickets in 30 days roughly doubles churn", async () => {
    const r = (
      await rows(
        conn,
        `SELECT avg(y::INT) FILTER (WHERE hi30 >= ${config.flags.supportOverloadHighTickets}) AS overload, avg(y::INT) AS base, count(*) FILTER (WHERE hi30 >= ${config.flags.supportOverloadHighTickets}) AS n FROM feat`,
      )
    )[0]!;
    expect(Number(r.n)).toBeGreaterThan(100);
    const ratio = Number(r.overload) / Number(r.base);
    expect(ratio).toBeGreaterThan(1.5);
    expect(ratio).toBeLessThan(4);
  });

  it("finding 3 — activation gate: ≥ 3 integrations in the first 30 days cut first-90-day churn", async () => {
    const r = await rows(
      conn,
      `
      WITH newc AS (
        SELECT c.customer_id,
          (SELECT coalesce(sum(event_count), 0) FROM raw.usage_events u WHERE u.customer_id = c.customer_id AND u.event_type = 'integration_connect' AND u.event_date < c.signup_date + 30) AS integ,
          coalesce(ch.churn_date <= c.signup_date + ${HORIZON}, false) AS churn90
        FROM raw.customers c LEFT JOIN raw.churn_events ch USING (customer_id)
        WHERE c.signup_date > DATE '${AS_OF}' - INTERVAL 24 MONTH AND c.signup_date + ${HORIZON} <= DATE '${AS_OF}')
      SELECT integ >= ${config.flags.activationGateIntegrations} AS activated, count(*) AS n, avg(churn90::INT) AS rate FROM newc GROUP BY 1 ORDER BY 1`,
    );
    expect(r).toHaveLength(2);
    const [off, on] = r as [Record<string, unknown>, Record<string, unknown>];
    expect(Number(on.n)).toBeGreaterThan(50);
    expect(Number(off.rate)).toBeGreaterThan(0.02);
    const reduction = 1 - Number(on.rate) / Number(off.rate);
    expect(reduction).toBeGreaterThan(0.35);
  });

  it("finding 4 — expansion signals: premium trials predict expansion opportunities and upgrades", async () => {
    const r = (
      await rows(
        conn,
        `
      WITH q AS (SELECT *, ntile(4) OVER (ORDER BY trials30, customer_id) AS qn FROM feat)
      SELECT avg(exp_opps_next90) FILTER (WHERE qn = 4) AS top, avg(exp_opps_next90) FILTER (WHERE qn = 1) AS bottom FROM q`,
      )
    )[0]!;
    expect(Number(r.top)).toBeGreaterThan(1.8 * Number(r.bottom));
    const upgraders = await scalar(
      conn,
      `
      WITH t AS (SELECT customer_id, sum(event_count) AS trials FROM raw.usage_events WHERE event_type = 'premium_feature_trial' GROUP BY 1),
      per_seat AS (SELECT c.customer_id, coalesce(t.trials, 0) / c.seats_purchased AS x, c.customer_id IN (SELECT customer_id FROM raw.subscription_changes WHERE change_type = 'upgrade') AS up
                   FROM raw.customers c LEFT JOIN t USING (customer_id))
      SELECT avg(x) FILTER (WHERE up) / avg(x) FILTER (WHERE NOT up) FROM per_seat`,
    );
    expect(upgraders).toBeGreaterThan(1.3);
    const fr = await scalar(
      conn,
      `
      WITH f AS (SELECT customer_id, count(*) AS n FROM raw.support_tickets WHERE category = 'feature_request' GROUP BY 1)
      SELECT corr(coalesce(f.n, 0), coalesce(o.n, 0)) FROM raw.customers c LEFT JOIN f USING (customer_id)
      LEFT JOIN (SELECT customer_id, count(*) AS n FROM raw.gtm_opportunities WHERE opportunity_type = 'expansion' GROUP BY 1) o USING (customer_id)`,
    );
    expect(fr).toBeGreaterThan(0.1);
  });

  it("health shows in CSAT, NPS, payments and CS outreach", async () => {
    // NPS answered in the 90 days before a churn is lower than other answers
    const nps = (
      await rows(
        conn,
        `
      SELECT avg(score) FILTER (WHERE c.churn_date IS NOT NULL AND n.response_date > c.churn_date - 90) AS pre_churn,
             avg(score) FILTER (WHERE c.churn_date IS NULL) AS retained
      FROM raw.nps_responses n LEFT JOIN raw.churn_events c USING (customer_id)`,
      )
    )[0]!;
    expect(Number(nps.pre_churn)).toBeLessThan(Number(nps.retained) - 0.5);
    const csat = (
      await rows(
        conn,
        `
      SELECT avg(csat_score) FILTER (WHERE c.churn_date IS NOT NULL AND CAST(t.opened_at AS DATE) > c.churn_date - 90) AS pre_churn,
             avg(csat_score) FILTER (WHERE c.churn_date IS NULL) AS retained
      FROM raw.support_tickets t LEFT JOIN raw.churn_events c USING (customer_id)`,
      )
    )[0]!;
    expect(Number(csat.pre_churn)).toBeLessThan(Number(csat.retained) - 0.3);
    const late = (
      await rows(
        conn,
        `
      SELECT avg((coalesce(paid_date, DATE '${AS_OF}') > due_date)::INT) FILTER (WHERE c.churn_date IS NOT NULL AND i.issued_date > c.churn_date - 180) AS pre_churn,
             avg((coalesce(paid_date, DATE '${AS_OF}') > due_date)::INT) FILTER (WHERE c.churn_date IS NULL AND i.due_date < DATE '${AS_OF}') AS retained
      FROM raw.invoices i LEFT JOIN raw.churn_events c USING (customer_id)`,
      )
    )[0]!;
    expect(Number(late.pre_churn)).toBeGreaterThan(1.5 * Number(late.retained));
    const outreach = (
      await rows(
        conn,
        `SELECT avg(outreach90) FILTER (WHERE ev30 < ${config.flags.lowEventsThreshold30d}) AS dormant, avg(outreach90) FILTER (WHERE ev30 >= 200) AS busy FROM feat f JOIN raw.customers c USING (customer_id) WHERE c.plan_tier = 'Starter'`,
      )
    )[0]!;
    expect(Number(outreach.dormant)).toBeGreaterThan(1.5 * Number(outreach.busy));
    // seat removals / downgrades in the last 90 days precede churn
    const shrink = (
      await rows(conn, "SELECT avg(y::INT) FILTER (WHERE shrink90 > 0) AS shrinking, avg(y::INT) AS base FROM feat")
    )[0]!;
    expect(Number(shrink.shrinking)).toBeGreaterThan(1.5 * Number(shrink.base));
  });

  it("CLI: validates arguments and writes one file per raw table", async () => {
    expect(() => parseGenerateArgs(["--customers", "ten", "--seed", "1", "--as-of", AS_OF, "--out", "x"])).toThrow(
      /--customers must be an integer/,
    );
    expect(() =>
      parseGenerateArgs(["--customers", "10", "--seed", "1", "--as-of", "2026-02-30", "--out", "x"]),
    ).toThrow(/--as-of/);
    expect(() =>
      parseGenerateArgs(["--customers", "10", "--seed", "1", "--as-of", AS_OF, "--out", "x", "--format", "xlsx"]),
    ).toThrow(/--format/);
    expect(() => parseGenerateArgs(["--customers", "10", "--seed", "1", "--as-of", AS_OF])).toThrow(
      /--out is required/,
    );
    expect(() => parseGenerateArgs(["--customers", "10", "--bogus", "1"])).toThrow(/bogus/);
    // a wrong call is a usage error (exit 2), not a failure of the work
    expect(() => parseGenerateArgs(["--customers", "10", "--bogus", "1"])).toThrow(UsageError);
    // only --out is needed: the rest defaults to what the build generates
    expect(parseGenerateArgs(["--out", "x"])).toMatchObject({
      customers: DEFAULTS.customers,
      seed: DEFAULTS.seed,
      "as-of": todayUtc(),
      format: "csv",
    });
    const dir = mkdtempSync(join(tmpdir(), "saasguard-gen-"));
    try {
      for (const format of ["csv", "parquet"] as const) {
        const out = join(dir, format);
        const args = parseGenerateArgs([
          "--customers",
          "60",
          "--seed",
          "3",
          "--as-of",
          AS_OF,
          "--out",
          out,
          "--format",
          format,
          "--months",
          "6",
        ]);
        const tables = await runGenerate(args, () => {});
        expect(readdirSync(out).sort()).toEqual(CONTRACT.map((t) => `${t.name}.${format}`).sort());
        const {conn: c, instance} = await open();
        for (const spec of CONTRACT) {
          const file = join(out, `${spec.name}.${format}`);
          const n = await scalar(
            c,
            `SELECT count(*) FROM ${format === "csv" ? "read_csv" : "read_parquet"}('${file}')`,
          );
          expect(n, spec.name).toBe(tables[spec.name]);
        }
        instance.closeSync();
        if (format === "csv")
          expect(readFileSync(join(out, "customers.csv"), "utf8").split("\n")[0]).toBe(
            CONTRACT[0]!.columns.map((col) => col.name).join(","),
          );
      }
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
