/**
 * The retention forecast's record: what was forecast on each quarter's first day against what
 * happened, once the quarter has closed.
 *
 * Every build keeps its forecast in FORECAST_HISTORY (loaders/forecast.ts). A quarter's first day
 * that no build forecast — the quarters before SaaSGuard was installed, a night the build did not
 * run — is back-filled here, point in time, as a build on that day would have made it:
 * - a churn horizon model trained on the outcomes known that day only: trained on the months up
 *   to six months before it, calibrated on those six (HORIZON_VALID_MONTHS). No test window: the
 *   quarters after it are the test. Same trees, parameters and rows as tonight's model;
 * - the accounts' features as of that day (marts.int_customer_features_as_of);
 * - the shared shock τ measured on that model's own calibration months (the 3-month churn of
 *   each plan tier × industry cell at the quarter starts in them);
 * - expansion and contraction at each plan tier's rate of the year before (the expansion model
 *   is not retrained at past quarter starts, so a back-filled NRR is that part's only test).
 * A portfolio of 20,000 accounts or more is back-filled on a fixed sample (BACKFILL_ACCOUNTS).
 *
 * FORECAST_ACCURACY then sets every quarter-start forecast of a closed quarter against what
 * happened to the accounts it was about (marts.int_retention_between: those active that day,
 * from the quarter's start or that day to its end), by the same groups, and against a naive
 * forecast: each group's GRR and NRR of the year before that day, scaled to the quarter's days.
 */
import {config} from "../src/rules/config.ts";
import type {DuckDBConnection} from "@duckdb/node-api";
import {all, lit, one, run} from "./duckdb.ts";
import {calibrate, fitPlatt} from "./model/calibration.ts";
import {fitGbt} from "./model/gbt.ts";
import {predictRaw} from "./model/tree.ts";
import {detectFeatures} from "./model/table.ts";
import {subsetRows} from "./model/dataset.ts";
import {CHURN_GBT_PARAMS} from "./model/train.ts";
import {
  buildHorizonSnapshots,
  enoughHistory,
  featuresAsOf,
  HORIZON_MONTHS,
  HORIZON_NON_FEATURES,
  HORIZON_VALID_MONTHS,
  horizonCutoffs,
  NotEnoughHistoryError,
  readHorizonRows,
} from "./model/train-horizon.ts";
import {
  FORECAST_ACCURACY,
  FORECAST_ACCURACY_SUMMARY,
  DAYS_PER_YEAR,
  FORECAST_GROUPS,
  FORECAST_HISTORY,
  GROUP_UNKNOWN,
} from "./forecast-tables.ts";
import {
  forecastAccounts,
  forecastQuartersSql,
  forecastRuns,
  sharedShock,
  simulateForecast,
  writeForecastCells,
} from "./forecast.ts";
import {
  BACKTEST_CELLS_COLUMNS,
  backtestCellsSql,
  DROP_TEMPS,
  hazards,
  inSample,
  monthsAheadSql,
  sampleModulus,
  type HazardScorer,
} from "./score-horizon.ts";
import type {MartChecks} from "./quality.ts";

/**
 * Accounts a back-fill forecasts, about: a larger portfolio is back-filled on a fixed sample (a
 * hash of the id), compared with what the same accounts did. The back-fill trains a model per
 * day on every cutoff before it: at 100,000 customers a sample of 26,000 took 127 s.
 */
export const BACKFILL_ACCOUNTS = 10_000;

/**
 * Closed quarters back-filled at most: a year of them. The current quarter's first day is left
 * until the quarter closes (its forecast is compared with nothing before), then back-filled if no
 * build made it.
 */
export const BACKFILL_QUARTERS = 4;

/** A horizon cutoff needs this many days of usage before it (horizonCutoffs), and says so when there is none. */
const NO_CUTOFF = `no quarter-start cutoff with ${config.dataQuality.churnHorizonDays} days of usage before it`;
/** Why a day with too few months before it is not back-filled. */
const HISTORY_NEEDED = `about ${HORIZON_VALID_MONTHS + 6} months of history before the day are needed`;
const SNAPSHOTS = "marts.tmp_backfill_snapshots";
const CELLS = "marts.tmp_backfill_cells";
const MONTHS = "marts.tmp_backfill_months";
const FORECAST_CELLS = "marts.tmp_backfill_forecast";
const ACTUALS = "marts.tmp_forecast_actuals";
const LAST_YEAR = "marts.tmp_forecast_last_year";

