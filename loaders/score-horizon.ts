/**
 * Build-time scoring with the churn horizon model (loaders/model/train-horizon.ts): each active
 * account's churn probability in each of the next 12 months, the four calendar quarters from
 * the current one, and before its next renewal; and its back-test against the 90-day model at
 * the 90-day model's own back-test cutoffs.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {all, lit, one, run, writeTable} from "./duckdb.ts";
import {rocAuc} from "./model/evaluation.ts";
import type {LoadedModel} from "./model/registry.ts";
import {featuresAsOf, HORIZON_MONTHS} from "./model/train-horizon.ts";
import {toRowMajor, type Dataset, type FeatureMeta} from "./model/dataset.ts";
import {readDataset} from "./model/table.ts";
import type {MartChecks} from "./quality.ts";
import {
  HORIZON_BACKTEST,
  HORIZON_BACKTEST_CELLS,
  HORIZON_MONTHLY,
  HORIZONS,
  OUTLOOK_QUARTERS,
} from "./forecast-tables.ts";

/**
 * Accounts the back-test scores at a cutoff, about: a portfolio larger than this is sampled by a
 * hash of the account id (the same accounts every night). 20,000 accounts put a 3-month churn
 * rate of 4% within ±0.3 pp (one sd) and an AUC of 0.8 within ±0.01, and keep the back-test of
 * a 100,000-customer portfolio from scoring 1.2 million account-months every night.
 */
export const BACKTEST_ACCOUNTS = 20_000;
/** One account in `modulus`, the same ones every night: a hash of the id (marts.in_sample). */
export const inSample = (modulus: number, id = "customer_id") => `marts.in_sample(${id}, ${modulus})`;
/** The modulus that keeps about `accounts` of the accounts active tonight (1, all, for a smaller portfolio). */
export async function sampleModulus(conn: DuckDBConnection, accounts: number): Promise<number> {
  return (
    await one<{m: number}>(
      conn,
      `SELECT greatest(1, count(*) // ${accounts})::INTEGER AS m FROM marts.mart_customer_churn_features`,
    )
  ).m;
}

/** What gives a row's monthly hazard: the ONNX model a build loads, or trees being back-filled. */
export interface HazardScorer {
  features: readonly FeatureMeta[];
  hazard(data: Dataset): Promise<ArrayLike<number>>;
}

export const onnxHazards = (model: LoadedModel): HazardScorer => ({
  features: model.features,
  hazard: async (data) => (await model.scorer.score(toRowMajor(data), data.nRows)).probability,
});

/** The horizon model's inputs that belong to the month ahead, not to the account at the cutoff. */
const PERIOD_FEATURES = new Set(["months_ahead", "period_days", "days_to_renewal_at_period", "renews_in_period"]);
/** Accounts scored at a time: their months are 12 times as many rows. */
const HAZARD_BATCH_ACCOUNTS = 10_000;

/**
 * The hazard of every account of `accounts` (one row per account: customer_id and the cutoff's
 * features) in each of its months (`periods`: marts.int_churn_periods rows), scored into
 * marts.tmp_hazard_months: customer_id, months_ahead, the period, renews_in_period, hazard, and
 * the cumulative churn through the month, 1 − Π (1 − hazard). An account's features are read
 * once and repeated for its months, whose own columns are read apart: reading 12 wide rows per
 * account through JavaScript took 2.2 s per 100,000 rows, most of the horizon model's time.
 */
