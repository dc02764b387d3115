/**
 * The retention forecast's record over several seeded portfolios: each is built (no site) as of
 * the bench's day, which back-fills the forecast of each past quarter's first day point in time
 * and sets the closed quarters against what happened (loaders/forecast-record.ts). Per seed and
 * pooled over all cells: the share of actual GRR inside the 50/80/90% intervals, NRR inside its
 * 80% interval, and the median's absolute GRR and NRR error beside the naive forecast's (each
 * group's rate of the year before). And the truth behind the luck: for each back-filled forecast's
 * first quarter, the churned ARR the forecast expected, the generator's true expectation
 * (truth.quarter_churn_probability), the naive forecast's and what happened.
 */
import {mkdtempSync, rmSync, cpSync, existsSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {build} from "../loaders/build.ts";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import {FORECAST_ACCURACY, FORECAST_HISTORY} from "../loaders/forecast-tables.ts";
import {QUARTER_TRUTH_TABLE} from "../loaders/synthetic/generate.ts";

/** The seeds of the portfolios (42 is the default data's). */
export const FORECAST_SEEDS = [42, 7, 2026] as const;

export interface ForecastRecordFigures {
  seed: number;
  /** the build's "record" step: back-fill and the record, in seconds */
  recordSeconds: number;
  forecasts: number;
  quarters: number;
  cells: number;
  grrIn50: number;
  grrIn80: number;
  grrIn90: number;
  nrrIn80: number;
  /** mean absolute error of the median over the cells with a naive forecast, and the naive's */
  grrError: number;
  naiveGrrError: number;
  nrrError: number;
  naiveNrrError: number;
  /** the portfolio's own cells */
  portfolioGrrError: number;
  portfolioNaiveGrrError: number;
}

/** A quarter-start forecast's expected churned ARR against the generator's truth, for one group. */
export interface ChurnTruthCell {
  made_on: string;
  group: string;
  /** shares of the quarter's starting ARR: the forecast's expectation, the truth's, the naive forecast's, what happened */
  model: number;
  truth: number;
  naive: number;
  actual: number;
}

export interface ForecastBench {
  customers: number;
  seeds: ForecastRecordFigures[];
  /** each seed's back-filled first quarters (portfolio and plan tiers): churned ARR, model vs truth vs naive */
  truth: (ChurnTruthCell & {seed: number})[];
  pooled: Omit<ForecastRecordFigures, "seed" | "recordSeconds">;
}

interface CellRow {
  made_on: string;
  group_kind: string;
  quarter_label: string;
  grr_in_50: boolean;
  grr_in_80: boolean;
  grr_in_90: boolean;
  nrr_in_80: boolean;
  grr_error: number;
  naive_grr_error: number | null;
  nrr_error: number;
  naive_nrr_error: number | null;
}

function summarise(rows: readonly CellRow[]): ForecastBench["pooled"] {
  const share = (f: (r: CellRow) => boolean) => rows.filter(f).length / Math.max(1, rows.length);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const naive = rows.filter((r) => r.naive_grr_error !== null);
  const naiveN = rows.filter((r) => r.naive_nrr_error !== null);
  const portfolio = naive.filter((r) => r.group_kind === "portfolio");
  return {
    forecasts: new Set(rows.map((r) => r.made_on)).size,
    quarters: new Set(rows.map((r) => r.quarter_label)).size,
    cells: rows.length,
    grrIn50: share((r) => r.grr_in_50),
    grrIn80: share((r) => r.grr_in_80),
    grrIn90: share((r) => r.grr_in_90),
    nrrIn80: share((r) => r.nrr_in_80),
    grrError: mean(naive.map((r) => r.grr_error)),
    naiveGrrError: mean(naive.map((r) => r.naive_grr_error!)),
    nrrError: mean(naiveN.map((r) => r.nrr_error)),
    naiveNrrError: mean(naiveN.map((r) => r.naive_nrr_error!)),
    portfolioGrrError: mean(portfolio.map((r) => r.grr_error)),
    portfolioNaiveGrrError: mean(portfolio.map((r) => r.naive_grr_error!)),
  };
}

export async function benchForecastRecord(
  customers: number,
  asOf: string,
  log: (m: string) => void,
): Promise<ForecastBench> {
  const seeds: ForecastRecordFigures[] = [];
  const pooled: CellRow[] = [];
  const truth: ForecastBench["truth"] = [];
  for (const seed of FORECAST_SEEDS) {
    const dir = mkdtempSync(join(tmpdir(), "saasguard-bench-forecast-"));
    try {
      // the shipped models are copied: a build trains none it lacks into the repository
      if (existsSync("models")) cpSync("models", join(dir, "models"), {recursive: true});
      const r = await build({
        asOf,
        customers,
        seed,
        source: "synthetic",
        site: false,
        warehousePath: join(dir, "warehouse.duckdb"),
        modelsDir: join(dir, "models"),
        log: () => {},
      });
      const w = await openWarehouse(join(dir, "warehouse.duckdb"), {readOnly: true});
      let rows: CellRow[];
      try {
        // the truth: what the generator's quarter probabilities expect to churn, beside the
        // forecast's expectation, the naive forecast (last year's churned share, scaled to the
        // quarter) and what happened — for the back-filled forecasts' first quarter
        const made = await all<{made_on: string; last_day: string}>(
          w.conn,
          `SELECT DISTINCT CAST(made_on AS VARCHAR) AS made_on, CAST(last_day AS VARCHAR) AS last_day FROM ${FORECAST_HISTORY}
           WHERE backfilled AND quarter = 1 AND last_day <= DATE '${asOf}' ORDER BY 1`,
        );
        for (const m of made) {
          const d = (x: string) => `DATE '${x}'`;
          const cells = await all<Omit<ChurnTruthCell, "made_on">>(
            w.conn,
            `WITH quarter AS (
               SELECT r.arr_start, r.churned, c.plan_tier, coalesce(t.p_churn_quarter, 0) AS p
               FROM marts.int_retention_between(${d(m.made_on)}, ${d(m.last_day)}) r JOIN raw.customers c USING (customer_id)
               LEFT JOIN ${QUARTER_TRUTH_TABLE} t ON t.customer_id = r.customer_id AND t.quarter_start = ${d(m.made_on)}
             ),
             year AS (
               SELECT r.arr_start, r.churned, c.plan_tier
               FROM marts.int_retention_between(${d(m.made_on)} - 365, ${d(m.made_on)}) r JOIN raw.customers c USING (customer_id)
             ),
             q AS (SELECT coalesce(plan_tier, 'all') AS grp, sum(arr_start * p) / sum(arr_start) AS truth,
                          coalesce(sum(arr_start) FILTER (WHERE churned), 0) / sum(arr_start) AS actual
                   FROM quarter GROUP BY GROUPING SETS ((), (plan_tier))),
             y AS (SELECT coalesce(plan_tier, 'all') AS grp, coalesce(sum(arr_start) FILTER (WHERE churned), 0) / sum(arr_start) AS churned
                   FROM year GROUP BY GROUPING SETS ((), (plan_tier)))
             SELECT q.grp AS "group", h.expected_churn_arr / h.start_arr AS model, q.truth, q.actual,
                    1 - power(1 - y.churned, (${d(m.last_day)} - ${d(m.made_on)}) / 365) AS naive
             FROM q JOIN y USING (grp) JOIN ${FORECAST_HISTORY} h ON h.made_on = ${d(m.made_on)} AND h.quarter = 1
               AND h.group_kind = CASE WHEN q.grp = 'all' THEN 'portfolio' ELSE 'plan_tier' END AND h.group_value = q.grp
             ORDER BY 1`,
          );
          truth.push(...cells.map((c) => ({...c, made_on: m.made_on, seed})));
        }
        rows = await all<CellRow>(
          w.conn,
          `SELECT CAST(made_on AS VARCHAR) AS made_on, group_kind, quarter_label, grr_in_50, grr_in_80, grr_in_90, nrr_in_80,
                  grr_error, naive_grr_error, nrr_error, naive_nrr_error
           FROM ${FORECAST_ACCURACY}`,
        );
      } finally {
        w.close();
      }
      pooled.push(...rows);
      const s = {seed, recordSeconds: r.stages.record ?? NaN, ...summarise(rows)};
      seeds.push(s);
      log(
        `seed ${seed}: ${s.cells} cells, GRR in 80% ${(100 * s.grrIn80).toFixed(1)}%, error ${(100 * s.grrError).toFixed(2)} vs naive ${(100 * s.naiveGrrError).toFixed(2)} pp`,
      );
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  }
  // the forecasts and quarters of different portfolios are different ones
  const all_ = summarise(pooled);
  const sum = (f: (s: ForecastRecordFigures) => number) => seeds.reduce((a, s) => a + f(s), 0);
  return {
    customers,
    seeds,
    truth,
    pooled: {...all_, forecasts: sum((s) => s.forecasts), quarters: sum((s) => s.quarters)},
  };
}
