/**
 * The churn horizon model: a discrete-time hazard model over calendar months. One row per
 * account, cutoff and month ahead (1–12) that the account entered alive, with the cutoff's
 * features (the same macro as the 90-day model) and the month's own (marts.int_churn_periods:
 * how far ahead, its length, whether the renewal falls in it); label = churned in that month.
 * The trees give each month's hazard h_j; the probability of churning in month j is
 * S_{j−1}·h_j with S_j = Π_{i≤j}(1 − h_i), and a quarter's churn is the sum of its months'.
 *
 * Why a hazard model and not one model per horizon: a row counts for every month that has
 * already happened, so a cutoff six months back still teaches the first six months (a 12-month
 * label would have to wait a year, and 24 months of history would leave few cutoffs); one model
 * gives every horizon, the quarters of a forecast and the months to each renewal, from one ONNX
 * file; and the probabilities are consistent by construction (the 6-month one is never below
 * the 3-month one).
 *
 * The split is by the month the outcome falls in, not by cutoff, so no outcome the model or its
 * calibration saw is in the test set: train on months ending up to a year before the last
 * complete month, calibrate on the next six, test on the last six. Six months of calibration, not
 * three: a portfolio's churn moves from quarter to quarter with the renewals due, and on three
 * portfolios of 1,500 customers a three-month window set the level of the quarter it saw (the
 * 6-month churn expected at the first test cutoff came out 12–33% high; with six months, 1–17%).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {all, lit, one, run} from "../duckdb.ts";
import {calibrate} from "./calibration.ts";
import {rocAuc} from "./evaluation.ts";
import {predictRaw} from "./gbt.ts";
import {detectFeatures, readDataset} from "./table.ts";
import type {Dataset, FeatureMeta} from "./dataset.ts";
import {fitAndPackage, labelsOf, type TrainedModel, type WarehouseTrainOptions} from "./train.ts";
import {config} from "../../src/rules/config.ts";

/** The data holds too little history to train the horizon model: the build goes on without it. */
export class NotEnoughHistoryError extends Error {
  override name = "NotEnoughHistoryError";
}

/** Months ahead the horizon model gives (four quarters from any day). */
export const HORIZON_MONTHS = 12;
export const HORIZON_LABEL = "churned_in_period";
export const HORIZON_SNAPSHOTS = "marts.horizon_training_snapshots";
/** Columns of the horizon snapshots that are identifiers, owners, dates or outcomes, not signals. */
export const HORIZON_NON_FEATURES = [
  "customer_id",
  "as_of_date",
  "csm_owner",
  "period_after",
  "period_through",
  HORIZON_LABEL,
] as const;
/** Months of outcomes in the test and validation windows (the latest complete months). */
export const HORIZON_TEST_MONTHS = 6;
export const HORIZON_VALID_MONTHS = 6;

/**
 * The accounts' features as of `day` (a SQL date), of the fixed sample of one account in
 * `modulus` (1: all): the macro then reads the sample's rows only (int_customer_features_as_of.sql).
 */
export const featuresAsOf = (day: string, modulus = 1) =>
  `marts.int_customer_features_as_of(${day}${modulus > 1 ? `, sample := ${modulus}` : ""})`;

/** The rows of the horizon model at one cutoff: its features, each month ahead's own, and (with `labels`) the outcome. */
export function horizonRowsSql(cutoff: string, opts: {labelsThrough?: string; sample?: number} = {}): string {
  const c = `DATE ${lit(cutoff)}`;
  const cols = `f.*, p.months_ahead, p.period_days, p.days_to_renewal_at_period, p.renews_in_period, p.period_after, p.period_through`;
  // `sample`: one account in `sample` only (a back-fill's, score-horizon.ts)
  const from = `${featuresAsOf(c, opts.sample)} f
    JOIN marts.int_churn_periods(${c}, ${HORIZON_MONTHS}) p USING (customer_id)`;
  if (!opts.labelsThrough) return `SELECT ${cols} FROM ${from}`;
  // the months that have ended, entered alive
  return `SELECT ${cols}, coalesce(ch.churn_date <= p.period_through, false) AS ${HORIZON_LABEL}
    FROM ${from} LEFT JOIN raw.churn_events ch USING (customer_id)
    WHERE p.period_through <= DATE ${lit(opts.labelsThrough)} AND (ch.churn_date IS NULL OR ch.churn_date > p.period_after)`;
}

