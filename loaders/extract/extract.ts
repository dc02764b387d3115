/**
 * Extraction: the source mapping's database tables copied into the new warehouse's extract.*
 * tables before ingest reads them like files (ingest.ts).
 *
 * A table with a cursor is read incrementally: the previous warehouse's copy is carried over and
 * only rows at or past (last cursor − late-arrival days) are read again, replacing their older
 * copies (by key; an event log's daily aggregates by day). The cursors live in extract.cursors
 * in the warehouse, so they advance only when the build that read them is swapped in: a failed
 * or interrupted build leaves the previous warehouse — its extracts and cursors — as it was.
 * A query, cursor or event mapping that changed since the last extraction is detected (its
 * definition's hash) and read in full; so is everything with --full-refresh.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {createHash} from "node:crypto";
import {existsSync, rmSync} from "node:fs";
import {all, ident, lit, one, run} from "../duckdb.ts";
import type {SourcePlan, TableSource} from "../sources.ts";
import {eventsPushdownSql, type EventTimeType} from "./pushdown.ts";
import {DatabaseSourceError, openPostgres, subquery, type PostgresSource, type ResultColumn} from "./postgres.ts";

export interface ExtractOptions {
  /** the warehouse in place (its extract.* and cursors are carried over); absent: read everything */
  previousWarehouse?: string | null;
  fullRefresh?: boolean;
  /** where the database URLs' variables are read (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** temp files are `<tempPrefix>.extract-<table>.csv` (removed when read) */
  tempPrefix: string;
  log?: (line: string) => void;
}

/** What one table's extraction did, as extract.cursors records it. */
export interface Extraction {
  table: string;
  database: string;
  mode: "full" | "incremental";
  /** rows copied from the database tonight */
  read: number;
  /** rows the extract holds afterwards */
  rows: number;
  cursor: string | null;
  seconds: number;
  /** the SQL that ran in the database (for an event log, the pushed-down aggregation) */
  query: string;
}

/** Database tables that could not be read: one line per root cause, each naming where. */
export class ExtractError extends Error {
  constructor(readonly problems: string[]) {
    super(`reading the database sources failed:\n  ${problems.join("\n  ")}`);
    this.name = "ExtractError";
  }
}

const PREVIOUS = "saasguard_previous_extract";

const CURSORS_SQL = `CREATE TABLE IF NOT EXISTS extract.cursors (
  table_name VARCHAR PRIMARY KEY, database_name VARCHAR, definition VARCHAR, columns VARCHAR,
  cursor_value VARCHAR, mode VARCHAR, rows_read BIGINT, rows_total BIGINT, extracted_at TIMESTAMP, seconds DOUBLE)`;

/** What the extraction of a table depends on: a change to any of it means reading it in full. */
function definitionOf(s: TableSource): string {
  const d = s.database!;
  return createHash("sha256")
    .update(
      JSON.stringify({
        database: d.name,
        query: d.query,
        cursor: d.cursor ?? null,
        events: s.events ?? null,
        zone: s.timezone ?? null,
      }),
    )
    .digest("hex");
}

const TIME_TYPES: Record<string, EventTimeType> = {
  TIMESTAMPTZ: "timestamptz",
  TIMESTAMP: "timestamp",
  DATE: "date",
  BIGINT: "epoch",
  DOUBLE: "epoch",
};

/** A DuckDB value of a cursor column as text PostgreSQL reads back as the same instant. */
function cursorTextSql(column: string, type: ResultColumn["duckdbType"]): string {
  return type === "TIMESTAMPTZ"
    ? `strftime(timezone('UTC', max(${column})), '%Y-%m-%d %H:%M:%S.%f') || '+00'`
    : type === "TIMESTAMP"
      ? `strftime(max(${column}), '%Y-%m-%d %H:%M:%S.%f')`
      : `CAST(max(${column}) AS VARCHAR)`;
}

interface Previous {
  definition: string;
  columns: ResultColumn[];
  cursor: string | null;
}

