/**
 * Data-quality checks the build runs on every mart (dbt-test style): unique, not null,
 * accepted values, ranges, row counts and freshness. Any failure fails the build with a
 * message naming the table, the check and an example of the offending rows.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {config} from "../src/rules/config.ts";
import {ident, lit, one} from "./duckdb.ts";
import {SCORE_TABLE_CHECKS} from "./score.ts";
import {EXPANSION_TABLE_CHECKS} from "./score-expansion.ts";
import {HORIZON_TABLE_CHECKS} from "./score-horizon.ts";
import {FORECAST_TABLE_CHECKS} from "./forecast.ts";
import {FORECAST_RECORD_CHECKS} from "./forecast-record.ts";
import {RENEWAL_CALL_CHECKS} from "./renewal-calls.ts";
import {SQL_STEPS, type Phase} from "./sql/steps.ts";

export interface MartChecks {
  table: string;
  unique?: readonly string[];
  notNull?: readonly string[];
  accepted?: Readonly<Record<string, readonly string[]>>;
  ranges?: Readonly<Record<string, readonly [number | null, number | null]>>;
  /** the table must have exactly as many rows as this SQL scalar returns */
  rowsEqual?: string;
  minRows?: number;
}

/** Every check the build runs: each SQL step's, beside its file in loaders/sql/steps.ts, and the model tables' from loaders/score.ts. */
export const MART_CHECKS: readonly MartChecks[] = [
  ...SQL_STEPS.flatMap((s) => (s.checks ? [s.checks] : [])),
  ...SCORE_TABLE_CHECKS,
  ...EXPANSION_TABLE_CHECKS,
  ...HORIZON_TABLE_CHECKS,
  ...FORECAST_TABLE_CHECKS,
  ...FORECAST_RECORD_CHECKS,
  ...RENEWAL_CALL_CHECKS,
];

/** The checks of one phase's SQL steps. */
export function checksOf(phase: Phase): MartChecks[] {
  return SQL_STEPS.filter((s) => s.phase === phase && s.checks).map((s) => s.checks!);
}

export class DataQualityError extends Error {
  constructor(readonly failures: string[]) {
    super(`data-quality checks failed (${failures.length}):\n${failures.map((f) => "  " + f).join("\n")}`);
    this.name = "DataQualityError";
  }
}

async function failing(
  conn: DuckDBConnection,
  table: string,
  where: string,
  show: string,
): Promise<{n: number; example: string | null}> {
  const r = await one<{n: number; example: string | null}>(
    conn,
    `SELECT count(*) AS n, CAST(any_value(${show}) AS VARCHAR) AS example FROM ${table} WHERE ${where}`,
  );
  return r;
}

/** Runs every check; throws DataQualityError listing all failures. Returns how many checks ran. */
export async function runQualityChecks(
  conn: DuckDBConnection,
  asOf: string,
  checks: readonly MartChecks[] = MART_CHECKS,
): Promise<number> {
  const failures: string[] = [];
  let ran = 0;
  await conn.run(`SET VARIABLE as_of = DATE ${lit(asOf)}`);
  for (const c of checks) {
    for (const col of c.notNull ?? []) {
      ran++;
      const r = await failing(conn, c.table, `${ident(col)} IS NULL`, c.unique?.[0] ? ident(c.unique[0]) : "1");
      if (r.n) failures.push(`${c.table}.${col}: not_null failed on ${r.n} row(s), e.g. ${r.example}`);
    }
    if (c.unique) {
      ran++;
      const keys = c.unique.map(ident).join(", ");
      const r = await one<{n: number; example: string | null}>(
        conn,
        `SELECT count(*) AS n, CAST(any_value(k) AS VARCHAR) AS example FROM (SELECT concat_ws('|', ${keys}) AS k FROM ${c.table} GROUP BY ALL HAVING count(*) > 1)`,
      );
      if (r.n) failures.push(`${c.table}(${c.unique.join(", ")}): unique failed for ${r.n} key(s), e.g. ${r.example}`);
    }
    for (const [col, values] of Object.entries(c.accepted ?? {})) {
      ran++;
      const r = await failing(conn, c.table, `${ident(col)} NOT IN (${values.map(lit).join(", ")})`, ident(col));
      if (r.n) failures.push(`${c.table}.${col}: accepted_values failed on ${r.n} row(s), e.g. ${r.example}`);
    }
    for (const [col, [lo, hi]] of Object.entries(c.ranges ?? {})) {
      ran++;
      const conds = [lo !== null ? `${ident(col)} < ${lo}` : null, hi !== null ? `${ident(col)} > ${hi}` : null]
        .filter(Boolean)
        .join(" OR ");
      const r = await failing(conn, c.table, conds, ident(col));
      if (r.n)
        failures.push(
          `${c.table}.${col}: range [${lo ?? "-∞"}, ${hi ?? "∞"}] failed on ${r.n} row(s), e.g. ${r.example}`,
        );
    }
    if (c.rowsEqual || c.minRows !== undefined) {
      ran++;
      const r = await one<{n: number; expected: number | null}>(
        conn,
        `SELECT (SELECT count(*) FROM ${c.table}) AS n, ${c.rowsEqual ?? "NULL"} AS expected`,
      );
      if (c.rowsEqual && r.n !== r.expected) failures.push(`${c.table}: row count ${r.n}, expected ${r.expected}`);
      if (c.minRows !== undefined && r.n < c.minRows)
        failures.push(`${c.table}: row count ${r.n}, expected at least ${c.minRows}`);
    }
  }
  // Freshness: the newest usage event may be at most maxStalenessDays older than the as-of date.
  ran++;
  const fresh = await one<{latest: string | null}>(
    conn,
    "SELECT CAST(max(event_date) AS VARCHAR) AS latest FROM raw.usage_events",
  );
  const limit = config.dataQuality.maxStalenessDays;
  const stale = fresh.latest === null ? Infinity : (Date.parse(asOf) - Date.parse(fresh.latest)) / 86_400_000;
  if (stale > limit)
    failures.push(
      `raw.usage_events: freshness failed — newest event ${fresh.latest ?? "(none)"} is ${stale} day(s) before the as-of date ${asOf} (limit ${limit}); pass --as-of to build an older snapshot`,
    );
  if (failures.length) throw new DataQualityError(failures);
  return ran;
}