export async function hazards(
  conn: DuckDBConnection,
  model: HazardScorer,
  accounts: string,
  periods: string,
): Promise<void> {
  await run(conn, `CREATE OR REPLACE TABLE marts.tmp_hazard_accounts AS FROM (${accounts})`);
  await run(
    conn,
    `CREATE OR REPLACE TABLE marts.tmp_hazard_periods AS
     SELECT p.* FROM (${periods}) p SEMI JOIN marts.tmp_hazard_accounts a USING (customer_id)`,
  );
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.tmp_hazards (customer_id VARCHAR, months_ahead INTEGER, hazard DOUBLE)",
  );
  const own = model.features.filter((f) => !PERIOD_FEATURES.has(f.name));
  const month = model.features.filter((f) => PERIOD_FEATURES.has(f.name));
  let after: string | null = null;
  for (;;) {
    const where = after === null ? "" : `WHERE customer_id > ${lit(after)}`;
    const acc = await readDataset(
      conn,
      `(SELECT * FROM marts.tmp_hazard_accounts ${where} ORDER BY customer_id LIMIT ${HAZARD_BATCH_ACCOUNTS})`,
      own,
      ["customer_id"],
    );
    const ids = acc.extra.customer_id as string[];
    if (!ids.length) break;
    const last = ids.at(-1)!;
    const per = await readDataset(
      conn,
      `(SELECT * FROM marts.tmp_hazard_periods WHERE customer_id ${after === null ? ">= ''" : `> ${lit(after)}`}
        AND customer_id <= ${lit(last)} ORDER BY customer_id, months_ahead)`,
      month,
      ["customer_id", "months_ahead"],
    );
    const row = new Map(ids.map((id, i) => [id, i]));
    const n = per.data.nRows;
    // each month's account, looked up once for all the account's features
    const accountOf = Int32Array.from(per.extra.customer_id!, (id) => row.get(id as string)!);
    const columns = model.features.map((f) => {
      const out = new Float32Array(n);
      const j = month.indexOf(f);
      if (j >= 0) out.set(per.data.columns[j]!);
      else {
        const src = acc.data.columns[own.indexOf(f)]!;
        for (let i = 0; i < n; i++) out[i] = src[accountOf[i]!]!;
      }
      return out;
    });
    const probability = await model.hazard({nRows: n, features: [...model.features], columns});
    const app = await conn.createAppender("tmp_hazards", "marts");
    for (let i = 0; i < n; i++) {
      app.appendVarchar(per.extra.customer_id![i] as string);
      app.appendInteger(Number(per.extra.months_ahead![i]));
      app.appendDouble(probability[i]!);
      app.endRow();
    }
    app.closeSync();
    if (ids.length < HAZARD_BATCH_ACCOUNTS) break;
    after = last;
  }
  await run(
    conn,
    `CREATE OR REPLACE TABLE marts.tmp_hazard_months AS
     SELECT p.customer_id, p.months_ahead, p.period_after, p.period_through, p.renews_in_period, h.hazard,
            1 - exp(sum(ln(1 - h.hazard)) OVER (PARTITION BY p.customer_id ORDER BY p.months_ahead)) AS churn_through
     FROM marts.tmp_hazard_periods p JOIN marts.tmp_hazards h USING (customer_id, months_ahead)`,
  );
}

export const DROP_TEMPS = ["tmp_hazard_accounts", "tmp_hazard_periods", "tmp_hazards", "tmp_hazard_months"]
  .map((t) => `DROP TABLE IF EXISTS marts.${t};`)
  .join(" ");

/**
 * marts.tmp_hazard_months (see hazards) as HORIZON_MONTHLY holds it, each month with the outlook
 * quarter it falls in (1: the quarter of the day after `asOf`) and the churn in it.
 */
export function monthsAheadSql(asOf: string): string {
  const quarterOf = (d: string) => `(year(${d}) * 4 + quarter(${d}))`;
  return `SELECT customer_id, months_ahead, period_after, period_through, renews_in_period,
            ${quarterOf("period_through")} - ${quarterOf(`DATE ${lit(asOf)} + 1`)} + 1 AS outlook_quarter,
            hazard, churn_through - coalesce(lag(churn_through) OVER (PARTITION BY customer_id ORDER BY months_ahead), 0) AS churn_in_month,
            churn_through
     FROM marts.tmp_hazard_months ORDER BY customer_id, months_ahead`;
}

/**
 * The 3-month churn of each plan tier × industry cell at `cutoff` against its expectation, from
 * marts.tmp_hazard_months scored at that cutoff: the rows of HORIZON_BACKTEST_CELLS, from which
 * loaders/forecast.ts measures how much accounts churn together. In accounts and in ARR (the
 * account's at the cutoff, in millions of dollars: these are statistics, and sums of squared
 * dollars run to 1e10, where the order DuckDB adds in moves the sixth decimal): expected Σp and
 * Σarr·p, variance Σp(1−p) and Σarr²·p(1−p), the slope Σarr·p(1−p) (what a shared shift of the
 * log-odds moves the churned ARR by), observed.
 */
export const BACKTEST_CELLS_COLUMNS = `(cutoff DATE, plan_tier VARCHAR, industry VARCHAR, accounts INTEGER, expected DOUBLE, variance DOUBLE,
  observed INTEGER, expected_arr_musd DOUBLE, arr_variance_musd2 DOUBLE, arr_slope_musd DOUBLE, observed_arr_musd DOUBLE)`;

export function backtestCellsSql(cutoff: string): string {
  const p = "h.churn_through";
  const arr = "(a.arr / 1e6)";
  return `SELECT DATE ${lit(cutoff)} AS cutoff, k.plan_tier, k.industry, count(*)::INTEGER AS accounts, sum(${p}) AS expected,
                 sum(${p} * (1 - ${p})) AS variance, (count(*) FILTER (WHERE ch.churn_date <= h.period_through))::INTEGER AS observed,
                 sum(${arr} * ${p}) AS expected_arr_musd, sum(${arr} * ${arr} * ${p} * (1 - ${p})) AS arr_variance_musd2,
                 sum(${arr} * ${p} * (1 - ${p})) AS arr_slope_musd,
                 coalesce(sum(${arr}) FILTER (WHERE ch.churn_date <= h.period_through), 0) AS observed_arr_musd
          FROM marts.tmp_hazard_months h JOIN marts.tmp_hazard_accounts a USING (customer_id) JOIN raw.customers k USING (customer_id)
          LEFT JOIN raw.churn_events ch USING (customer_id)
          WHERE h.months_ahead = 3 GROUP BY ALL`;
}