/** The split's boundaries: outcomes through `train`, through `valid`, through `test` (the last complete month). */
export async function horizonSplit(
  conn: DuckDBConnection,
  asOf: string,
): Promise<{train: string; valid: string; test: string}> {
  const r = await one<{train: string; valid: string; test: string}>(
    conn,
    `WITH l AS (SELECT last_day(DATE ${lit(asOf)} + 1 - INTERVAL 1 MONTH) AS e)
     SELECT CAST(last_day(e - INTERVAL ${HORIZON_TEST_MONTHS + HORIZON_VALID_MONTHS} MONTH) AS VARCHAR) AS train,
            CAST(last_day(e - INTERVAL ${HORIZON_TEST_MONTHS} MONTH) AS VARCHAR) AS valid,
            CAST(e AS VARCHAR) AS test FROM l`,
  );
  return r;
}

/**
 * Quarter-start cutoffs (1 January, April, July, October) after 90 days of usage history, up to
 * the last complete month: every third month keeps the rows a few per account and month while
 * every calendar month still appears at every distance ahead.
 */
export async function horizonCutoffs(conn: DuckDBConnection, asOf: string): Promise<string[]> {
  const rows = await all<{c: string}>(
    conn,
    `WITH bounds AS (SELECT min(event_date) + ${config.dataQuality.churnHorizonDays} AS first_ok FROM raw.usage_events)
     SELECT CAST(c AS DATE)::VARCHAR AS c FROM bounds, range(date_trunc('month', first_ok + 31), DATE ${lit(asOf)} - 30, INTERVAL 1 MONTH) t(c)
     WHERE month(c) IN (1, 4, 7, 10) ORDER BY c`,
  );
  return rows.map((r) => r.c);
}

/**
 * Builds `table` (HORIZON_SNAPSHOTS unless told): every cutoff's rows for the months that have
 * ended by `through`, of the accounts that meet `accounts` (all unless told).
 */
export async function buildHorizonSnapshots(
  conn: DuckDBConnection,
  cutoffs: string[],
  opts: {through: string; table?: string; sample?: number},
): Promise<number> {
  const table = opts.table ?? HORIZON_SNAPSHOTS;
  await run(conn, `DROP TABLE IF EXISTS ${table}`);
  for (const [i, c] of cutoffs.entries()) {
    const body = horizonRowsSql(c, {labelsThrough: opts.through, sample: opts.sample});
    await run(conn, i === 0 ? `CREATE TABLE ${table} AS ${body}` : `INSERT INTO ${table} ${body}`);
  }
  return (await one<{n: number}>(conn, `SELECT count(*)::INTEGER AS n FROM ${table}`)).n;
}

/** The rows of a horizon snapshot `table` that meet `where`: features, labels and the cutoffs they come from. */
export async function readHorizonRows(
  conn: DuckDBConnection,
  table: string,
  features: readonly FeatureMeta[],
  where: string,
  extra: readonly string[] = [],
): Promise<{data: Dataset; y: Float64Array; cutoffs: string[]; extra: Record<string, unknown[]>}> {
  const rel = `(SELECT * REPLACE (CAST(period_through AS VARCHAR) AS period_through), CAST(as_of_date AS VARCHAR) AS cutoff
    FROM ${table} WHERE ${where} ORDER BY as_of_date, customer_id, months_ahead)`;
  const r = await readDataset(conn, rel, features, [HORIZON_LABEL, "cutoff", ...extra]);
  return {
    data: r.data,
    y: labelsOf(r.extra[HORIZON_LABEL]!, HORIZON_LABEL, table),
    // each row's cutoff (an ISO date), in row order
    cutoffs: r.extra.cutoff as string[],
    extra: r.extra,
  };
}

const distinct = (xs: readonly string[]) => [...new Set(xs)].sort();

/** Refuses (NotEnoughHistoryError) a part of the split with fewer than 100 rows or 5 churns. */
export function enoughHistory(
  parts: Record<string, {data: Dataset; y: Float64Array}>,
  split: string,
  needed = "about 18 months of history are needed",
): void {
  for (const [name, p] of Object.entries(parts)) {
    const churns = p.y.reduce((a, b) => a + b, 0);
    if (p.data.nRows < 100 || churns < 5)
      throw new NotEnoughHistoryError(
        `not enough history to train the churn horizon model: its ${name} months (${split}) hold ${p.data.nRows} rows with ${churns} churn(s); ${needed}`,
      );
  }
}

