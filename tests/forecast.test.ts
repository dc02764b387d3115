/**
 * The retention forecast: the Monte Carlo on hand-made portfolios whose truth is known — its
 * expected values, and the coverage of its intervals over many seeded "actual" quarters, with
 * accounts churning apart and together — then the build's tables and GET /forecast with bad input.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {build} from "../loaders/build.ts";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {all, one, openWarehouse} from "../loaders/duckdb.ts";
import {simulateForecast, type ForecastAccount} from "../loaders/forecast.ts";
import {FORECAST_QUANTILES} from "../loaders/forecast-tables.ts";
import {makeRng} from "../loaders/model/rng.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {startTestApi} from "./helpers/test-api.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

/** A portfolio of `n` accounts: ARR from $5k to $200k, churn per quarter 0.5–12%, two plan tiers. */
function portfolio(n: number, seed: number): ForecastAccount[] {
  const rng = makeRng(seed);
  return Array.from({length: n}, (_, i) => {
    const arr = Math.round(5_000 * Math.exp(rng.next() * Math.log(40)));
    const base = 0.005 + 0.115 * rng.next() ** 2;
    return {
      customer_id: `A${i}`,
      arr,
      groups: {
        plan_tier: i % 3 === 0 ? "Enterprise" : "Growth",
        industry: "Software",
        company_size: "51-200",
        csm_owner: `CSM ${i % 4}`,
      },
      churn: [base, base * (1 - base), base * (1 - base) ** 2, base * (1 - base) ** 3],
      expansion: [0, 0, 0, 0],
      expansionArr: 0,
      contraction: [0, 0, 0, 0],
      contractionArr: 0,
      renewalQuarter: (i % 4) + 1,
    };
  });
}

/** One "actual" first quarter: each account churns with its probability, shifted by a shared δ. */
function actualGrr(accounts: readonly ForecastAccount[], rng: ReturnType<typeof makeRng>, delta: number): number {
  let start = 0;
  let lost = 0;
  for (const a of accounts) {
    start += a.arr;
    const p = a.churn[0]!;
    const shifted = 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + delta)));
    if (rng.next() < shifted) lost += a.arr;
  }
  return 1 - lost / start;
}

function gaussian(rng: ReturnType<typeof makeRng>): number {
  return Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-300))) * Math.cos(2 * Math.PI * rng.next());
}

const q = (p: number) => FORECAST_QUANTILES.indexOf(p as (typeof FORECAST_QUANTILES)[number]);

describe("the Monte Carlo", () => {
  it("expected GRR, start ARR, renewals due and the portfolio are what the inputs say", () => {
    const accounts = portfolio(300, 1);
    const cells = simulateForecast(accounts, {tau: 0, runs: 500});
    const p1 = cells.find((c) => c.group_kind === "portfolio" && c.quarter === 1)!;
    const arr = accounts.reduce((s, a) => s + a.arr, 0);
    expect(p1.start_arr).toBeCloseTo(arr, 6);
    expect(p1.grr_expected).toBeCloseTo(1 - accounts.reduce((s, a) => s + a.arr * a.churn[0]!, 0) / arr, 12);
    expect(p1.renewals_due).toBe(75);
    // the second quarter starts from the ARR expected to survive the first
    const p2 = cells.find((c) => c.group_kind === "portfolio" && c.quarter === 2)!;
    expect(p2.start_arr).toBeCloseTo(arr - p1.expected_churn_arr, 6);
    // the groups add up to the portfolio
    const tiers = cells.filter((c) => c.group_kind === "plan_tier" && c.quarter === 1);
    expect(tiers.map((c) => c.group_value).sort()).toEqual(["Enterprise", "Growth"]);
    expect(tiers.reduce((s, c) => s + c.expected_churn_arr, 0)).toBeCloseTo(p1.expected_churn_arr, 6);
    // quantiles in order, the median near the expectation
    for (let k = 1; k < FORECAST_QUANTILES.length; k++) expect(p1.grr[k]!).toBeGreaterThanOrEqual(p1.grr[k - 1]!);
    expect(Math.abs(p1.grr[q(0.5)]! - p1.grr_expected)).toBeLessThan(0.01);
  });

  it("its 80% and 90% intervals cover 80% and 90% of actual quarters when accounts churn apart", () => {
    // 3 portfolios × 150 actual quarters each, drawn from the same probabilities
    let n = 0;
    let in80 = 0;
    let in90 = 0;
    for (const seed of [11, 12, 13]) {
      const accounts = portfolio(400, seed);
      const p1 = simulateForecast(accounts, {tau: 0, runs: 2000, seed}).find(
        (c) => c.group_kind === "portfolio" && c.quarter === 1,
      )!;
      const rng = makeRng(seed + 100);
      for (let t = 0; t < 150; t++) {
        const g = actualGrr(accounts, rng, 0);
        n++;
        if (g >= p1.grr[q(0.1)]! && g <= p1.grr[q(0.9)]!) in80++;
        if (g >= p1.grr[q(0.05)]! && g <= p1.grr[q(0.95)]!) in90++;
      }
    }
    expect(in80 / n).toBeGreaterThan(0.74);
    expect(in80 / n).toBeLessThan(0.86);
    expect(in90 / n).toBeGreaterThan(0.85);
    expect(in90 / n).toBeLessThan(0.95);
  });

  it("when accounts churn together, only the shared shock keeps the intervals honest", () => {
    const tau = 0.6;
    const cover = (assumed: number) => {
      let n = 0;
      let in80 = 0;
      for (const seed of [21, 22, 23]) {
        const accounts = portfolio(1500, seed);
        const p1 = simulateForecast(accounts, {tau: assumed, runs: 2000, seed}).find(
          (c) => c.group_kind === "portfolio" && c.quarter === 1,
        )!;
        const rng = makeRng(seed + 200);
        for (let t = 0; t < 150; t++) {
          const g = actualGrr(accounts, rng, tau * gaussian(rng));
          n++;
          if (g >= p1.grr[q(0.1)]! && g <= p1.grr[q(0.9)]!) in80++;
        }
      }
      return in80 / n;
    };
    // ignoring the dependence, the 80% interval is far too narrow
    expect(cover(0)).toBeLessThan(0.6);
    // with τ, it covers about 80%
    const honest = cover(tau);
    expect(honest).toBeGreaterThan(0.72);
    expect(honest).toBeLessThan(0.88);
  });
});

