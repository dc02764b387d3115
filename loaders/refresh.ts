/**
 * The nightly refresh: a build reuses what the previous warehouse computed from the same inputs
 * and recomputes the rest, so a night costs what changed, not the whole history. The result is
 * the full build's, row for row (tests/refresh.test.ts builds both and compares every table).
 *
 * What may be reused is decided by evidence, never by a flag:
 *  - a step's *recipe* — the SQL files it runs, the rules it reads, DuckDB's version — is hashed
 *    into a key stored with the warehouse (marts.build_memo); a different key (an edited SQL file,
 *    a new vocabulary, an upgraded engine) means nothing of that step is reused;
 *  - its *inputs* are fingerprinted where they are read: each day of raw usage has its row count
 *    and the sum of its rows' hashes (marts.int_usage_days); a day whose fingerprint differs from
 *    last night's, appeared or disappeared is aggregated again, with every later day.
 *
 * Reused now:
 *  - the raw usage rows of unchanged days (ingest of files and database extracts): tonight's staged
 *    rows of a day — after the mapping, before typing and checks — have the fingerprint they had
 *    last night, so last night's typed and checked rows of that day are tonight's too. Only the
 *    other days are typed and checked (the ingest of the usage file was ~14 s of a 5,000-customer
 *    build). The checks are per day (the key holds the day), except the account reference,
 *    so every account of last night must still be there; see `stagedDaysToReuse`. Usage in one
 *    Parquet file is not even copied into the warehouse first: it is staged as a view, read once
 *    to fingerprint its days, and only its new and changed days are copied (`keepOtherDays`);
 *  - the daily usage aggregate (marts.int_usage_daily), the largest step of the features
 *    (~55 s of a 200 s build at 100,000 customers).
 * `npm run build -- --full-refresh` reuses nothing.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {createHash} from "node:crypto";
import {copyFileSync, existsSync, readFileSync, rmSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {CONTRACT, type TableSpec} from "./contract.ts";
import {all, hasColumn, ident, lit, one, run, tableExists, viewExists} from "./duckdb.ts";
import {martSql} from "./marts.ts";

/** Every account's score at every past cutoff of the score history and the back-test (loaders/score.ts). */
export const CUTOFF_SCORES = "marts.cutoff_scores";
/** Every account's fingerprint over its raw rows but usage (`writeAccountFingerprints`). */
export const ACCOUNT_FINGERPRINTS = "marts.account_fingerprints";

/**
 * Writes ACCOUNT_FINGERPRINTS: per account, the sum of the hashes of its rows in every raw table
 * but usage (whose days are fingerprinted on their own), each hashed with its table's name. Any
 * row of an account added, changed or removed changes the account's fingerprint.
 */
