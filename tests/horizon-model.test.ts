/**
 * The churn horizon model: its months on hand-made dates, the survival arithmetic, training by
 * outcome month (no outcome among its features, ONNX ↔ TypeScript parity, exact TreeSHAP),
 * calibration of the 3- and 6-month probabilities against what happened on portfolios it never
 * saw, and its tables in the build.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {all, one, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";
import {buildMarts, loadRules, runSteps} from "../loaders/marts.ts";
import {loadModel, modelFiles, saveModel} from "../loaders/model/registry.ts";
import {readDataset} from "../loaders/model/table.ts";
import {
  HORIZON_MONTHS,
  HORIZON_NON_FEATURES,
  HORIZON_SNAPSHOTS,
  horizonBacktestAt,
  monthlyChurn,
  trainHorizonModel,
} from "../loaders/model/train-horizon.ts";
import type {TrainedModel} from "../loaders/model/train.ts";
import {generateSynthetic} from "../loaders/synthetic/generate.ts";
import {expectOnnxParityAndShapAdditivity} from "./helpers/model-checks.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

const work: string[] = [];
afterAll(() => {
  for (const d of work) rmSync(d, {recursive: true, force: true});
});

describe("the months ahead (marts.int_churn_periods)", () => {
  let w: Warehouse;
  beforeAll(async () => {
    w = await openWarehouse(":memory:");
    await w.conn.run(`
      CREATE SCHEMA raw; CREATE SCHEMA marts;
      CREATE TABLE raw.customers AS SELECT * FROM (VALUES
        ('renews-jan-31', DATE '2024-01-01', 12000.0, 10, DATE '2027-01-31'),
        ('renews-dec-07', DATE '2024-01-01', 12000.0, 10, DATE '2026-12-07'),
        ('renews-jan-01', DATE '2024-01-01', 12000.0, 10, DATE '2027-01-01'))
        t(customer_id, signup_date, arr, seats_purchased, renewal_date);
      CREATE TABLE raw.churn_events (customer_id VARCHAR, churn_date DATE);
      CREATE TABLE raw.subscription_changes (customer_id VARCHAR, change_date DATE, arr_delta DOUBLE, seats_delta INTEGER);
    `);
    await loadRules(w.conn, "2026-12-07");
    await runSteps(w.conn, ["int_active_customers_as_of", "int_contract_as_of", "int_churn_periods"]);
  });
  afterAll(() => w?.close());

  const months = (asOf: string, id: string) =>
    all<{j: number; after: string; through: string; days: number; renews: boolean}>(
      w.conn,
      `SELECT months_ahead AS j, CAST(period_after AS VARCHAR) AS after, CAST(period_through AS VARCHAR) AS through,
              period_days AS days, renews_in_period AS renews
       FROM marts.int_churn_periods(DATE '${asOf}', ${HORIZON_MONTHS}) WHERE customer_id = '${id}' ORDER BY j`,
    );

  it("a mid-month day: the rest of its month, then whole calendar months to the 12th month end", async () => {
    const m = await months("2026-12-07", "renews-jan-31");
    expect(m.length).toBe(HORIZON_MONTHS);
    expect(m[0]).toEqual({j: 1, after: "2026-12-07", through: "2026-12-31", days: 24, renews: false});
    expect(m[1]).toEqual({j: 2, after: "2026-12-31", through: "2027-01-31", days: 31, renews: true});
    expect(m[2]!.after).toBe("2027-01-31");
    expect(m.at(-1)!.through).toBe("2027-11-30");
  });

  it("a month's last day: its next month is the first; a renewal on the first of a month is in that month", async () => {
    const m = await months("2026-12-31", "renews-jan-01");
    expect(m[0]).toMatchObject({after: "2026-12-31", through: "2027-01-31", renews: true});
    expect(m.filter((x) => x.renews).length).toBe(1);
    expect(m.at(-1)!.through).toBe("2027-12-31");
  });

  it("a renewal on the day itself is behind it, and the next, a year on, is past the 12th month end", async () => {
    const m = await months("2026-12-07", "renews-dec-07");
    expect(m.filter((x) => x.renews)).toEqual([]);
  });
});

describe("churn by month from monthly hazards", () => {
  it("P(churn in month j) = S(j−1)·h(j), and the cumulative probability is 1 − S(j)", () => {
    const h = new Float64Array(HORIZON_MONTHS * 2);
    h.fill(0.1, 0, HORIZON_MONTHS);
    h[HORIZON_MONTHS + 2] = 0.5; // a second account: only its third month is at risk
    const {inMonth, through} = monthlyChurn(h);
    expect(inMonth[0]).toBeCloseTo(0.1, 12);
    expect(inMonth[1]).toBeCloseTo(0.09, 12);
    expect(through[HORIZON_MONTHS - 1]).toBeCloseTo(1 - 0.9 ** 12, 12);
    expect(inMonth.slice(HORIZON_MONTHS).reduce((a, b) => a + b, 0)).toBeCloseTo(0.5, 12);
    expect(through[2 * HORIZON_MONTHS - 1]).toBeCloseTo(0.5, 12);
  });
});

describe("training and scoring", () => {
  let w: Warehouse;
  let asOf: string;
  let trained: TrainedModel;
  const dir = mkdtempSync(join(tmpdir(), "saasguard-horizon-model-"));
  work.push(dir);

  beforeAll(async () => {
    const {attachWarehouse} = await import("../loaders/cli/train.ts");
    ({w, asOf} = await attachWarehouse(await ensureTestWarehouse()));
    trained = await trainHorizonModel(w.conn, {asOf, seed: 3});
    saveModel(dir, trained, "horizon");
  });
  afterAll(() => w?.close());

  it("learns from the cutoff's signals and the month's own, never its outcome; split by when the outcome fell", async () => {
    const names = trained.card.features.map((f) => f.name);
    for (const c of HORIZON_NON_FEATURES) expect(names).not.toContain(c);
    for (const c of ["churned_90d", "expanded_90d", "expansion_arr_90d"]) expect(names).not.toContain(c);
    expect(names).toEqual(expect.arrayContaining(["months_ahead", "renews_in_period", "days_to_renewal"]));
    expect(trained.card.explainer?.file).toBe(modelFiles("horizon").trees);
    const t = trained.card.horizon!.outcomes_through;
    expect(t.train < t.valid && t.valid < t.test && t.test <= asOf).toBe(true);
    // no training row's outcome falls after the training window
    const late = await one<{n: number}>(
      w.conn,
      `SELECT count(*)::INTEGER AS n FROM ${HORIZON_SNAPSHOTS} WHERE period_through > DATE '${t.test}'`,
    );
    expect(late.n).toBe(0);
    expect(trained.card.metrics.roc_auc).toBeGreaterThan(0.75);
    expect(trained.card.metrics.ece).toBeLessThan(0.02);
  });

  it("onnxruntime-web and the TypeScript trees agree to 1e-5, and TreeSHAP adds up to the raw score", async () => {
    const m = await loadModel(dir, "horizon");
    try {
      const {data} = await readDataset(
        w.conn,
        `(SELECT * FROM ${HORIZON_SNAPSHOTS} ORDER BY as_of_date, customer_id, months_ahead LIMIT 3000)`,
        m.features,
      );
      await expectOnnxParityAndShapAdditivity(trained, m, data, 29);
    } finally {
      await m.scorer.release();
    }
  });

  it("the build writes each account's months, quarters and churn before renewal, and the back-test beside the 90-day model", async () => {
    const wh = await openWarehouse(await ensureTestWarehouse(), {readOnly: true});
    try {
      const r = await one<{n: number; f: number; months: number; bad: number; falling: number}>(
        wh.conn,
        `SELECT (SELECT count(*)::INTEGER FROM marts.mart_churn_horizons) AS n,
                (SELECT count(*)::INTEGER FROM marts.mart_customer_churn_features) AS f,
                (SELECT count(*)::INTEGER FROM marts.mart_churn_horizon_months) AS months,
                (SELECT count(*)::INTEGER FROM marts.mart_churn_horizons
                  WHERE churn_quarter_1 + coalesce(churn_quarter_2, 0) + coalesce(churn_quarter_3, 0) + coalesce(churn_quarter_4, 0) > churn_12_months + 1e-9
                     OR churn_before_renewal > churn_12_months + 1e-9) AS bad,
                (SELECT count(*)::INTEGER FROM (SELECT churn_through < lag(churn_through) OVER (PARTITION BY customer_id ORDER BY months_ahead) - 1e-12 AS x
                  FROM marts.mart_churn_horizon_months) WHERE x) AS falling`,
      );
      expect(r).toEqual({n: r.f, f: r.f, months: r.f * HORIZON_MONTHS, bad: 0, falling: 0});
      const bt = await all<{months: number; auc: number; churn_model_auc: number | null}>(
        wh.conn,
        "SELECT months, auc, churn_model_auc FROM marts.horizon_backtest ORDER BY cutoff, months",
      );
      expect(bt.length).toBeGreaterThan(0);
      for (const b of bt) {
        expect(b.auc).toBeGreaterThan(0.6);
        if (b.months === 3) expect(b.churn_model_auc).not.toBeNull();
      }
    } finally {
      wh.close();
    }
  });
});

describe("calibration against what happened, over seeds", () => {
  // Three portfolios the model never saw: at a cutoff inside each one's test months, the churn it
  // expects over 3 and 6 months against the churn that happened.
  it("the expected churn over 3 and 6 months is within sampling noise of what happened", async () => {
    const asOf = "2026-06-30";
    const rows: {seed: number; months: number; expected: number; actual: number; sd: number; auc: number}[] = [];
    for (const seed of [21, 22, 23]) {
      const w = await openWarehouse(":memory:");
      try {
        await generateSynthetic(w.conn, {customers: 1500, seed, asOf});
        await buildMarts(w.conn, asOf, undefined, "features");
        const m = await trainHorizonModel(w.conn, {asOf, seed});
        // the first day of the test months, with six months ended after it
        const cutoff = m.card.horizon!.outcomes_through.valid;
        expect(cutoff).toBe("2025-12-31");
        for (const b of await horizonBacktestAt(w.conn, m, cutoff, asOf, [3, 6])) {
          const p = b.predicted * b.accounts;
          rows.push({
            seed,
            months: b.months,
            expected: p,
            actual: b.observed * b.accounts,
            // an upper bound of the count's sd: Σ p(1 − p) ≤ n·p̄(1 − p̄)
            sd: Math.sqrt(b.accounts * b.predicted * (1 - b.predicted)),
            auc: b.auc,
          });
        }
      } finally {
        w.close();
      }
    }
    expect(rows.length).toBe(6);
    for (const r of rows) {
      expect(Math.abs(r.expected - r.actual), JSON.stringify(r)).toBeLessThan(3 * r.sd + 0.1 * r.actual);
      expect(r.auc, JSON.stringify(r)).toBeGreaterThan(0.7);
    }
  });
});