/** Extracts one table into extract.<table>; throws DatabaseSourceError naming its mapping key. */
async function extractTable(
  conn: DuckDBConnection,
  db: PostgresSource,
  table: string,
  source: TableSource,
  previous: Previous | null,
  opts: ExtractOptions,
): Promise<Extraction> {
  const t0 = performance.now();
  const d = source.database!;
  const key = source.mappingKey ?? `tables.${table}`;
  const zone = source.timezone ?? "UTC";
  const definition = definitionOf(source);
  const incremental = Boolean(d.cursor && previous && previous.definition === definition && previous.cursor !== null);
  if (d.cursor && previous && previous.definition !== definition && !opts.fullRefresh)
    opts.log?.(`${table}: the query, cursor or event mapping changed since the last extraction: read in full`);

  // the query as it runs in the database tonight: the rows past the cursor, aggregated for an event log
  let query: string;
  let since: string | null = null;
  if (source.events) {
    const at = await db.columns(`SELECT ${source.events.at} AS at FROM ${subquery(d.query)} src`, `${key}.events.at`);
    const type = TIME_TYPES[at[0]!.duckdbType];
    if (!type)
      throw new DatabaseSourceError(
        `${key}.events.at`,
        `the event time is ${at[0]!.pgType} in the database; give a timestamptz, timestamp, date or epoch number (cast it in from.query)`,
      );
    if (incremental) {
      since = (
        await one<{d: string}>(
          conn,
          `SELECT CAST(DATE ${lit(previous!.cursor!)} - INTERVAL ${d.cursor!.lateArrivalDays} DAY AS DATE)::VARCHAR AS d`,
        )
      ).d;
    }
    query = eventsPushdownSql(d.query, source.events, type, zone, since ?? undefined);
  } else if (d.cursor) {
    const result = await db.columns(d.query, `${key}.from.query`);
    const c = result.find((x) => x.name === d.cursor!.column);
    if (!c)
      throw new DatabaseSourceError(
        `${key}.from.cursor.column`,
        `the query returns no column "${d.cursor.column}" (columns: ${result.map((x) => x.name).join(", ")})`,
      );
    if (!["TIMESTAMPTZ", "TIMESTAMP", "DATE"].includes(c.duckdbType))
      throw new DatabaseSourceError(
        `${key}.from.cursor.column`,
        `"${c.name}" is ${c.pgType}; a cursor is a date, timestamp or timestamptz column that grows with every change`,
      );
    for (const k of d.cursor.key)
      if (!result.some((x) => x.name === k))
        throw new DatabaseSourceError(
          `${key}.from.cursor.key`,
          `the query returns no column "${k}" (columns: ${result.map((x) => x.name).join(", ")})`,
        );
    query = incremental
      ? `SELECT * FROM ${subquery(d.query)} q WHERE q.${ident(c.name)} >= CAST(${lit(previous!.cursor!)} AS ${c.pgType}) - INTERVAL '${d.cursor.lateArrivalDays} days'`
      : d.query;
  } else query = d.query;

  const columns = await db.columns(query, `${key}.from.query`);
  if (incremental) {
    // a column whose type changed cannot be appended to the rows read before: say which
    const before = new Map(previous!.columns.map((c) => [c.name, c]));
    const changed = columns
      .filter((c) => before.has(c.name) && before.get(c.name)!.duckdbType !== c.duckdbType)
      .map((c) => `${c.name} was ${before.get(c.name)!.pgType} and is now ${c.pgType}`);
    const added = columns.filter((c) => !before.has(c.name)).map((c) => c.name);
    const gone = previous!.columns.filter((c) => !columns.some((x) => x.name === c.name)).map((c) => c.name);
    if (changed.length || added.length || gone.length)
      throw new DatabaseSourceError(
        key,
        `the query's columns changed since the last extraction (${[
          ...changed,
          ...(added.length ? [`new: ${added.join(", ")}`] : []),
          ...(gone.length ? [`gone: ${gone.join(", ")}`] : []),
        ].join(
          "; ",
        )}); the rows read before cannot be kept — fix the query, or read the table again with \`npm run build -- --full-refresh\``,
      );
  }

  const file = `${opts.tempPrefix}.extract-${table}.csv`;
  let read: number;
  try {
    read = await db.copyToFile(query, file, key);
    const types = `{${columns.map((c) => `${lit(c.name)}: ${lit(c.duckdbType)}`).join(", ")}}`;
    // PostgreSQL's CSV: NULL is an empty unquoted field, an empty string is "" (kept as '')
    await run(
      conn,
      `CREATE OR REPLACE TEMP TABLE extract_delta AS SELECT * FROM read_csv(${lit(file)}, header = false, auto_detect = false,
         columns = ${types}, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, strict_mode = true)`,
    );
  } finally {
    rmSync(file, {force: true});
  }
  const target = `extract.${ident(table)}`;
  const prior = `${PREVIOUS}.extract.${ident(table)}`;
  if (!incremental) await run(conn, `CREATE OR REPLACE TABLE ${target} AS SELECT * FROM extract_delta`);
  else if (source.events)
    // the days from `since` on (and the events without a day) were aggregated again whole: they
    // replace their older copies
    await run(
      conn,
      `CREATE OR REPLACE TABLE ${target} AS
       SELECT * FROM ${prior} WHERE event_date < DATE ${lit(since!)}
       UNION ALL SELECT * FROM extract_delta`,
    );
  else {
    // a record read again replaces its older copy (NULL keys are a problem ingest reports once)
    const keys = d.cursor!.key.map(ident);
    await run(
      conn,
      `CREATE OR REPLACE TABLE ${target} AS
       SELECT * FROM (SELECT * FROM ${prior} p ANTI JOIN extract_delta x ON ${keys.map((k) => `p.${k} IS NOT DISTINCT FROM x.${k}`).join(" AND ")})
       UNION ALL SELECT * FROM extract_delta ORDER BY ${keys.join(", ")}`,
    );
  }
  await run(conn, "DROP TABLE extract_delta");
  const rows = (await one<{n: number}>(conn, `SELECT count(*) AS n FROM ${target}`)).n;
  let cursor: string | null = null;
  if (d.cursor) {
    const sql = source.events
      ? "CAST(max(event_date) AS VARCHAR)"
      : cursorTextSql(ident(d.cursor.column), columns.find((c) => c.name === d.cursor!.column)!.duckdbType);
    cursor = (await one<{c: string | null}>(conn, `SELECT ${sql} AS c FROM ${target}`)).c;
  }
  const seconds = (performance.now() - t0) / 1000;
  await run(
    conn,
    `INSERT OR REPLACE INTO extract.cursors VALUES (${lit(table)}, ${lit(d.name)}, ${lit(definition)}, ${lit(JSON.stringify(columns))},
       ${cursor === null ? "NULL" : lit(cursor)}, ${lit(incremental ? "incremental" : "full")}, ${read}, ${rows}, now()::TIMESTAMP, ${seconds})`,
  );
  return {table, database: d.name, mode: incremental ? "incremental" : "full", read, rows, cursor, seconds, query};
}