/**
 * Writes HORIZON_MONTHLY (account × month ahead: hazard, churn in the month, churn through it),
 * HORIZONS (per account: each outlook quarter's churn, churn before the next renewal and over 12
 * months), HORIZON_BACKTEST and marts.horizon_model_card.
 */
export async function scoreHorizons(
  conn: DuckDBConnection,
  model: LoadedModel,
  asOf: string,
  log: (m: string) => void,
): Promise<void> {
  const t0 = performance.now();
  // tonight's features are the macro's as of tonight (mart_customer_churn_features)
  await hazards(
    conn,
    onnxHazards(model),
    "SELECT * FROM marts.mart_customer_churn_features",
    `SELECT * FROM marts.int_churn_periods(DATE ${lit(asOf)}, ${HORIZON_MONTHS})`,
  );
  await run(conn, `CREATE OR REPLACE TABLE ${HORIZON_MONTHLY} AS ${monthsAheadSql(asOf)}`);
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${HORIZONS} AS
     SELECT customer_id,
            ${Array.from({length: OUTLOOK_QUARTERS}, (_, k) => `sum(churn_in_month) FILTER (WHERE outlook_quarter = ${k + 1}) AS churn_quarter_${k + 1}`).join(",\n            ")},
            -- through the month the next renewal falls in (or all 12 months when it is further)
            coalesce(min(churn_through) FILTER (WHERE renews_in_period), max(churn_through)) AS churn_before_renewal,
            min(period_through) FILTER (WHERE renews_in_period) AS renewal_month_end,
            max(churn_through) AS churn_12_months
     FROM ${HORIZON_MONTHLY} GROUP BY customer_id ORDER BY customer_id`,
  );
  const accounts = (await all<{n: number}>(conn, `SELECT count(*)::INTEGER AS n FROM ${HORIZONS}`))[0]!.n;
  await run(conn, DROP_TEMPS);
  await backtest(conn, model, asOf);
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.horizon_model_card AS SELECT $1 AS card_json, $2 AS version, NULL::VARCHAR AS missing",
    [JSON.stringify(model.card), model.card.version],
  );
  log(
    `churn horizon model: ${accounts.toLocaleString("en-US")} accounts × ${HORIZON_MONTHS} months, and its back-test, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

/**
 * Without a churn horizon model (too little history to train one, `reason`): its tables, empty,
 * so what reads them — the forecast, the renewal calls, the pages — says there is none tonight.
 */
export async function writeNoHorizons(conn: DuckDBConnection, reason: string): Promise<void> {
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${HORIZON_MONTHLY} (customer_id VARCHAR, months_ahead INTEGER, period_after DATE, period_through DATE,
       renews_in_period BOOLEAN, outlook_quarter INTEGER, hazard DOUBLE, churn_in_month DOUBLE, churn_through DOUBLE);
     CREATE OR REPLACE TABLE ${HORIZONS} (customer_id VARCHAR, ${Array.from({length: OUTLOOK_QUARTERS}, (_, k) => `churn_quarter_${k + 1} DOUBLE`).join(", ")},
       churn_before_renewal DOUBLE, renewal_month_end DATE, churn_12_months DOUBLE);
     CREATE OR REPLACE TABLE ${HORIZON_BACKTEST} (cutoff DATE, months INTEGER, accounts INTEGER, predicted DOUBLE, observed DOUBLE, auc DOUBLE,
       churn_model_predicted DOUBLE, churn_model_auc DOUBLE);
     CREATE OR REPLACE TABLE ${HORIZON_BACKTEST_CELLS} ${BACKTEST_CELLS_COLUMNS}`,
  );
  await run(
    conn,
    "CREATE OR REPLACE TABLE marts.horizon_model_card AS SELECT NULL::VARCHAR AS card_json, NULL::VARCHAR AS version, $1 AS missing",
    [reason],
  );
}

/**
 * At each of the 90-day model's back-test cutoffs (marts.model_backtest_predictions): for every
 * horizon of 3, 6, 9 and 12 months that has ended, the horizon model's cumulative probability
 * against the churn that happened (AUC, mean predicted, observed); at 3 months, the 90-day
 * model's probability against the same outcome beside it.
 */
async function backtest(conn: DuckDBConnection, model: LoadedModel, asOf: string): Promise<void> {
  const columns = {
    cutoff: "VARCHAR",
    months: "INTEGER",
    accounts: "INTEGER",
    predicted: "DOUBLE",
    observed: "DOUBLE",
    auc: "DOUBLE",
    churn_model_predicted: "DOUBLE",
    churn_model_auc: "DOUBLE",
  } as const;
  const cutoffs = (
    await all<{c: string}>(
      conn,
      "SELECT DISTINCT CAST(cutoff_date AS VARCHAR) AS c FROM marts.model_backtest_predictions ORDER BY c",
    )
  ).map((r) => r.c);
  const out: (string | number | null)[][] = [];
  const modulus = await sampleModulus(conn, BACKTEST_ACCOUNTS);
  // the 3-month churn of each plan tier × industry cell against its expectation (loaders/forecast.ts
  // measures from them how much accounts churn together)
  await run(conn, `CREATE OR REPLACE TABLE ${HORIZON_BACKTEST_CELLS} ${BACKTEST_CELLS_COLUMNS}`);
  for (const c of cutoffs) {
    // only the months that have ended (the cumulative churn through one needs only those before
    // it), and of a large portfolio a fixed sample of accounts (BACKTEST_ACCOUNTS)
    await hazards(
      conn,
      onnxHazards(model),
      `SELECT * FROM ${featuresAsOf(`DATE ${lit(c)}`, modulus)}`,
      `SELECT * FROM marts.int_churn_periods(DATE ${lit(c)}, ${HORIZON_MONTHS}) WHERE period_through <= DATE ${lit(asOf)}`,
    );
    for (const months of [3, 6, 9, 12]) {
      const rows = await all<{through: number; churned: boolean; p90: number | null; ended: boolean}>(
        conn,
        `SELECT h.churn_through AS through, coalesce(ch.churn_date <= h.period_through, false) AS churned,
                b.probability AS p90, h.period_through <= DATE ${lit(asOf)} AS ended
         FROM marts.tmp_hazard_months h LEFT JOIN raw.churn_events ch USING (customer_id)
         LEFT JOIN marts.model_backtest_predictions b ON b.customer_id = h.customer_id AND b.cutoff_date = DATE ${lit(c)}
         WHERE h.months_ahead = ${months} ORDER BY h.customer_id`,
      );
      if (!rows.length || !rows[0]!.ended) continue;
      if (months === 3) await run(conn, `INSERT INTO ${HORIZON_BACKTEST_CELLS} ${backtestCellsSql(c)}`);
      const y = rows.map((r) => (r.churned ? 1 : 0));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const with90 = rows.flatMap((r, i) => (r.p90 === null ? [] : [i]));
      const compare = months === 3 && with90.length > 0;
      out.push([
        c,
        months,
        rows.length,
        mean(rows.map((r) => r.through)),
        mean(y),
        rocAuc(
          y,
          rows.map((r) => r.through),
        ),
        compare ? mean(with90.map((i) => rows[i]!.p90!)) : null,
        compare
          ? rocAuc(
              with90.map((i) => y[i]!),
              with90.map((i) => rows[i]!.p90!),
            )
          : null,
      ]);
    }
  }
  await writeTable(conn, HORIZON_BACKTEST, columns, out);
  await run(conn, `ALTER TABLE ${HORIZON_BACKTEST} ALTER cutoff TYPE DATE`);
  await run(conn, DROP_TEMPS);
}

/** Data-quality checks of the tables written here (loaders/quality.ts runs them with the marts'). */
export const HORIZON_TABLE_CHECKS: readonly MartChecks[] = [
  {
    table: HORIZON_MONTHLY,
    unique: ["customer_id", "months_ahead"],
    notNull: ["customer_id", "months_ahead", "period_through", "hazard", "churn_in_month", "churn_through"],
    ranges: {months_ahead: [1, HORIZON_MONTHS], hazard: [0, 1], churn_through: [0, 1], outlook_quarter: [1, 5]},
    // every active account × 12 months, or none when there is no horizon model (writeNoHorizons)
    rowsEqual: `(SELECT count(*) * ${HORIZON_MONTHS} FROM marts.mart_customer_churn_features) * (SELECT count(card_json) FROM marts.horizon_model_card)`,
  },
  {
    table: HORIZONS,
    unique: ["customer_id"],
    notNull: ["customer_id", "churn_quarter_1", "churn_before_renewal", "churn_12_months"],
    ranges: {churn_before_renewal: [0, 1], churn_12_months: [0, 1]},
    rowsEqual:
      "(SELECT count(*) FROM marts.mart_customer_churn_features) * (SELECT count(card_json) FROM marts.horizon_model_card)",
  },
];