const date = (d: string) => `DATE ${lit(d)}`;

/**
 * Back-fills FORECAST_HISTORY with the forecast of each quarter's first day (of the last
 * BACKFILL_QUARTERS closed quarters) that it does not hold. Returns the days
 * back-filled and, for each it could not, why (too little history then).
 */
export async function backfillForecasts(
  conn: DuckDBConnection,
  asOf: string,
  log: (m: string) => void,
): Promise<{made: string[]; skipped: string[]}> {
  const t0 = performance.now();
  const starts = (
    await all<{s: string}>(
      conn,
      `SELECT CAST(s AS DATE)::VARCHAR AS s
       FROM range(date_trunc('quarter', ${date(asOf)} + 1) - INTERVAL ${3 * BACKFILL_QUARTERS} MONTH, date_trunc('quarter', ${date(asOf)} + 1), INTERVAL 3 MONTH) t(s)
       WHERE CAST(s AS DATE) NOT IN (SELECT made_on FROM ${FORECAST_HISTORY}) ORDER BY s`,
    )
  ).map((r) => r.s);
  const made: string[] = [];
  const skipped: string[] = [];
  if (!starts.length) return {made, skipped};
  // a day's model trains on the months that ended by bounds.t and is calibrated on those through bounds.e
  const bounds = new Map<string, {e: string; t: string}>();
  for (const s of starts)
    bounds.set(
      s,
      await one<{e: string; t: string}>(
        conn,
        `SELECT CAST(${date(s)} - 1 AS VARCHAR) AS e,
                CAST(last_day(${date(s)} - 1 - INTERVAL ${HORIZON_VALID_MONTHS} MONTH) AS VARCHAR) AS t`,
      ),
    );
  const allCutoffs = await horizonCutoffs(conn, asOf);
  // A day with no quarter-start cutoff by bounds.t has no month to train on: said without building
  // the snapshot (a refresh meets the data's first quarters every night).
  const trainable = starts.filter((s) => {
    const {t, e} = bounds.get(s)!;
    if (allCutoffs.some((c) => c <= t)) return true;
    skipped.push(
      `${s}: not enough history to train the churn horizon model: ${NO_CUTOFF} has a month of outcomes through ${t} (${e} for calibration); ${HISTORY_NEEDED}`,
    );
    return false;
  });
  const last = trainable.at(-1);
  const modulus = await sampleModulus(conn, BACKFILL_ACCOUNTS);
  // one snapshot for all: the rows a day's model trains on are those whose month ended before it
  const cutoffs = last ? allCutoffs.filter((c) => c < last) : [];
  const rows = cutoffs.length
    ? await buildHorizonSnapshots(conn, cutoffs, {
        through: bounds.get(last!)!.e,
        table: SNAPSHOTS,
        sample: modulus,
      })
    : 0;
  const features = rows ? await detectFeatures(conn, SNAPSHOTS, HORIZON_NON_FEATURES, SNAPSHOTS, () => {}) : [];
  // read once; each day trains on the rows whose month ended before it (reading was most of a day's time)
  const snapshot = rows ? await readHorizonRows(conn, SNAPSHOTS, features, "true", ["period_through"]) : null;
  const part = (after: string | null, through: string) => {
    const ended = snapshot!.extra.period_through as string[];
    const idx: number[] = [];
    ended.forEach((d, i) => {
      if ((after === null || d > after) && d <= through) idx.push(i);
    });
    return {
      data: subsetRows(snapshot!.data, idx),
      y: Float64Array.from(idx, (i) => snapshot!.y[i]!),
      cutoffs: [...new Set(idx.map((i) => snapshot!.cutoffs[i]!))].sort(),
    };
  };
  try {
    for (const s of trainable) {
      const b = bounds.get(s)!;
      if (!snapshot) {
        skipped.push(`${s}: ${NO_CUTOFF}`);
        continue;
      }
      const train = part(null, b.t);
      const valid = part(b.t, b.e);
      try {
        enoughHistory({train, valid}, `outcomes through ${b.t}, ${b.e}`, HISTORY_NEEDED);
      } catch (e) {
        if (!(e instanceof NotEnoughHistoryError)) throw e;
        skipped.push(`${s}: ${e.message}`);
        continue;
      }
      const gbt = fitGbt(train.data, train.y, {...CHURN_GBT_PARAMS, seed: 42}, {data: valid.data, y: valid.y});
      const calibration = fitPlatt(predictRaw(gbt, valid.data), valid.y);
      const scorer: HazardScorer = {
        features: gbt.features,
        hazard: async (data) => calibrate(calibration, predictRaw(gbt, data)),
      };
      // τ from the model's calibration months: the quarter starts whose 3 months ended by s − 1
      await run(conn, `CREATE OR REPLACE TABLE ${CELLS} ${BACKTEST_CELLS_COLUMNS}`);
      for (const c of valid.cutoffs.filter((c) => c > b.t)) {
        const ended = await one<{ok: boolean}>(conn, `SELECT ${date(c)} + INTERVAL 3 MONTH <= ${date(s)} AS ok`);
        if (!ended.ok) continue;
        await hazards(
          conn,
          scorer,
          `SELECT * FROM ${featuresAsOf(date(c), modulus)}`,
          `SELECT * FROM marts.int_churn_periods(${date(c)}, 3)`,
        );
        await run(conn, `INSERT INTO ${CELLS} ${backtestCellsSql(c)}`);
      }
      const {tau, cells: tauCells} = await sharedShock(conn, CELLS);
      // the day's accounts, their months ahead and the forecast
      const onDay = `SELECT * FROM ${featuresAsOf(date(s), modulus)}`;
      await hazards(conn, scorer, onDay, `SELECT * FROM marts.int_churn_periods(${date(s)}, ${HORIZON_MONTHS})`);
      await run(conn, `CREATE OR REPLACE TABLE ${MONTHS} AS ${monthsAheadSql(s)}`);
      const accounts = await forecastAccounts(conn, s, {features: onDay, monthly: MONTHS, expansion: null});
      const runs = forecastRuns(accounts.length);
      await writeForecastCells(conn, FORECAST_CELLS, simulateForecast(accounts, {tau, runs}));
      await run(
        conn,
        `INSERT INTO ${FORECAST_HISTORY} BY NAME
         SELECT ${date(s)} AS made_on, q.label AS quarter_label, q.first_day, q.last_day, f.*, q.runs, q.tau,
                true AS backfilled, ${modulus} AS sample_modulus
         FROM ${FORECAST_CELLS} f JOIN (${forecastQuartersSql(MONTHS, runs, tau)}) q USING (quarter)`,
      );
      made.push(s);
      log(
        `forecast record: back-filled the forecast of ${s} — a horizon model of ${gbt.trees.length} trees on ${train.data.nRows.toLocaleString("en-US")} account-months with outcomes through ${b.t}, calibrated through ${b.e}; τ = ${tau.toFixed(3)} from ${tauCells} cells; ${accounts.length.toLocaleString("en-US")} accounts${modulus > 1 ? ` (1 in ${modulus})` : ""}`,
      );
    }
  } finally {
    await run(
      conn,
      `${DROP_TEMPS} ${[SNAPSHOTS, CELLS, MONTHS, FORECAST_CELLS].map((t) => `DROP TABLE IF EXISTS ${t};`).join(" ")}`,
    );
  }
  for (const k of skipped) log(`forecast record: not back-filled ${k}`);
  if (made.length)
    log(`forecast record: ${made.length} forecast(s) back-filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return {made, skipped};
}

/** `rel`'s rows once per group they are in: the portfolio and each of FORECAST_GROUPS. */
function byGroup(rel: string): string {
  return [
    `SELECT 'portfolio' AS group_kind, 'all' AS group_value, * FROM ${rel}`,
    ...FORECAST_GROUPS.map(
      (g) => `SELECT ${lit(g)} AS group_kind, coalesce(${g}, ${lit(GROUP_UNKNOWN[g])}) AS group_value, * FROM ${rel}`,
    ),
  ].join(" UNION ALL BY NAME ");
}

/**
 * Writes FORECAST_ACCURACY (each quarter-start forecast's cells of a closed quarter, with what
 * happened, the naive forecast, and whether the 50/80/90% intervals held the actual) and
 * FORECAST_ACCURACY_SUMMARY. Returns the number of cells.
 */
export async function writeForecastAccuracy(conn: DuckDBConnection, asOf: string): Promise<number> {
  const forecasts = await all<{made_on: string; quarter: number; from_: string; to_: string; m: number}>(
    conn,
    `SELECT DISTINCT CAST(made_on AS VARCHAR) AS made_on, quarter, CAST(greatest(made_on, first_day - 1) AS VARCHAR) AS from_,
            CAST(last_day AS VARCHAR) AS to_, coalesce(sample_modulus, 1) AS m
     FROM ${FORECAST_HISTORY} WHERE last_day <= ${date(asOf)} AND made_on = date_trunc('quarter', made_on) ORDER BY ALL`,
  );
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${ACTUALS} (made_on DATE, quarter INTEGER, group_kind VARCHAR, group_value VARCHAR,
       actual_start_arr DOUBLE, actual_grr DOUBLE, actual_nrr DOUBLE, naive_grr DOUBLE, naive_nrr DOUBLE)`,
  );
  const groupsCols = FORECAST_GROUPS.map((g) => `c.${g}`).join(", ");
  const retention = (from: string, to: string, m: number, activeOn?: string) =>
    `(SELECT r.arr_start, r.arr_end, ${groupsCols} FROM marts.int_retention_between(${from}, ${to}) r
      JOIN raw.customers c USING (customer_id)
      ${activeOn ? `SEMI JOIN marts.int_active_customers_as_of(${activeOn}) USING (customer_id)` : ""}
      ${m > 1 ? `WHERE ${inSample(m, "r.customer_id")}` : ""})`;
  const rates = (rel: string) =>
    `SELECT group_kind, group_value, sum(arr_start) AS start_arr, sum(least(arr_end, arr_start)) / nullif(sum(arr_start), 0) AS grr,
            sum(arr_end) / nullif(sum(arr_start), 0) AS nrr
     FROM (${byGroup(rel)}) GROUP BY ALL`;
  // the year before each forecast's day: the naive forecast's rates (one day's, whatever quarter)
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${LAST_YEAR} (made_on DATE, group_kind VARCHAR, group_value VARCHAR, grr DOUBLE, nrr DOUBLE)`,
  );
  for (const {made_on, m} of [...new Map(forecasts.map((f) => [f.made_on, f])).values()])
    await run(
      conn,
      `INSERT INTO ${LAST_YEAR} SELECT ${date(made_on)}, group_kind, group_value, grr, nrr
       FROM (${rates(retention(`${date(made_on)} - ${DAYS_PER_YEAR}`, date(made_on), m))})`,
    );
  for (const f of forecasts) {
    // the quarter's retention of the accounts the forecast was about; the year before it, scaled
    await run(
      conn,
      `INSERT INTO ${ACTUALS}
       WITH actual AS (${rates(retention(date(f.from_), date(f.to_), f.m, date(f.made_on)))}),
            days AS (SELECT (${date(f.to_)} - ${date(f.from_)}) / ${DAYS_PER_YEAR} AS share)
       SELECT ${date(f.made_on)}, ${f.quarter}, a.group_kind, a.group_value, a.start_arr, a.grr, a.nrr,
              power(y.grr, days.share), power(y.nrr, days.share)
       FROM actual a CROSS JOIN days
       LEFT JOIN ${LAST_YEAR} y ON y.made_on = ${date(f.made_on)} AND y.group_kind = a.group_kind AND y.group_value = a.group_value`,
    );
  }
  const p = (m: string, q: number) => `h.${m}_p${String(q).padStart(2, "0")}`;
  const within = (m: string, lo: number, hi: number) => `a.actual_${m} BETWEEN ${p(m, lo)} AND ${p(m, hi)}`;
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${FORECAST_ACCURACY} AS
     SELECT h.made_on, h.quarter_label, h.quarter AS quarters_ahead, h.first_day, h.last_day, h.group_kind, h.group_value,
            coalesce(h.backfilled, false) AS backfilled, h.accounts, a.actual_start_arr,
            h.grr_expected, h.grr_p05, h.grr_p10, h.grr_p25, h.grr_p50, h.grr_p75, h.grr_p90, h.grr_p95,
            h.nrr_expected, h.nrr_p05, h.nrr_p10, h.nrr_p25, h.nrr_p50, h.nrr_p75, h.nrr_p90, h.nrr_p95,
            a.actual_grr, a.actual_nrr, a.naive_grr, a.naive_nrr,
            ${within("grr", 25, 75)} AS grr_in_50, ${within("grr", 10, 90)} AS grr_in_80, ${within("grr", 5, 95)} AS grr_in_90,
            ${within("nrr", 10, 90)} AS nrr_in_80,
            -- the point forecast is the median
            abs(h.grr_p50 - a.actual_grr) AS grr_error, abs(a.naive_grr - a.actual_grr) AS naive_grr_error,
            abs(h.nrr_p50 - a.actual_nrr) AS nrr_error, abs(a.naive_nrr - a.actual_nrr) AS naive_nrr_error
     FROM ${FORECAST_HISTORY} h JOIN ${ACTUALS} a ON a.made_on = h.made_on AND a.quarter = h.quarter
       AND a.group_kind = h.group_kind AND a.group_value = h.group_value
     WHERE a.actual_grr IS NOT NULL AND h.grr_p50 IS NOT NULL
     ORDER BY h.made_on, h.quarter, h.group_kind, h.group_value`,
  );
  await run(conn, `DROP TABLE ${ACTUALS}; DROP TABLE ${LAST_YEAR}`);
  // by all cells, by group kind, and by quarters ahead; errors over the cells with a naive forecast
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${FORECAST_ACCURACY_SUMMARY} AS
     SELECT CASE WHEN grouping(group_kind) = 0 THEN 'group' WHEN grouping(quarters_ahead) = 0 THEN 'quarters ahead' ELSE 'all' END AS cut,
            coalesce(group_kind, CAST(quarters_ahead AS VARCHAR), 'all') AS value,
            count(*)::INTEGER AS cells, count(DISTINCT quarter_label)::INTEGER AS quarters, count(DISTINCT made_on)::INTEGER AS forecasts,
            avg(grr_in_50::INTEGER) AS grr_coverage_50, avg(grr_in_80::INTEGER) AS grr_coverage_80,
            avg(grr_in_90::INTEGER) AS grr_coverage_90, avg(nrr_in_80::INTEGER) AS nrr_coverage_80,
            avg(grr_error) FILTER (WHERE naive_grr IS NOT NULL) AS grr_error, avg(naive_grr_error) AS naive_grr_error,
            avg(nrr_error) FILTER (WHERE naive_nrr IS NOT NULL) AS nrr_error, avg(naive_nrr_error) AS naive_nrr_error
     FROM ${FORECAST_ACCURACY} GROUP BY GROUPING SETS ((), (group_kind), (quarters_ahead)) ORDER BY cut, value`,
  );
  return (await one<{n: number}>(conn, `SELECT count(*)::INTEGER AS n FROM ${FORECAST_ACCURACY}`)).n;
}

/** Data-quality checks of the tables written here (loaders/quality.ts runs them with the marts'). */
export const FORECAST_RECORD_CHECKS: readonly MartChecks[] = [
  {
    table: FORECAST_ACCURACY,
    unique: ["made_on", "quarters_ahead", "group_kind", "group_value"],
    notNull: ["made_on", "quarter_label", "group_kind", "group_value", "actual_grr", "grr_p50"],
    ranges: {actual_grr: [0, 1], grr_p50: [0, 1], quarters_ahead: [1, 4]},
  },
  {
    table: FORECAST_ACCURACY_SUMMARY,
    unique: ["cut", "value"],
    notNull: ["cut", "value", "cells"],
    ranges: {grr_coverage_80: [0, 1]},
  },
];
