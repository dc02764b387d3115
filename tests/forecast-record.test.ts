/**
 * The forecast's record (loaders/forecast-record.ts): the back-filled quarter-start forecasts, which
 * must use nothing that happened after their day; what happened, for the accounts each was
 * about; the naive forecast; and the coverage of lumpy contraction in small groups.
 */
import {copyFileSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {all, one, openWarehouse, run, type Warehouse} from "../loaders/duckdb.ts";
import {backfillForecasts} from "../loaders/forecast-record.ts";
import {loadRules} from "../loaders/marts.ts";
import {simulateForecast, type ForecastAccount} from "../loaders/forecast.ts";
import {FORECAST_QUANTILES} from "../loaders/forecast-tables.ts";
import {makeRng} from "../loaders/model/rng.ts";
import {featuresAsOf} from "../loaders/model/train-horizon.ts";
import {inSample} from "../loaders/score-horizon.ts";
import {ensureTestWarehouse, TEST_WAREHOUSE_AS_OF} from "./helpers/test-warehouse.ts";

const q = (p: number) => FORECAST_QUANTILES.indexOf(p as (typeof FORECAST_QUANTILES)[number]);

describe("the back-filled forecasts and their record", () => {
  let wh: string;
  const dir = mkdtempSync(join(tmpdir(), "saasguard-forecast-record-"));
  beforeAll(async () => {
    wh = await ensureTestWarehouse();
  });
  afterAll(() => rmSync(dir, {recursive: true, force: true}));
  /** Runs `f` on a writable copy of the test warehouse with the session's rules loaded, as the build's connection has them (the feature macro reads some). */
  const onCopy = async (name: string, f: (w: Warehouse) => Promise<void>) => {
    const copy = join(dir, name);
    copyFileSync(wh, copy);
    const w = await openWarehouse(copy);
    try {
      await loadRules(w.conn, TEST_WAREHOUSE_AS_OF);
      await f(w);
    } finally {
      w.close();
    }
  };

  it("the build back-fills each quarter's first day it can, point in time, and records the closed quarters", async () => {
    const w = await openWarehouse(wh, {readOnly: true});
    try {
      const made = await all<{made_on: string; first: string; quarters: number; modulus: number}>(
        w.conn,
        `SELECT CAST(made_on AS VARCHAR) AS made_on, min(quarter_label) AS first, count(DISTINCT quarter)::INTEGER AS quarters,
                max(sample_modulus)::INTEGER AS modulus
         FROM marts.forecast_history WHERE backfilled GROUP BY ALL ORDER BY made_on`,
      );
      // as of 2026-06-30 with 24 months of history: the first days with a year of outcomes before them
      expect(made.length).toBeGreaterThanOrEqual(2);
      expect(made.at(-1)).toEqual({made_on: "2026-04-01", first: "2026-Q2", quarters: 4, modulus: 1});
      // the record holds only closed quarters, and every group of each forecast
      const cells = await all<{label: string; ahead: number; kinds: number; open: number}>(
        w.conn,
        `SELECT quarter_label AS label, quarters_ahead AS ahead, count(DISTINCT group_kind)::INTEGER AS kinds,
                count(*) FILTER (WHERE last_day > DATE '${TEST_WAREHOUSE_AS_OF}')::INTEGER AS open
         FROM marts.forecast_accuracy GROUP BY ALL ORDER BY ALL`,
      );
      expect(cells.length).toBeGreaterThan(0);
      expect(cells.every((c) => c.kinds === 5 && c.open === 0)).toBe(true);
      expect(cells.some((c) => c.label === "2026-Q2" && c.ahead === 1)).toBe(true);
    } finally {
      w.close();
    }
  });

  it("what happened is the retention of the accounts active on the day the forecast was made", async () => {
    const w = await openWarehouse(wh, {readOnly: true});
    try {
      const rec = await one<{actual: number; naive: number; start: number}>(
        w.conn,
        `SELECT actual_grr AS actual, naive_grr AS naive, actual_start_arr AS start FROM marts.forecast_accuracy
         WHERE made_on = DATE '2026-04-01' AND quarters_ahead = 1 AND group_kind = 'portfolio'`,
      );
      // by hand from the raw tables: ARR on 1 April of the accounts active that day, kept to 30 June
      const hand = await one<{start: number; kept: number}>(
        w.conn,
        `WITH s AS (SELECT customer_id, arr FROM marts.int_contract_as_of(DATE '2026-04-01')
                    SEMI JOIN marts.int_active_customers_as_of(DATE '2026-04-01') USING (customer_id)),
              e AS (SELECT customer_id, arr FROM marts.int_contract_as_of(DATE '2026-06-30')
                    SEMI JOIN marts.int_active_customers_as_of(DATE '2026-06-30') USING (customer_id))
         SELECT sum(s.arr) AS start, sum(least(coalesce(e.arr, 0), s.arr)) AS kept FROM s LEFT JOIN e USING (customer_id)`,
      );
      expect(rec.start).toBeCloseTo(hand.start, 4);
      expect(rec.actual).toBeCloseTo(hand.kept / hand.start, 10);
      // the naive forecast: the year before's GRR, scaled to the quarter's 90 days
      const year = await one<{g: number}>(
        w.conn,
        `SELECT sum(least(arr_end, arr_start)) / sum(arr_start) AS g FROM marts.int_retention_between(DATE '2026-04-01' - 365, DATE '2026-04-01')`,
      );
      expect(rec.naive).toBeCloseTo(year.g ** (90 / 365), 10);
    } finally {
      w.close();
    }
  });

  it("a back-filled forecast reads nothing that happened after its day", async () => {
    await onCopy("warehouse.duckdb", async (w) => {
      const day = "2026-04-01";
      const cells = () =>
        all<Record<string, unknown>>(
          w.conn,
          `SELECT quarter, group_kind, group_value, start_arr, grr_expected, grr_p10, grr_p50, grr_p90, nrr_p50, round(tau, 9) AS tau
         FROM marts.forecast_history WHERE made_on = DATE '${day}' ORDER BY ALL`,
        );
      const before = await cells();
      expect(before.length).toBeGreaterThan(0);
      // made again after rewriting the future: every churn, usage day, ticket and NPS answer after the day is gone
      await run(w.conn, `DELETE FROM marts.forecast_history WHERE made_on = DATE '${day}'`);
      await run(w.conn, `DELETE FROM raw.churn_events WHERE churn_date > DATE '${day}'`);
      await run(w.conn, `DELETE FROM raw.usage_events WHERE event_date > DATE '${day}'`);
      await run(w.conn, `DELETE FROM marts.int_usage_daily WHERE event_date > DATE '${day}'`);
      await run(w.conn, `DELETE FROM raw.support_tickets WHERE CAST(opened_at AS DATE) > DATE '${day}'`);
      await run(w.conn, `DELETE FROM raw.nps_responses WHERE response_date > DATE '${day}'`);
      const log: string[] = [];
      const {made} = await backfillForecasts(w.conn, TEST_WAREHOUSE_AS_OF, (m) => log.push(m));
      expect(made).toEqual([day]);
      expect(await cells()).toEqual(before);
    });
  });

  it("a day with no month of outcomes to train on is not back-filled, and no snapshot is built for it", async () => {
    await onCopy("early.duckdb", async (w) => {
      const first = await one<{d: string}>(
        w.conn,
        "SELECT CAST(min(event_date) AS VARCHAR) AS d FROM raw.usage_events",
      );
      // a year after the data starts: each of the 4 quarter starts before it has fewer than 6 months of outcomes
      const asOf = await one<{d: string}>(w.conn, `SELECT CAST(DATE '${first.d}' + INTERVAL 12 MONTH AS VARCHAR) AS d`);
      await run(w.conn, "DELETE FROM marts.forecast_history");
      // the snapshot reads the churns: were it built, the back-fill would fail
      await run(w.conn, "DROP TABLE raw.churn_events");
      const log: string[] = [];
      const {made, skipped} = await backfillForecasts(w.conn, asOf.d, (m) => log.push(m));
      expect(made).toEqual([]);
      expect(skipped).toHaveLength(4);
      for (const s of skipped) expect(s).toMatch(/^\d{4}-\d{2}-01: not enough history .* no quarter-start cutoff/);
      expect(log.filter((l) => l.startsWith("forecast record: not back-filled"))).toHaveLength(4);
    });
  });

  it("a sample's features, read through the macro's sample, are the whole portfolio's for those accounts", async () => {
    await onCopy("sample.duckdb", async (w) => {
      for (const day of ["2026-01-01", TEST_WAREHOUSE_AS_OF]) {
        const d = `DATE '${day}'`;
        const sampled = `SELECT * FROM ${featuresAsOf(d, 3)}`;
        const whole = `SELECT * FROM ${featuresAsOf(d)} WHERE ${inSample(3)}`;
        const n = await one<{all: number; sample: number; differ: number}>(
          w.conn,
          `SELECT (SELECT count(*) FROM ${featuresAsOf(d)})::INTEGER AS all, (SELECT count(*) FROM (${sampled}))::INTEGER AS sample,
                (SELECT count(*) FROM ((${sampled} EXCEPT ALL ${whole}) UNION ALL (${whole} EXCEPT ALL ${sampled})))::INTEGER AS differ`,
        );
        // about a third of the accounts, each with the features it has in the whole portfolio
        expect(n.sample).toBeGreaterThan(n.all / 4);
        expect(n.sample).toBeLessThan(n.all / 2);
        expect(n.differ).toBe(0);
      }
    });
  });
});

describe("the forecast's truth", () => {
  it("the generator's quarter probabilities are what happens, and never below its 90-day ones", async () => {
    const wh = await ensureTestWarehouse();
    const w = await openWarehouse(wh, {readOnly: true});
    try {
      const starts = await all<{s: string; e: string}>(
        w.conn,
        `SELECT DISTINCT CAST(quarter_start AS VARCHAR) AS s, CAST(last_day(quarter_start + INTERVAL 2 MONTH) AS VARCHAR) AS e
         FROM truth.quarter_churn_probability WHERE last_day(quarter_start + INTERVAL 2 MONTH) <= DATE '${TEST_WAREHOUSE_AS_OF}' ORDER BY 1`,
      );
      expect(starts.length).toBeGreaterThanOrEqual(6);
      let expected = 0;
      let variance = 0;
      let observed = 0;
      for (const {s, e} of starts) {
        const r = await one<{p: number; v: number; n: number; missing: number}>(
          w.conn,
          `SELECT sum(t.p_churn_quarter) AS p, sum(t.p_churn_quarter * (1 - t.p_churn_quarter)) AS v,
                  count(*) FILTER (WHERE r.churned)::INTEGER AS n, count(*) FILTER (WHERE t.customer_id IS NULL)::INTEGER AS missing
           FROM marts.int_retention_between(DATE '${s}', DATE '${e}') r
           LEFT JOIN truth.quarter_churn_probability t ON t.customer_id = r.customer_id AND t.quarter_start = DATE '${s}'`,
        );
        // every account active on the first day has its probability (but one signed up that day)
        expect(r.missing).toBeLessThanOrEqual(3);
        expected += r.p;
        variance += r.v;
        observed += r.n;
      }
      expect(Math.abs(observed - expected) / Math.sqrt(variance)).toBeLessThan(3);
      const below = await one<{n: number; all: number}>(
        w.conn,
        `SELECT count(*) FILTER (WHERE q.p_churn_quarter < t.p_churn_90d - 1e-12)::INTEGER AS n, count(*)::INTEGER AS all
         FROM truth.quarter_churn_probability q JOIN truth.churn_probability t ON t.customer_id = q.customer_id AND t.cutoff_date = q.quarter_start
         WHERE last_day(q.quarter_start + INTERVAL 2 MONTH) - q.quarter_start >= 90`,
      );
      expect(below.all).toBeGreaterThan(1000);
      expect(below.n).toBe(0);
    } finally {
      w.close();
    }
  });
});

describe("lumpy contraction and expansion in small groups", () => {
  /** 40 accounts (a CSM's book): churn 3%, contraction 4% and expansion 8% a quarter. */
  function book(seed: number): ForecastAccount[] {
    const rng = makeRng(seed);
    return Array.from({length: 40}, (_, i) => {
      const arr = Math.round(5_000 * Math.exp(rng.next() * Math.log(40)));
      return {
        customer_id: `B${i}`,
        arr,
        groups: {plan_tier: "Growth", industry: "Software", company_size: "51-200", csm_owner: "CSM"},
        churn: [0.03, 0.03, 0.03, 0.03],
        expansion: [0.08, 0.08, 0.08, 0.08],
        expansionArr: 0.3 * arr,
        contraction: [0.04, 0.04, 0.04, 0.04],
        contractionArr: 0.2 * arr,
        renewalQuarter: null,
      };
    });
  }

  it("the intervals hold the first quarter's GRR and NRR as often as they say", () => {
    let n = 0;
    const inside = {grr: 0, nrr: 0};
    for (const seed of [31, 32, 33]) {
      const accounts = book(seed);
      const p1 = simulateForecast(accounts, {tau: 0, runs: 4000, seed}).find(
        (c) => c.group_kind === "portfolio" && c.quarter === 1,
      )!;
      const rng = makeRng(seed + 300);
      for (let t = 0; t < 300; t++) {
        let start = 0;
        let lost = 0;
        let gained = 0;
        for (const a of accounts) {
          start += a.arr;
          const churns = rng.next() < a.churn[0]!;
          const contracts = rng.next() < a.contraction[0]!;
          const expands = rng.next() < a.expansion[0]!;
          if (churns) lost += a.arr;
          else {
            if (contracts) lost += a.contractionArr;
            if (expands) gained += a.expansionArr;
          }
        }
        const grr = 1 - lost / start;
        const nrr = 1 - (lost - gained) / start;
        n++;
        // a discrete outcome sits on an interval's end often: count the ends in
        if (grr >= p1.grr[q(0.1)]! - 1e-12 && grr <= p1.grr[q(0.9)]! + 1e-12) inside.grr++;
        if (nrr >= p1.nrr[q(0.1)]! - 1e-12 && nrr <= p1.nrr[q(0.9)]! + 1e-12) inside.nrr++;
      }
    }
    // a GRR with no loss at all (about a quarter of such books' quarters) must be inside, not above
    expect(inside.grr / n).toBeGreaterThan(0.74);
    expect(inside.grr / n).toBeLessThan(0.93);
    expect(inside.nrr / n).toBeGreaterThan(0.74);
    expect(inside.nrr / n).toBeLessThan(0.9);
  });
});