/** Trains the churn horizon model on the warehouse's raw tables; writes HORIZON_SNAPSHOTS. */
export async function trainHorizonModel(conn: DuckDBConnection, opts: WarehouseTrainOptions): Promise<TrainedModel> {
  const log = opts.log ?? (() => {});
  const split = await horizonSplit(conn, opts.asOf);
  const cutoffs = await horizonCutoffs(conn, opts.asOf);
  const rows = await buildHorizonSnapshots(conn, cutoffs, {through: split.test});
  const features = await detectFeatures(conn, HORIZON_SNAPSHOTS, HORIZON_NON_FEATURES, HORIZON_SNAPSHOTS, (name) =>
    log(`left out: feature "${name}" has no value in this data`),
  );
  const part = (where: string) => readHorizonRows(conn, HORIZON_SNAPSHOTS, features, where);
  const d = (s: string) => `DATE ${lit(s)}`;
  const train = await part(`period_through <= ${d(split.train)}`);
  const valid = await part(`period_through > ${d(split.train)} AND period_through <= ${d(split.valid)}`);
  const test = await part(`period_through > ${d(split.valid)}`);
  enoughHistory({train, valid, test}, `outcomes through ${split.train}, ${split.valid}, ${split.test}`);
  log(
    `horizon snapshots: ${rows.toLocaleString("en-US")} account-months at ${cutoffs.length} quarter-start cutoffs; train on months through ${split.train}, calibrate through ${split.valid}, test through ${split.test}`,
  );
  const positives =
    train.y.reduce((a, b) => a + b, 0) + valid.y.reduce((a, b) => a + b, 0) + test.y.reduce((a, b) => a + b, 0);
  const fp = await one<{n: number; h: string}>(
    conn,
    `SELECT count(*)::INTEGER AS n, CAST(bit_xor(hash(customer_id, as_of_date, months_ahead, ${HORIZON_LABEL})) AS VARCHAR) AS h FROM ${HORIZON_SNAPSHOTS}`,
  );
  return fitAndPackage(
    {train: train.data, yTrain: train.y, valid: valid.data, yValid: valid.y, test: test.data, yTest: test.y},
    {
      seed: opts.seed ?? 42,
      truthAuc: null,
      fingerprint: `${fp.n}:${fp.h}`,
      log,
      kind: "horizon",
      cardExtra: {horizon: {months: HORIZON_MONTHS, outcomes_through: split}},
      training: {
        source: "warehouse",
        label: "churned in the month (of up to 12 ahead of a quarter-start cutoff) that the account entered alive",
        rows: {train: train.data.nRows, valid: valid.data.nRows, test: test.data.nRows},
        positive_rate: positives / rows,
        cutoffs: {train: distinct(train.cutoffs), valid: distinct(valid.cutoffs), test: distinct(test.cutoffs)},
      },
    },
  );
}

/**
 * Each account's churn probability by month from its monthly hazards, in row order: `hazard`
 * holds HORIZON_MONTHS values per account (months 1…12); returns P(churn in month j) and the
 * cumulative probability through month j, in the same layout.
 */
export function monthlyChurn(hazard: ArrayLike<number>): {inMonth: Float64Array; through: Float64Array} {
  const inMonth = new Float64Array(hazard.length);
  const through = new Float64Array(hazard.length);
  for (let a = 0; a < hazard.length; a += HORIZON_MONTHS) {
    let survival = 1;
    for (let j = 0; j < HORIZON_MONTHS; j++) {
      const h = hazard[a + j]!;
      inMonth[a + j] = survival * h;
      survival *= 1 - h;
      through[a + j] = 1 - survival;
    }
  }
  return {inMonth, through};
}

/**
 * The cumulative horizon probabilities at `cutoff` against what happened, from a trained model
 * (TypeScript trees, which equal its ONNX file): for each horizon of `months` that has ended by
 * `asOf`, AUC, mean predicted and observed churn.
 */
export async function horizonBacktestAt(
  conn: DuckDBConnection,
  m: TrainedModel,
  cutoff: string,
  asOf: string,
  months: readonly number[],
): Promise<{months: number; accounts: number; predicted: number; observed: number; auc: number}[]> {
  const rel = `(SELECT h.*, CAST(h.period_through AS VARCHAR) AS period_end, CAST(ch.churn_date AS VARCHAR) AS churned_on
    FROM (${horizonRowsSql(cutoff)}) h LEFT JOIN raw.churn_events ch USING (customer_id) ORDER BY customer_id, months_ahead)`;
  const {data, extra} = await readDataset(conn, rel, m.gbt.features, ["period_end", "churned_on"]);
  const hazard = calibrate(m.calibration, predictRaw(m.gbt, data));
  const {through} = monthlyChurn(hazard);
  const out = [];
  for (const k of months) {
    const idx: number[] = [];
    for (let a = 0; a + HORIZON_MONTHS <= data.nRows; a += HORIZON_MONTHS) idx.push(a + k - 1);
    if (!idx.length) continue;
    const end = extra.period_end![idx[0]!] as string;
    if (end > asOf) continue;
    const y = idx.map((i) => {
      const c = extra.churned_on![i] as string | null;
      return c !== null && c <= end ? 1 : 0;
    });
    const p = idx.map((i) => through[i]!);
    out.push({
      months: k,
      accounts: idx.length,
      predicted: p.reduce((a, b) => a + b, 0) / idx.length,
      observed: y.reduce((a: number, b) => a + b, 0) / idx.length,
      auc: rocAuc(y, p),
    });
  }
  return out;
}