export async function writeAccountFingerprints(conn: DuckDBConnection): Promise<void> {
  // the contract's tables, not whatever raw holds (last night's usage kept under another name)
  const rows = [];
  for (const {name} of CONTRACT)
    if (
      name !== DAILY_RAW.table &&
      (await tableExists(conn, null, `raw.${name}`)) &&
      (await hasColumn(conn, `raw.${name}`, "customer_id"))
    )
      rows.push(`SELECT customer_id, hash(${lit(name)}, r)::HUGEINT AS h FROM raw.${ident(name)} r`);
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${ACCOUNT_FINGERPRINTS} AS
     SELECT customer_id, sum(h) AS fingerprint FROM (${rows.join(" UNION ALL ")}) WHERE customer_id IS NOT NULL GROUP BY customer_id`,
  );
}

/** Where the previous warehouse is attached while a build reads it. */
const PREVIOUS = "saasguard_refresh_previous";

/** What runSteps asks before and after a step it runs (loaders/marts.ts). */
export interface StepReuse {
  before(conn: DuckDBConnection, step: string): Promise<void>;
  /** a note for the step's progress line (what was reused), or null */
  after(conn: DuckDBConnection, step: string): Promise<string | null>;
}

/** The recipe of the daily usage aggregate: its SQL, the words it reads events by, the engine. */
async function usageRecipe(conn: DuckDBConnection): Promise<string> {
  const {inputs} = await one<{inputs: string}>(
    conn,
    `SELECT concat_ws('|', version(),
       (SELECT count(*) || ':' || coalesce(sum(hash(v)::HUGEINT), 0) FROM cfg.vocabulary v),
       getvariable('engagement_signals')::VARCHAR) AS inputs`,
  );
  return createHash("sha256")
    .update(["int_vocabulary", "int_usage_days", "int_usage_daily"].map(martSql).join("\n"))
    .update(inputs)
    .digest("hex");
}

/** The code that turns staged rows into raw rows: a change to it is a change of the ingest's recipe. */
const INGEST_CODE = ["ingest.ts", "coerce.ts", "contract.ts"].map((f) =>
  readFileSync(fileURLToPath(new URL(`./${f}`, import.meta.url)), "utf8"),
);

/** The raw table whose days are reused, and its day column (the one table that grows with history). */
export const DAILY_RAW = {table: "usage_events", day: "event_date"} as const;

/** The tables a refresh keeps from the previous warehouse's copy, renamed until they are reused. */
const KEPT = {raw: `raw.${DAILY_RAW.table}`, daily: "marts.int_usage_daily"} as const;
const keptName = (t: string) => `${t}_previous`;
const bare = (t: string) => t.split(".")[1]!;

/**
 * Leaves in `stage` a table of its rows outside the reused `days` (all of them when none is),
 * each with its place in the file as __src_row. A staged view (a Parquet file read as it is) is
 * read here a second time, for the rows of the days named.
 */
async function keepOtherDays(conn: DuckDBConnection, stage: string, days: string[]): Promise<void> {
  const view = await viewExists(conn, stage);
  if (!days.length && !view) return;
  const place = (await hasColumn(conn, stage, "__src_row")) ? "" : ", rowid AS __src_row";
  const day = ident(DAILY_RAW.day);
  let rest = "";
  if (days.length) {
    // the days staged tonight and not reused: usually tonight's alone
    const others = (
      await all<{day: string}>(
        conn,
        `SELECT day FROM ingest.staged_days WHERE table_name = ${lit(DAILY_RAW.table)} AND day IS NOT NULL
         AND day NOT IN (SELECT day FROM reused_days) ORDER BY day`,
      )
    ).map((r) => r.day);
    // (one day of a 36.5M-row Parquet file in date order: 37 ms, so the file is not read whole)
    rest = ` WHERE ${others.length ? `CAST(${day} AS VARCHAR) IN (${others.map(lit).join(", ")})` : "false"}`;
  }
  await run(conn, `CREATE OR REPLACE TABLE ${stage}_rest AS SELECT *${place} FROM ${stage}${rest}`);
  if (days.length) await run(conn, `INSERT INTO ${stage}_rest SELECT *${place} FROM ${stage} WHERE ${day} IS NULL`);
  await run(conn, `DROP ${view ? "VIEW" : "TABLE"} ${stage}; ALTER TABLE ${stage}_rest RENAME TO ${bare(stage)}`);
}

/**
 * Reuse of the previous warehouse for one build.
 *
 * The build starts from a copy of the previous warehouse file (`copyPrevious`: a file copy is
 * sequential I/O, where copying 150M rows of usage from one DuckDB file into another took ~3 s
 * per 7M rows). `open` keeps the copy's large reusable tables under other names and drops
 * everything else, so tonight's build creates every other object afresh, as a full build does;
 * the previous warehouse itself is attached read only for what it recorded (memo, fingerprints,
 * problems, as-of date). A kept table is either brought up to date in place — rows of changed days
 * deleted, tonight's inserted — or dropped. Without a previous warehouse (or with `fullRefresh`)
 * every step runs whole, and the memo is still written, so the next night can refresh.
 */
export class Refresh implements StepReuse {
  private usageFrom: string | null = null;
  private usageKey: string | null = null;

  private constructor(
    /** there is a previous warehouse to reuse, attached (not a first build, not --full-refresh) */
    readonly hasPrevious: boolean,
    private readonly log: (m: string) => void,
  ) {}

  /**
   * Copies the previous warehouse to where tonight's is built; false (nothing copied) without one,
   * with `fullRefresh`, or when it cannot be copied.
   */
  static copyPrevious(previous: string, target: string, fullRefresh: boolean | undefined): boolean {
    if (fullRefresh || !existsSync(previous)) return false;
    try {
      copyFileSync(previous, target);
      return true;
    } catch {
      rmSync(target, {force: true});
      return false;
    }
  }

  /**
   * Starts reuse on tonight's warehouse: when it is a copy of the previous one (`copied`), keeps
   * the reusable tables and drops the rest, and attaches the previous warehouse read only.
   */
  static async open(
    conn: DuckDBConnection,
    opts: {previousWarehouse: string; copied: boolean; log?: (m: string) => void},
  ): Promise<Refresh> {
    const log = opts.log ?? (() => {});
    if (!opts.copied) return new Refresh(false, log);
    await run(conn, `ATTACH ${lit(opts.previousWarehouse)} AS ${PREVIOUS} (READ_ONLY)`);
    for (const t of Object.values(KEPT))
      if (await tableExists(conn, null, t)) await run(conn, `ALTER TABLE ${t} RENAME TO ${bare(keptName(t))}`);
    const keep = new Set(Object.values(KEPT).map(keptName));
    const schemas = new Set(Object.values(KEPT).map((t) => t.split(".")[0]!));
    const here = "database_name = current_database()";
    for (const r of await all<{s: string}>(
      conn,
      `SELECT schema_name AS s FROM duckdb_schemas() WHERE ${here} AND NOT internal`,
    ))
      if (!schemas.has(r.s)) await run(conn, `DROP SCHEMA "${r.s}" CASCADE`);
    for (const r of await all<{t: string}>(
      conn,
      `SELECT schema_name || '.' || view_name AS t FROM duckdb_views() WHERE ${here} AND NOT internal`,
    ))
      await run(conn, `DROP VIEW ${r.t}`);
    for (const r of await all<{t: string}>(
      conn,
      `SELECT schema_name || '.' || table_name AS t FROM duckdb_tables() WHERE ${here}`,
    ))
      if (!keep.has(r.t)) await run(conn, `DROP TABLE ${r.t}`);
    for (const r of await all<{t: string; kind: string}>(
      conn,
      `SELECT DISTINCT schema_name || '.' || function_name AS t, function_type AS kind FROM duckdb_functions()
       WHERE ${here} AND NOT internal AND function_type IN ('macro', 'table_macro')`,
    ))
      await run(conn, `DROP MACRO ${r.kind === "table_macro" ? "TABLE " : ""}${r.t}`);
    return new Refresh(true, log);
  }

  /** Drops what was kept and not reused, and detaches the previous warehouse. */
  async close(conn: DuckDBConnection): Promise<void> {
    if (!this.hasPrevious) return;
    for (const t of Object.values(KEPT)) await run(conn, `DROP TABLE IF EXISTS ${keptName(t)}`);
    await run(conn, `DETACH ${PREVIOUS}`);
  }

  /** The previous build's key for a step, or null (no previous build, or one without the memo). */
  private async previousKey(conn: DuckDBConnection, step: string): Promise<string | null> {
    if (!this.hasPrevious || !(await tableExists(conn, PREVIOUS, "marts.build_memo"))) return null;
    const r = await one<{key: string | null}>(
      conn,
      `SELECT max(key) AS key FROM ${PREVIOUS}.marts.build_memo WHERE step = $1`,
      [step],
    );
    return r.key;
  }

  /**
   * Ingest of a day-partitioned raw table (DAILY_RAW): fingerprints tonight's staged rows per day
   * (into ingest.staged_days, for the next night) and, where last night's rows of a day can stand
   * for tonight's, replaces `stage` by its rows of the other days (each keeping its place in the
   * file as __src_row, for problem reports). Returns the days reused (ISO dates), which
   * `appendReusedDays` copies after the other days are loaded.
   *
   * Last night's rows of a day are tonight's when: the day's staged rows have the same count and
   * hash sum; the recipe is the same (the ingest code, how each column's text is read — styles
   * decided on all of tonight's rows —, the engine); last night's ingest was strict with no
   * problem in this table; the as-of date did not move back (the future-date check only loosens);
   * and every account last night's rows could refer to is still here (the reference check). The
   * day must be written as an ISO date, so it is the same date typed. A lenient ingest reuses
   * nothing (its rejected rows would have to be carried too).
   */
  async stagedDaysToReuse(
    conn: DuckDBConnection,
    opts: {spec: TableSpec; stage: string; columns: string[]; readAs: unknown; asOf: string; lenient: boolean},
  ): Promise<string[]> {
    const days = await this.reusableDays(conn, opts);
    await keepOtherDays(conn, opts.stage, days);
    return days;
  }

  /** The staged days (fingerprinted here) whose raw rows last night's build holds (see stagedDaysToReuse). */
  private async reusableDays(
    conn: DuckDBConnection,
    opts: {spec: TableSpec; stage: string; columns: string[]; readAs: unknown; asOf: string; lenient: boolean},
  ): Promise<string[]> {
    const {spec, stage} = opts;
    const step = `ingest:${spec.name}`;
    await run(
      conn,
      'CREATE TABLE IF NOT EXISTS ingest.staged_days (table_name VARCHAR, day VARCHAR, "rows" BIGINT, fingerprint HUGEINT)',
    );
    await run(conn, `DELETE FROM ingest.staged_days WHERE table_name = ${lit(spec.name)}`);
    // grouped by the day as staged, then by its text: grouping 147M rows by text took 5.3 s, by a
    // DATE 1.9 s (a few hundred groups are then made text)
    await run(
      conn,
      `INSERT INTO ingest.staged_days SELECT ${lit(spec.name)}, CAST(d AS VARCHAR) AS day, sum(n), sum(h)
       FROM (SELECT ${ident(DAILY_RAW.day)} AS d, count(*) AS n, sum(hash(${opts.columns.map(ident).join(", ")})::HUGEINT) AS h
             FROM ${stage} GROUP BY d)
       GROUP BY day`,
    );
    const key = createHash("sha256")
      .update(INGEST_CODE.join("\n"))
      .update(JSON.stringify(opts.readAs))
      .update((await one<{v: string}>(conn, "SELECT version() AS v")).v)
      .digest("hex");
    await this.remember(conn, step, key);
    if (!this.hasPrevious || opts.lenient) return [];
    const previous = await this.previousKey(conn, step);
    if (previous !== key) {
      if (previous !== null)
        this.log(
          `${spec.name}: the ingest's code or how its columns are read changed since the previous build: every day is read`,
        );
      return [];
    }
    if (!(await tableExists(conn, null, keptName(KEPT.raw)))) return [];
    for (const t of ["ingest.staged_days", "ingest.problems", "marts.build_info"])
      if (!(await tableExists(conn, PREVIOUS, t))) return [];
    const p = await one<{problems: number; as_of: string}>(
      conn,
      `SELECT (SELECT count(*) FROM ${PREVIOUS}.ingest.problems WHERE table_name = ${lit(spec.name)})::INTEGER AS problems,
              (SELECT strftime(max(as_of), '%Y-%m-%d') FROM ${PREVIOUS}.marts.build_info) AS as_of`,
    );
    if (p.problems > 0 || !p.as_of || p.as_of > opts.asOf) return [];
    for (const c of spec.columns) {
      if (!c.references) continue;
      const {table, column} = c.references;
      const gone = await one<{n: number}>(
        conn,
        `SELECT count(*)::INTEGER AS n FROM ${PREVIOUS}.raw.${table} p ANTI JOIN raw.${table} t ON p.${ident(column)} = t.${ident(column)}`,
      );
      if (gone.n > 0) {
        this.log(
          `${spec.name}: ${gone.n} ${table} of the previous build are gone: every day is read and checked again`,
        );
        return [];
      }
    }
    await run(
      conn,
      `CREATE OR REPLACE TEMP TABLE reused_days AS
       SELECT n.day FROM ingest.staged_days n JOIN ${PREVIOUS}.ingest.staged_days p USING (table_name, day)
       WHERE n.table_name = ${lit(spec.name)} AND n."rows" = p."rows" AND n.fingerprint = p.fingerprint
         AND regexp_full_match(n.day, '\\d{4}-\\d{2}-\\d{2}')`,
    );
    return (await all<{day: string}>(conn, "SELECT day FROM reused_days ORDER BY day")).map((r) => r.day);
  }

  /**
   * Makes last night's raw rows of the reused days (stagedDaysToReuse) and tonight's rows of the
   * other days one table: last night's table, its other days deleted, tonight's rows added.
   */
  async appendReusedDays(conn: DuckDBConnection, spec: TableSpec, days: string[]): Promise<void> {
    if (!days.length) return;
    const kept = keptName(KEPT.raw);
    const day = DAILY_RAW.day;
    await run(
      conn,
      `DELETE FROM ${kept} WHERE ${day} IS NULL OR ${day} NOT IN (SELECT CAST(day AS DATE) FROM reused_days);
       INSERT INTO ${kept} FROM raw.${spec.name};
       DROP TABLE raw.${spec.name};
       ALTER TABLE ${kept} RENAME TO ${spec.name};
       DROP TABLE reused_days`,
    );
    this.log(`${days.length} day(s) of ${spec.name} reused from the previous build, ${days[0]} to ${days.at(-1)}`);
  }

  async before(conn: DuckDBConnection, step: string): Promise<void> {
    if (step !== "int_usage_daily") return;
    this.usageKey = await usageRecipe(conn);
    this.usageFrom = null;
    const previous = await this.previousKey(conn, step);
    if (previous === null) {
      if (this.hasPrevious)
        this.log("usage: the previous warehouse has no reusable daily usage: every day is aggregated");
    } else if (previous !== this.usageKey) {
      this.log("usage: its SQL, vocabulary or engine changed since the previous build: every day is aggregated again");
    } else if (
      (await tableExists(conn, PREVIOUS, "marts.int_usage_days")) &&
      (await tableExists(conn, null, keptName(KEPT.daily)))
    ) {
      // the first day whose rows differ from last night's (new, changed or gone); every day from
      // it on is aggregated again, every day before it is last night's
      const r = await one<{from_day: string | null; last_day: string | null}>(
        conn,
        `SELECT strftime(min(coalesce(n.event_date, p.event_date)) FILTER (
                   WHERE n.fingerprint IS DISTINCT FROM p.fingerprint OR n."rows" IS DISTINCT FROM p."rows"), '%Y-%m-%d') AS from_day,
                strftime(max(n.event_date) + 1, '%Y-%m-%d') AS last_day
         FROM marts.int_usage_days n
         FULL JOIN ${PREVIOUS}.marts.int_usage_days p ON n.event_date IS NOT DISTINCT FROM p.event_date`,
      );
      // nothing changed: every day is reused (from the day after the last one)
      this.usageFrom = r.from_day ?? r.last_day;
      // a day without a date cannot be ordered before or after usage_from: all is aggregated
      const undated = await one<{n: number}>(
        conn,
        `SELECT (SELECT count(*) FROM marts.int_usage_days WHERE event_date IS NULL)::INTEGER
              + (SELECT count(*) FROM ${PREVIOUS}.marts.int_usage_days WHERE event_date IS NULL)::INTEGER AS n`,
      );
      if (undated.n > 0) this.usageFrom = null;
    }
    await run(
      conn,
      `SET VARIABLE usage_from = ${this.usageFrom === null ? "NULL::DATE" : `DATE ${lit(this.usageFrom)}`}`,
    );
  }

  async after(conn: DuckDBConnection, step: string): Promise<string | null> {
    if (step !== "int_usage_daily") return null;
    let note: string | null = null;
    if (this.usageFrom !== null) {
      // last night's rows of the days before usage_from, and tonight's of the others
      const kept = keptName(KEPT.daily);
      const days = await one<{n: number}>(
        conn,
        `SELECT count(DISTINCT event_date)::INTEGER AS n FROM ${kept} WHERE event_date < CAST(getvariable('usage_from') AS DATE)`,
      );
      await run(
        conn,
        `DELETE FROM ${kept} WHERE event_date IS NULL OR event_date >= CAST(getvariable('usage_from') AS DATE);
         INSERT INTO ${kept} FROM ${KEPT.daily};
         DROP TABLE ${KEPT.daily};
         ALTER TABLE ${kept} RENAME TO ${bare(KEPT.daily)}`,
      );
      if (days.n > 0) note = `${days.n} day(s) before ${this.usageFrom} reused from the previous build`;
    }
    await run(conn, "SET VARIABLE usage_from = NULL::DATE");
    await this.remember(conn, step, this.usageKey!);
    return note;
  }

  /**
   * What of last night's scores at past cutoffs (`CUTOFF_SCORES`, written by loaders/score.ts)
   * tonight may reuse: the rows, at the cutoffs before `usageFrom`, of the accounts outside the
   * temp table `changed_accounts` that this method leaves. Null when nothing may be reused.
   *
   * An account's score at a past cutoff is a function of its own rows (features are per account,
   * point in time), of the usage aggregate up to the cutoff, and of `key` — the recipe: the
   * feature SQL, the model, the rules, the score weights (which depend on the whole portfolio),
   * the engine. So last night's row stands for tonight's when the key is the same, the cutoff
   * comes before the first day whose usage changed (`int_usage_daily`'s own evidence, kept from
   * `before`), and the account's fingerprint (`writeAccountFingerprints`) is last night's. A
   * ticket resolved or an ARR change since last night changes the fingerprint, and the account is
   * scored again at every cutoff: a past cutoff's ARR is today's rolled back, and the rest is
   * cheaper to recompute than to prove unchanged per cutoff.
   */
  async pastCutoffScores(conn: DuckDBConnection, key: string): Promise<{previous: string; usageFrom: string} | null> {
    const step = "cutoff_scores";
    const previous = await this.previousKey(conn, step);
    await this.remember(conn, step, key);
    if (!this.hasPrevious) return null;
    const why = (m: string) => {
      this.log(`past cutoffs: ${m}: every account is scored again at every cutoff`);
      return null;
    };
    if (previous === null) return why("the previous warehouse kept no scores of past cutoffs");
    if (previous !== key)
      return why("the model, the feature SQL, the rules or the engine changed since the previous build");
    if (this.usageFrom === null) return why("the daily usage aggregate was not reused");
    for (const t of [CUTOFF_SCORES, ACCOUNT_FINGERPRINTS])
      if (!(await tableExists(conn, PREVIOUS, t))) return why(`the previous warehouse has no ${t}`);
    await run(
      conn,
      `CREATE OR REPLACE TEMP TABLE changed_accounts AS
       SELECT customer_id FROM (FROM ${ACCOUNT_FINGERPRINTS} EXCEPT FROM ${PREVIOUS}.${ACCOUNT_FINGERPRINTS})`,
    );
    return {previous: `${PREVIOUS}.${CUTOFF_SCORES}`, usageFrom: this.usageFrom};
  }

  /** Stores a step's key with the warehouse being built, for the next night. */
  private async remember(conn: DuckDBConnection, step: string, key: string): Promise<void> {
    await run(
      conn,
      "CREATE SCHEMA IF NOT EXISTS marts; CREATE TABLE IF NOT EXISTS marts.build_memo (step VARCHAR PRIMARY KEY, key VARCHAR NOT NULL)",
    );
    await run(conn, `INSERT OR REPLACE INTO marts.build_memo VALUES (${lit(step)}, ${lit(key)})`);
  }
}