/**
 * Extracts every database table of the plan into extract.* of `conn`'s warehouse. Throws
 * ExtractError with every problem (an unreachable database once, with the tables it holds).
 */
export async function extractDatabaseSources(
  conn: DuckDBConnection,
  plan: SourcePlan,
  opts: ExtractOptions,
): Promise<Extraction[]> {
  const tables = [...plan].filter(([, s]) => s.database);
  if (!tables.length) return [];
  await run(conn, `CREATE SCHEMA IF NOT EXISTS extract; ${CURSORS_SQL}`);
  const previous = new Map<string, Previous>();
  let attached = false;
  if (!opts.fullRefresh && opts.previousWarehouse && existsSync(opts.previousWarehouse)) {
    await run(conn, `ATTACH ${lit(opts.previousWarehouse)} AS ${PREVIOUS} (READ_ONLY)`);
    attached = true;
    const has = await one<{n: number}>(
      conn,
      `SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = '${PREVIOUS}' AND schema_name = 'extract' AND table_name = 'cursors'`,
    );
    if (has.n)
      for (const r of await all<{table_name: string; definition: string; columns: string; cursor_value: string | null}>(
        conn,
        `SELECT c.table_name, definition, columns, cursor_value FROM ${PREVIOUS}.extract.cursors c
         JOIN duckdb_tables() t ON t.database_name = '${PREVIOUS}' AND t.schema_name = 'extract' AND t.table_name = c.table_name`,
      ))
        previous.set(r.table_name, {
          definition: r.definition,
          columns: JSON.parse(r.columns) as ResultColumn[],
          cursor: r.cursor_value,
        });
  }
  const problems: string[] = [];
  const done: Extraction[] = [];
  try {
    const byDatabase = new Map<string, [string, TableSource][]>();
    for (const t of tables) byDatabase.set(t[1].database!.name, [...(byDatabase.get(t[1].database!.name) ?? []), t]);
    for (const [name, list] of byDatabase) {
      let db: PostgresSource;
      try {
        db = await openPostgres(list[0]![1].database!, opts.env);
      } catch (e) {
        if (!(e instanceof DatabaseSourceError)) throw e;
        // one root cause, however many tables the database holds
        problems.push(`${e.message} — not read: ${list.map(([t]) => t).join(", ")}`);
        continue;
      }
      try {
        for (const [table, source] of list) {
          try {
            const x = await extractTable(conn, db, table, source, previous.get(table) ?? null, opts);
            done.push(x);
            opts.log?.(
              `${table}: ${x.read.toLocaleString("en-US")} row${x.read === 1 ? "" : "s"} read from database ${name} (${x.mode}${x.cursor ? `, cursor ${x.cursor}` : ""}); the extract holds ${x.rows.toLocaleString("en-US")} (${x.seconds.toFixed(1)} s)`,
            );
          } catch (e) {
            if (!(e instanceof DatabaseSourceError)) throw e;
            problems.push(e.message);
            // a lost connection fails every table after it for the same reason: told once
            if (e.connectionLost) {
              const rest = list.slice(list.findIndex(([t]) => t === table) + 1).map(([t]) => t);
              if (rest.length) problems.push(`database ${name}: not read after that: ${rest.join(", ")}`);
              break;
            }
          }
        }
      } finally {
        await db.close();
      }
    }
  } finally {
    if (attached) await run(conn, `DETACH ${PREVIOUS}`);
  }
  if (problems.length) throw new ExtractError(problems);
  return done;
}
