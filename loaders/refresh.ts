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
 * Reused now: the daily usage aggregate (marts.int_usage_daily), the largest step of the features
 * (~55 s of a 200 s build at 100,000 customers). `npm run build -- --full-refresh` reuses nothing.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {createHash} from "node:crypto";
import {existsSync} from "node:fs";
import {lit, one, run, tableExists} from "./duckdb.ts";
import {martSql} from "./marts.ts";

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

/**
 * Reuse of the previous warehouse for one build. `open` attaches it (read only) when it exists
 * and `fullRefresh` is not set; `close` detaches it. Without a previous warehouse every step runs
 * whole, and the memo is still written, so the next night can refresh.
 */
export class Refresh implements StepReuse {
  private usageFrom: string | null = null;
  private usageKey: string | null = null;
  /** what this build reused, for the build's log and the bench */
  readonly reused: string[] = [];

  private constructor(
    private readonly attached: boolean,
    private readonly log: (m: string) => void,
  ) {}

  static async open(
    conn: DuckDBConnection,
    opts: {
      previousWarehouse: string | null;
      fullRefresh?: boolean;
      log?: (m: string) => void;
    },
  ): Promise<Refresh> {
    const log = opts.log ?? (() => {});
    const previous = opts.previousWarehouse;
    if (opts.fullRefresh || !previous || !existsSync(previous)) return new Refresh(false, log);
    try {
      await run(conn, `ATTACH ${lit(previous)} AS ${PREVIOUS} (READ_ONLY)`);
    } catch (e) {
      // the CTA carry-over reads it later and says what to do; here it only costs time
      log(`the previous warehouse cannot be read (${(e as Error).message}): everything is computed whole`);
      return new Refresh(false, log);
    }
    return new Refresh(true, log);
  }

  async close(conn: DuckDBConnection): Promise<void> {
    if (this.attached) await run(conn, `DETACH ${PREVIOUS}`);
  }

  /** The previous build's key for a step, or null (no previous build, or one without the memo). */
  private async previousKey(conn: DuckDBConnection, step: string): Promise<string | null> {
    if (!this.attached || !(await tableExists(conn, PREVIOUS, "marts.build_memo"))) return null;
    const r = await one<{key: string | null}>(
      conn,
      `SELECT max(key) AS key FROM ${PREVIOUS}.marts.build_memo WHERE step = $1`,
      [step],
    );
    return r.key;
  }

  async before(conn: DuckDBConnection, step: string): Promise<void> {
    if (step !== "int_usage_daily") return;
    this.usageKey = await usageRecipe(conn);
    this.usageFrom = null;
    const previous = await this.previousKey(conn, step);
    if (previous === null) {
      if (this.attached) this.log("usage: the previous warehouse has no reusable daily usage: every day is aggregated");
    } else if (previous !== this.usageKey) {
      this.log("usage: its SQL, vocabulary or engine changed since the previous build: every day is aggregated again");
    } else if (
      (await tableExists(conn, PREVIOUS, "marts.int_usage_days")) &&
      (await tableExists(conn, PREVIOUS, "marts.int_usage_daily"))
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
      const kept = await one<{days: number; rows: number}>(
        conn,
        `SELECT count(DISTINCT event_date)::INTEGER AS days, count(*)::INTEGER AS "rows"
         FROM ${PREVIOUS}.marts.int_usage_daily WHERE event_date < CAST(getvariable('usage_from') AS DATE)`,
      );
      await run(
        conn,
        `INSERT INTO marts.int_usage_daily FROM ${PREVIOUS}.marts.int_usage_daily WHERE event_date < CAST(getvariable('usage_from') AS DATE)`,
      );
      if (kept.days > 0)
        note = `${kept.days} day(s) before ${this.usageFrom} reused from the previous build (${kept.rows.toLocaleString("en-US")} rows)`;
      if (note) this.reused.push(`int_usage_daily: ${note}`);
    }
    await run(conn, "SET VARIABLE usage_from = NULL::DATE");
    await this.remember(conn, step, this.usageKey!);
    return note;
  }

  /** Stores a step's key with the warehouse being built, for the next night. */
  private async remember(conn: DuckDBConnection, step: string, key: string): Promise<void> {
    await run(conn, "CREATE TABLE IF NOT EXISTS marts.build_memo (step VARCHAR PRIMARY KEY, key VARCHAR NOT NULL)");
    await run(conn, `INSERT OR REPLACE INTO marts.build_memo VALUES (${lit(step)}, ${lit(key)})`);
  }
}