describe("in the build and the API", () => {
  let srv: ApiServer;
  let wh: string;
  beforeAll(async () => {
    wh = await ensureTestWarehouse();
    srv = await startTestApi({warehousePath: wh, modelsDir: join(dirname(wh), "models")});
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("the build writes four quarters for the portfolio and every group, with ordered intervals", async () => {
    const w = await openWarehouse(wh, {readOnly: true});
    try {
      const quarters = await all<{quarter: number; label: string}>(
        w.conn,
        "SELECT quarter, label FROM marts.forecast_quarters ORDER BY quarter",
      );
      // as of 2026-06-30: the current quarter is over that night, so the outlook starts with the next
      expect(quarters.map((x) => x.label)).toEqual(["2026-Q3", "2026-Q4", "2027-Q1", "2027-Q2"]);
      const bad = await one<{n: number; kinds: number; portfolio: number}>(
        w.conn,
        `SELECT count(*) FILTER (WHERE NOT (grr_p05 <= grr_p10 AND grr_p10 <= grr_p25 AND grr_p25 <= grr_p50 AND grr_p50 <= grr_p75
                  AND grr_p75 <= grr_p90 AND grr_p90 <= grr_p95 AND nrr_p05 <= nrr_p95 AND grr_p95 <= nrr_p95 + 1e-9))::INTEGER AS n,
                count(DISTINCT group_kind)::INTEGER AS kinds,
                count(*) FILTER (WHERE group_kind = 'portfolio')::INTEGER AS portfolio
         FROM marts.mart_renewal_forecast`,
      );
      expect(bad).toEqual({n: 0, kinds: 5, portfolio: 4});
      const movers = await one<{n: number; share: number}>(
        w.conn,
        "SELECT count(*)::INTEGER AS n, max(variance_share) AS share FROM marts.mart_forecast_movers WHERE quarter = 1",
      );
      expect(movers.n).toBeGreaterThan(0);
      expect(movers.share).toBeLessThanOrEqual(1);
    } finally {
      w.close();
    }
  });

  it("GET /forecast gives each quarter's cells with intervals, by group, and names bad input", async () => {
    const r = await fetch(`${srv.url}/forecast?group=plan_tier&movers=3`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as {
      group: string;
      quarters: {
        label: string;
        cells: {group_value: string; grr: {p80: number[]; median: number}}[];
        movers: unknown[];
      }[];
    };
    expect(body.group).toBe("plan_tier");
    expect(body.quarters.length).toBe(4);
    for (const quarter of body.quarters) {
      expect(quarter.cells.map((c) => c.group_value).sort()).toEqual(["Enterprise", "Growth", "Starter"]);
      for (const c of quarter.cells) expect(c.grr.p80[0]! <= c.grr.median && c.grr.median <= c.grr.p80[1]!).toBe(true);
      expect(quarter.movers.length).toBe(3);
    }
    // how right it was: the plan tiers' cells of closed quarters, each against what happened
    const record = (
      body as unknown as {
        record: {
          summary: {cells: number} | null;
          quarters: {quarter_label: string; actual_grr: number; grr: {p80: number[]}}[];
        };
      }
    ).record;
    expect(record.summary!.cells).toBe(record.quarters.length);
    expect(record.quarters.length).toBeGreaterThan(0);
    for (const r of record.quarters) expect(r.actual_grr).toBeGreaterThan(0.5);
    const bad = await fetch(`${srv.url}/forecast?group=region&movers=-1`);
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as {errors: {field: string}[]};
    expect(problem.errors.map((e) => e.field).sort()).toEqual(["query.group", "query.movers"]);
  });
});

describe("the record of what was forecast", () => {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-forecast-history-"));
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  it("every night's forecast is kept beside the earlier nights'; a rebuild of a night replaces its own", async () => {
    const warehousePath = join(dir, "warehouse.duckdb");
    const night = (asOf: string) =>
      build({asOf, customers: 300, seed: 8, source: "synthetic", site: false, warehousePath, log: () => {}});
    const nights = async () => {
      const w = await openWarehouse(warehousePath, {readOnly: true});
      try {
        return await all<{made_on: string; cells: number; first: string}>(
          w.conn,
          `SELECT CAST(made_on AS VARCHAR) AS made_on, count(*)::INTEGER AS cells, min(quarter_label) AS first
           FROM marts.forecast_history WHERE NOT backfilled GROUP BY ALL ORDER BY made_on`,
        );
      } finally {
        w.close();
      }
    };
    await night("2026-06-29");
    await night("2026-06-30");
    const two = await nights();
    expect(two.map((n) => n.made_on)).toEqual(["2026-06-29", "2026-06-30"]);
    // the night of 29 June still forecast 2026-Q2 (two days of it left); 30 June's outlook starts with Q3
    expect(two.map((n) => n.first)).toEqual(["2026-Q2", "2026-Q3"]);
    await night("2026-06-30");
    expect(await nights()).toEqual(two);
  });
});
