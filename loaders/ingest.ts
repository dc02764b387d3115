/**
 * Validated ingest of raw tables.
 *
 * Two sources share one set of rules (loaders/contract.ts):
 *  - a team's files — data/raw/<table>.csv|.parquet, or wherever a source mapping says, under
 *    its own column names and values (sources.ts) — read as text (csv-file.ts decides each CSV's
 *    encoding and dialect), typed the way spreadsheets write values (coerce.ts), then
 *    value-checked; every problem names file, row, column, value and rule, and the report leads
 *    with root causes (ingest-report.ts);
 *  - tables the synthetic generator wrote straight into raw.*: value-checked the same way, so a
 *    generator bug fails the build like bad user data would.
 *
 * Strict (default): any problem fails the build with the full report. Lenient: rows with
 * problems are quarantined into ingest.rejected_rows and the build goes on.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {join, relative} from "node:path";
import {config} from "../src/rules/config.ts";
import {CONTRACT, createTableSql, type ColumnSpec, type TableSpec} from "./contract.ts";
import {
  coerceSql,
  columnStyles,
  DEFAULT_STYLE,
  spelledMissingCountSql,
  presentSql,
  settleDateOrder,
  type ColumnStyle,
} from "./coerce.ts";
import {CsvFileError, inspectCsvFile, type CsvFile} from "./csv-file.ts";
import {all, appendRows, hasColumn, ident, lit, one, run} from "./duckdb.ts";
import {DAILY_RAW, type Refresh} from "./refresh.ts";
import {writeVocabulary} from "./marts.ts";
import {UNKNOWN_MEANS, type Vocabulary} from "../src/rules/vocabulary.ts";
import {
  findRawFiles,
  folderPlan,
  sourceLabel,
  type AccountMatch,
  type EventLog,
  type LookupSource,
  type SourcePlan,
  type TableSource,
} from "./sources.ts";

export {findRawFiles} from "./sources.ts";
import {ensureProblemTables, groupProblems, IngestError, problemCount} from "./ingest-report.ts";

export {IngestError} from "./ingest-report.ts";

/** Staged column types that already are a contract type (DuckDB's names from DESCRIBE). */
const NATIVE: Record<ColumnSpec["type"], readonly string[]> = {
  VARCHAR: [],
  DATE: ["DATE"],
  TIMESTAMP: ["TIMESTAMP"],
  DOUBLE: ["DOUBLE", "FLOAT"],
  INTEGER: ["INTEGER", "BIGINT", "SMALLINT"],
  BOOLEAN: ["BOOLEAN"],
};

/** Tables a user must provide; the others are created empty when absent. */
export const REQUIRED_TABLES = ["customers", "usage_events", "support_tickets", "gtm_opportunities"];

/** How value checks treat references (foreign keys) to another table. */
interface ReferenceScope {
  /** the accepted rows of the referenced tables live in this schema */
  schema: string;
  /** tables that failed to load as a whole: references to them are not checked (one cascade note instead) */
  failed?: ReadonlySet<string>;
  /** table -> relation holding every row of its file, rejected ones included: a reference to one of
   * those is a cascade ("refers to a rejected row"), not an unknown id */
  everyRow?: ReadonlyMap<string, string>;
}

/** SQL selecting value-level problems of a typed relation with a __row column. */
function valueChecksSql(
  spec: TableSpec,
  rel: string,
  file: string,
  asOf: string,
  refs: ReferenceScope,
  checkRequired: boolean,
): string {
  const parts: string[] = [];
  // Row-level rules are evaluated in ONE scan of the relation (a 100M-row usage table is read
  // once, not once per rule): the WHERE keeps rows breaking any rule, and only for those a list
  // of {column, value, rule} is built and unnested into one problem row each.
  const rowRules: {col: string; rule: string; bad: string}[] = [];
  for (const c of spec.columns) {
    const q = ident(c.name);
    if (checkRequired && c.required) rowRules.push({col: c.name, rule: "required value is empty", bad: `${q} IS NULL`});
    if (c.min !== undefined) rowRules.push({col: c.name, rule: `must be ≥ ${c.min}`, bad: `${q} < ${c.min}`});
    if (c.max !== undefined) rowRules.push({col: c.name, rule: `must be ≤ ${c.max}`, bad: `${q} > ${c.max}`});
    if (c.notFarFuture)
      rowRules.push({
        col: c.name,
        rule: `date more than ${config.dataQuality.maxFutureDays} days after the as-of date ${asOf}`,
        bad: `CAST(${q} AS DATE) > DATE ${lit(asOf)} + INTERVAL ${config.dataQuality.maxFutureDays} DAY`,
      });
    if (c.references) {
      const {table, column} = c.references;
      if (refs.failed?.has(table)) {
        parts.push(
          `SELECT ${lit(spec.name)}, ${lit(file)}, NULL, ${lit(c.name)}, NULL, ${lit(`not checked against ${table}, which could not be loaded (see above)`)}, 'cascade' FROM (SELECT 1) WHERE EXISTS (SELECT 1 FROM ${rel})`,
        );
        continue;
      }
      const unknown = lit(`unknown ${column} (not in ${table})`);
      const every = refs.everyRow?.get(table);
      const [rule, kind] = every
        ? [
            `CASE WHEN r.${q} IN (SELECT ${ident(column)} FROM ${every}) THEN ${lit(`refers to a rejected row of ${table}`)} ELSE ${unknown} END`,
            `CASE WHEN r.${q} IN (SELECT ${ident(column)} FROM ${every}) THEN 'cascade' ELSE 'row' END`,
          ]
        : [unknown, "'row'"];
      parts.push(
        `SELECT ${lit(spec.name)}, ${lit(file)}, r.__row, ${lit(c.name)}, CAST(r.${q} AS VARCHAR), ${rule}, ${kind} FROM ${rel} r ANTI JOIN ${refs.schema}.${table} p ON r.${q} = p.${ident(column)} WHERE r.${q} IS NOT NULL`,
      );
    }
  }
  for (const r of spec.rowRules ?? [])
    rowRules.push({col: r.column, rule: `violates ${r.rule}`, bad: `NOT coalesce((${r.sql}), true)`});
  if (rowRules.length) {
    const cases = rowRules.map(
      (r) =>
        `CASE WHEN ${r.bad} THEN {'c': ${lit(r.col)}, 'v': CAST(${ident(r.col)} AS VARCHAR), 'r': ${lit(r.rule)}} END`,
    );
    parts.push(
      `SELECT ${lit(spec.name)} AS table_name, ${lit(file)} AS file, __row AS row_number, p.c AS column_name, p.v AS value, p.r AS rule, 'row' AS kind
       FROM (SELECT __row, unnest(list_filter([${cases.join(", ")}], x -> x IS NOT NULL)) AS p FROM ${rel} WHERE ${rowRules.map((r) => `(${r.bad})`).join(" OR ")})`,
    );
  }
  const keyCols = spec.key.map(ident);
  const keyVal =
    spec.key.length === 1
      ? `CAST(r.${keyCols[0]} AS VARCHAR)`
      : `concat_ws(' | ', ${keyCols.map((k) => `r.${k}`).join(", ")})`;
  // Duplicates are first looked for by one 64-bit hash of the key: sorted, a repeated hash is
  // equal to its predecessor. On 150M usage rows that is ~3x faster than grouping the hashes
  // (a hash table that size outgrows the memory cap and spills). Candidates are then confirmed
  // on the real columns.
  const hashed = `hash(${keyCols.join(", ")})`;
  parts.push(
    `SELECT ${lit(spec.name)}, ${lit(file)}, r.__row, ${lit(spec.key.join(", "))}, ${keyVal}, 'duplicate key (${spec.key.join(", ")} must be unique)', 'row' FROM ${rel} r SEMI JOIN (
       SELECT ${keyCols.join(", ")} FROM ${rel} WHERE ${hashed} IN (SELECT h FROM (SELECT h, lag(h) OVER (ORDER BY h) AS prev FROM (SELECT ${hashed} AS h FROM ${rel})) WHERE h = prev)
       GROUP BY ALL HAVING count(*) > 1) d ON ${keyCols.map((k) => `r.${k} = d.${k}`).join(" AND ")}`,
  );
  return parts.join("\nUNION ALL\n");
}

export interface IngestReport {
  source: "files" | "synthetic";
  tables: Record<string, {rows: number; rejected: number}>;
  problems: number;
}

export interface IngestOptions {
  asOf: string;
  lenient?: boolean;
  progress?: (msg: string) => void;
  /** where to write the full problem list as CSV when there are problems */
  reportPath?: string;
  /** the nightly refresh: days of usage unchanged since the previous build are not read again */
  refresh?: Refresh;
}

/** The longest CSV line read (DuckDB's default); a longer one is a malformed line, reported at its line. */
const MAX_LINE_BYTES = 2_000_000;

/** What a line the CSV reader rejected means, by DuckDB's error type. */
function malformedLineRule(errorType: string, message: string, fields: number): string {
  switch (errorType) {
    case "TOO MANY COLUMNS":
      return `malformed CSV line: more fields than the header's ${fields}`;
    case "MISSING COLUMNS":
      return `malformed CSV line: fewer fields than the header's ${fields}`;
    case "UNQUOTED VALUE":
      return 'malformed CSV line: a quoted value starts here and is never closed (a stray " ?); the lines after it cannot be split reliably';
    case "LINE SIZE OVER MAXIMUM":
      return `malformed CSV line: longer than ${MAX_LINE_BYTES / 1e6} MB`;
    case "INVALID UNICODE":
      return "malformed CSV line: not valid UTF-8";
    default:
      return `malformed CSV line: ${message.split("\n")[0]}`;
  }
}

/** Whether a staged table carries a bookkeeping column (a glob's __line, a where's __src_row). */
/** The line of a staged CSV row: its row + header line + 1, plus the rejected lines before it. */
function csvLineSql(rowid: string, rejected: readonly number[]): string {
  if (!rejected.length) return `${rowid} + 2`;
  const list = `[${rejected.join(", ")}]`;
  return `(${rowid} + 2 + (SELECT count(*) FROM (SELECT unnest(${list}) AS l, generate_subscripts(${list}, 1) AS j) WHERE l - j - 1 <= ${rowid}))`;
}

/** Rows per file in a CSV glob's numbering: row (i + 1) · GLOB_FILE_ROWS + line is line `line` of file i. */
const GLOB_FILE_ROWS = 1_000_000_000_000;

/**
 * Stages a glob of CSV files (a daily export's folder) as one table: each file read as
 * stageCsv reads one — its own header, delimiter and malformed lines, reported at its own line —
 * and every file must have the first one's columns. Each row's `__line` numbers it by file and
 * line (GLOB_FILE_ROWS), which ingest turns back into the file and line of each problem.
 * Returns null when a file cannot be used (its problem is recorded).
 */
async function stageCsvGlob(
  conn: DuckDBConnection,
  table: string,
  pattern: string,
  stage: string,
): Promise<{files: string[]; csv: CsvFile} | null> {
  const files = (await all<{file: string}>(conn, `SELECT file FROM glob(${lit(pattern)}) ORDER BY file`)).map(
    (f) => f.file,
  );
  if (!files.length) throw new CsvFileError(`matches no file`);
  let first: CsvFile | null = null;
  for (const [i, file] of files.entries()) {
    const label = relative(process.cwd(), file) || file;
    const part = `${stage}_part`;
    const staged = await stageCsv(conn, table, file, label, part);
    if (staged.fatal) return null;
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((c) => b.includes(c));
    if (first && !same(first.columns, staged.csv.columns))
      throw new CsvFileError(
        `${label} has the columns ${staged.csv.columns.join(", ")}, not those of ${relative(process.cwd(), files[0]!) || files[0]} (${first.columns.join(", ")})`,
      );
    first ??= staged.csv;
    const line = csvLineSql("rowid", staged.rejectedLines);
    await run(
      conn,
      `${i === 0 ? `CREATE OR REPLACE TABLE ${stage} AS` : `INSERT INTO ${stage} BY NAME`} SELECT *, ${(i + 1) * GLOB_FILE_ROWS} + ${line} AS __line FROM ${part}`,
    );
    await run(conn, `DROP TABLE ${part}`);
  }
  return {files, csv: first!};
}

/**
 * Stages a CSV file as text: one VARCHAR column per header name, read with the dialect decided
 * for the whole file. Lines the reader cannot split become problems at their own line; returns
 * the lines rejected that way (they are missing from the staged rows) and whether one of them
 * makes the rest of the file unreliable.
 */
async function stageCsv(
  conn: DuckDBConnection,
  table: string,
  path: string,
  label: string,
  stage: string,
): Promise<{rejectedLines: number[]; fatal: boolean; csv: CsvFile}> {
  const csv = inspectCsvFile(path);
  const columns = `{${csv.columns.map((c) => `${lit(c)}: 'VARCHAR'`).join(", ")}}`;
  const rejects = `csv_rejects_${table}`;
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${stage} AS SELECT * FROM read_csv(${lit(path)}, header = true, auto_detect = false, columns = ${columns},
       delim = ${lit(csv.delimiter)}, quote = '"', escape = '"', strict_mode = true, max_line_size = ${MAX_LINE_BYTES},
       store_rejects = true, rejects_table = '${rejects}', rejects_scan = 'csv_scans_${table}')`,
  );
  // One problem per rejected line (the reader may record several errors for one line); an
  // unterminated quote is the one to tell, since it explains the others.
  const bad = await all<{line: number; error_type: string; csv_line: string; error_message: string}>(
    conn,
    `SELECT DISTINCT ON (line) line, error_type::VARCHAR AS error_type, left(split_part(csv_line, chr(10), 1), 200) AS csv_line, error_message
     FROM ${rejects} ORDER BY line, error_type::VARCHAR = 'UNQUOTED VALUE' DESC`,
  );
  await run(conn, `DROP TABLE ${rejects}; DROP TABLE csv_scans_${table}`);
  const unterminated = bad.some((b) => b.error_type === "UNQUOTED VALUE");
  await appendRows(
    conn,
    "ingest.problems",
    bad.map((b) => [
      table,
      label,
      b.line,
      null,
      b.csv_line,
      malformedLineRule(b.error_type, b.error_message, csv.columns.length),
      b.error_type === "UNQUOTED VALUE" ? "file" : "row",
    ]),
  );
  return {rejectedLines: bad.map((b) => b.line), fatal: unterminated, csv};
}

/**
 * Says how a file's values were read where that was a decision: cells spelled as missing ("N/A",
 * "-") in columns that may be empty, decimal commas, day-first dates, and date columns whose
 * order could not be told (every date reads both ways; month-first was used).
 */
async function noteReadings(
  conn: DuckDBConnection,
  spec: TableSpec,
  stage: string,
  label: string,
  present: ReadonlySet<string>,
  styles: Record<string, ColumnStyle>,
  settled: Record<string, string>,
  raw: (c: ColumnSpec) => string,
  progress: ((msg: string) => void) | undefined,
): Promise<void> {
  if (!progress) return;
  const cols = spec.columns.filter((c) => present.has(c.name));
  const [counts] = await all<Record<string, number>>(
    conn,
    `SELECT ${cols.map((c, i) => `${spelledMissingCountSql(raw(c))} AS m${i}`).join(", ")} FROM ${stage}`,
  );
  const notes: string[] = [];
  cols.forEach((c, i) => {
    const n = counts![`m${i}`] ?? 0;
    if (n && !c.required) notes.push(`${c.name}: ${n.toLocaleString("en-US")} cell(s) like "N/A" read as missing`);
    const st = styles[c.name];
    if (st?.decimalComma) notes.push(`${c.name}: decimal commas (1.234,50)`);
    if (st?.dayFirst) notes.push(`${c.name}: dates day-first (27/07/2023)`);
    if (settled[c.name]) notes.push(`${c.name}: every date reads both ways; ${settled[c.name]}`);
  });
  if (notes.length) progress(`ingest ${spec.name}: ${label}: ${notes.join("; ")}`);
}

/** Referenced column of each table that others refer to (customers.customer_id). */
const REFERENCED = new Map(
  CONTRACT.flatMap((t) => t.columns.flatMap((c) => (c.references ? [[c.references.table, c.references.column]] : []))),
);

/**
 * Every key value a referenced table's file holds, rejected rows included, so that a reference to
 * a rejected row is told as a consequence of that row rather than as an unknown id. A line the CSV
 * reader could not split contributes the field at the key's position, as far as it can be read.
 */
async function everyKey(
  conn: DuckDBConnection,
  spec: TableSpec,
  typed: string,
  labels: readonly string[],
  csv: CsvFile | null,
): Promise<string> {
  const column = REFERENCED.get(spec.name)!;
  const keys = `stage.${spec.name}_every_key`;
  const pos = csv ? csv.columns.indexOf(column) + 1 : 0;
  const fromMalformed = pos
    ? ` UNION ALL SELECT trim(split_part(value, ${lit(csv!.delimiter)}, ${pos})) FROM ingest.problems WHERE table_name = ${lit(spec.name)} AND file IN (${labels.map(lit).join(", ")}) AND starts_with(rule, 'malformed CSV line')`
    : "";
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${keys} AS SELECT CAST(${ident(column)} AS VARCHAR) AS ${ident(column)} FROM ${typed}${fromMalformed}`,
  );
  return keys;
}

/**
 * Applies a mapping's column and value maps to a staged source: a table `mapped` holding each
 * contract column the mapping or the file provides, as the file's row order. Returns the columns
 * present, or a problem naming the mapping key.
 */
async function applyMapping(
  conn: DuckDBConnection,
  spec: TableSpec,
  source: TableSource,
  staged: string,
  mapped: string,
  sourceColumns: ReadonlySet<string>,
  progress?: (msg: string) => void,
  /** a VIEW maps rows as they are read (no `where`, no account matching) */
  kind: "TABLE" | "VIEW" = "TABLE",
): Promise<{present: Set<string>} | {problem: string}> {
  const exprs: [string, string][] = [];
  const account = source.account;
  // the SQL of one mapped expression must run on the file, or the mapping key is named
  const runs = async (sql: string, key: string): Promise<string | null> => {
    const renamed = /^"((?:[^"]|"")*)"$/.exec(sql)?.[1]?.replace(/""/g, '"');
    if (renamed !== undefined && !sourceColumns.has(renamed))
      return `${key} names column "${renamed}", which the file does not have (columns: ${[...sourceColumns].join(", ")})`;
    try {
      await run(conn, `SELECT ${sql} FROM ${staged} src LIMIT 0`);
      return null;
    } catch (e) {
      return `${key}: the SQL does not run on this file: ${(e as Error).message.split("\n")[0]}`;
    }
  };
  if (account)
    for (const [k, sql] of [
      ["id", account.id],
      ["key", account.key],
      ["emailDomain", account.emailDomain],
    ] as const) {
      const problem = sql ? await runs(sql, `${source.mappingKey}.account.${k}`) : null;
      if (problem) return {problem};
    }
  for (const c of spec.columns) {
    if (account && c.name === "customer_id") continue; // matched below
    const m = source.columns[c.name];
    if (m === undefined) {
      if (sourceColumns.has(c.name)) exprs.push([c.name, ident(c.name)]);
      continue;
    }
    // a rename names a column of the file: say so plainly rather than with DuckDB's binder error
    const problem = await runs(m, `${source.mappingKey}.columns.${c.name}`);
    if (problem) return {problem};
    exprs.push([c.name, m]);
  }
  // a `where` keeps the rows the table holds (an export of every subscription, of which the
  // cancelled ones are churn); each kept row remembers its place in the file for problem reports
  let from = staged;
  if (source.where && !source.events) {
    const problem = await runs(source.where, `${source.mappingKey}.where`);
    if (problem) return {problem};
    from = `${staged}_kept`;
    await run(
      conn,
      `CREATE OR REPLACE TABLE ${from} AS SELECT rowid AS __src_row, * FROM ${staged} src WHERE coalesce(${source.where}, false)`,
    );
    const [c] = await all<{kept: number; total: number}>(
      conn,
      `SELECT (SELECT count(*) FROM ${from}) AS kept, (SELECT count(*) FROM ${staged}) AS total`,
    );
    progress?.(
      `ingest ${spec.name}: where ${source.where} keeps ${c!.kept.toLocaleString("en-US")} of ${c!.total.toLocaleString("en-US")} rows`,
    );
  }
  const select = exprs.map(([name, e]) => {
    const map = source.values[name];
    const text = `CAST(${e} AS VARCHAR)`;
    const valued = map
      ? `CASE ${text} ${Object.entries(map)
          .map(([from, to]) => `WHEN ${lit(from)} THEN ${lit(to)}`)
          .join(" ")} ELSE ${text} END`
      : e;
    return `${valued} AS ${ident(name)}`;
  });
  if (from !== staged || (await hasColumn(conn, staged, "__src_row"))) select.push("__src_row");
  // a CSV glob's rows carry their file and line
  if (await hasColumn(conn, staged, "__line")) select.push("__line");
  if (!account) {
    if (!select.length) return {present: new Set()};
    await run(conn, `CREATE OR REPLACE ${kind} ${mapped} AS SELECT ${select.join(", ")} FROM ${from} src`);
    if (from !== staged) await run(conn, `DROP TABLE ${from}`);
    return {present: new Set(exprs.map(([n]) => n))};
  }
  const matched = await matchAccounts(conn, source, account, from, mapped, select);
  if (from !== staged) await run(conn, `DROP TABLE ${from}`);
  if ("problem" in matched) return matched;
  progress?.(`ingest ${spec.name}: accounts matched ${matched.summary}`);
  return {present: new Set(["customer_id", ...exprs.map(([n]) => n)])};
}

/**
 * The mapped table with each record's CRM customer id found across systems (sources.ts,
 * AccountMatch): by key, by the crosswalk, by a unique e-mail domain, else `?<system>:<id>`.
 * Returns how many records each way matched.
 */
async function matchAccounts(
  conn: DuckDBConnection,
  source: TableSource,
  account: AccountMatch,
  staged: string,
  mapped: string,
  select: string[],
): Promise<{summary: string} | {problem: string}> {
  const text = (sql: string | undefined) => (sql ? `CAST(${sql} AS VARCHAR)` : "CAST(NULL AS VARCHAR)");
  let crosswalk = "(SELECT NULL::VARCHAR AS external_id, NULL::VARCHAR AS customer_id WHERE false)";
  if (account.crosswalk) {
    try {
      await run(
        conn,
        `CREATE OR REPLACE TEMP TABLE crosswalk AS SELECT trim(CAST(customer_id AS VARCHAR)) AS customer_id, lower(trim(CAST(system AS VARCHAR))) AS system, trim(CAST(external_id AS VARCHAR)) AS external_id FROM read_csv(${lit(account.crosswalk)}, header = true, all_varchar = true)`,
      );
    } catch (e) {
      return {
        problem: `crosswalk: cannot be used: ${(e as Error).message.split("\n")[0]} (columns customer_id, system, external_id are needed)`,
      };
    }
    // an external id that names two accounts names none
    crosswalk = `(SELECT external_id, any_value(customer_id) AS customer_id FROM crosswalk WHERE system = ${lit(account.system.toLowerCase())} GROUP BY external_id HAVING count(DISTINCT customer_id) = 1)`;
  }
  const how = `CASE WHEN k.id IS NOT NULL THEN 'key' WHEN x.customer_id IS NOT NULL THEN 'crosswalk' WHEN d.customer_id IS NOT NULL THEN 'e-mail domain' ELSE 'unmatched' END`;
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${mapped} AS
     SELECT coalesce(k.id, x.customer_id, d.customer_id, '?' || ${lit(account.system)} || ':' || coalesce(s.__ext, '')) AS customer_id,
            s.* EXCLUDE (__r, __ext, __key, __domain), ${how} AS __matched_by
     FROM (SELECT ${[...select, "rowid AS __r"].join(", ")}, trim(${text(account.id)}) AS __ext, trim(${text(account.key)}) AS __key,
                  lower(split_part(trim(${text(account.emailDomain)}), '@', -1)) AS __domain FROM ${staged} src) s
     LEFT JOIN (SELECT customer_id AS id FROM raw.customers) k ON k.id = s.__key
     LEFT JOIN ${crosswalk} x ON x.external_id = s.__ext
     LEFT JOIN (SELECT lower(split_part(primary_contact_email, '@', -1)) AS domain, any_value(customer_id) AS customer_id
                FROM raw.customers WHERE primary_contact_email LIKE '%@%' GROUP BY 1 HAVING count(*) = 1) d
            ON ${account.emailDomain ? "d.domain = s.__domain" : "false"}
     ORDER BY s.__r`,
  );
  const counts = await all<{how: string; n: number}>(
    conn,
    `SELECT __matched_by AS how, count(*) AS n FROM ${mapped} GROUP BY ALL ORDER BY n DESC`,
  );
  await run(conn, `ALTER TABLE ${mapped} DROP COLUMN __matched_by`);
  const total = counts.reduce((a, c) => a + c.n, 0);
  const pct = (n: number) => `${((100 * n) / Math.max(total, 1)).toFixed(1)}%`;
  return {
    summary: `(${source.mappingKey}.account, system ${account.system}): ${counts
      .map((c) => `${c.n.toLocaleString("en-US")} ${c.how === "unmatched" ? "unmatched" : `by ${c.how}`} (${pct(c.n)})`)
      .join(", ")}`,
  };
}

/** An event log field that does not fit its file: told as it is, naming the mapping key. */
class EventLogError extends Error {}

/** DuckDB's memory cap while an event log is aggregated (it spills beyond it). */
const EVENT_AGGREGATION_MEMORY = "2500MB";

/**
 * The day of an event time exported as text, decided for the column from a sample as the rest
 * of ingest decides per column: ISO times with an offset (Segment's "…Z") are cast and converted
 * to the zone, ISO times without one are local already, anything else goes through the
 * spreadsheet readings of coerce.ts — per row, those cost 3× the plain casts on 50M events.
 * A value the chosen reading cannot read is an event "without a readable time", counted and told.
 */
export async function textDaySql(conn: DuckDBConnection, reader: string, v: string, zone: string): Promise<string> {
  const [s] = await all<{n: number; offset: number; iso: number}>(
    conn,
    `SELECT count(*) AS n,
            count(*) FILTER (WHERE regexp_matches(x, '^\\d{4}-\\d{2}-\\d{2}[T ][\\d:.]+(Z|[+-]\\d{2}(:?\\d{2})?)$') AND TRY_CAST(x AS TIMESTAMPTZ) IS NOT NULL) AS offset,
            count(*) FILTER (WHERE regexp_matches(x, '^\\d{4}-\\d{2}-\\d{2}([T ][\\d:.]+)?$') AND TRY_CAST(x AS TIMESTAMP) IS NOT NULL) AS iso
     FROM (SELECT ${v} AS x FROM ${reader} src WHERE ${v} IS NOT NULL LIMIT 10000)`,
  );
  if (s!.n && s!.offset === s!.n) return `CAST(timezone(${lit(zone)}, TRY_CAST(${v} AS TIMESTAMPTZ)) AS DATE)`;
  if (s!.n && s!.iso === s!.n) return `CAST(TRY_CAST(${v} AS TIMESTAMP) AS DATE)`;
  return `CAST(${coerceSql("TIMESTAMP", `nullif(trim(${v}), '')`, {...DEFAULT_STYLE, timezone: zone})} AS DATE)`;
}

/**
 * Stages a raw event log (sources.ts, EventLog) as daily usage: DuckDB reads the file (or glob)
 * and aggregates it into one row per account, day and event name with its count, plus one
 * `active_users` row per account and day with its distinct users. Nothing goes through
 * JavaScript row by row: 50 million events are two hash aggregations over the file. Events
 * without an account, a readable time or a name cannot be placed: they are counted and told,
 * never silently dropped. Returns the staged columns.
 */
async function stageEvents(
  conn: DuckDBConnection,
  source: TableSource,
  events: EventLog,
  stage: string,
  label: string,
  progress?: (msg: string) => void,
): Promise<Set<string>> {
  const {path, format} = source;
  const reader =
    format === "parquet"
      ? `read_parquet(${lit(path)}, union_by_name = true)`
      : format === "csv" || format === "tsv"
        ? `read_csv(${lit(path)}, header = true, union_by_name = true${format === "tsv" ? ", delim = '\t'" : ""})`
        : `read_json(${lit(path)}, format = ${lit(format === "jsonl" ? "newline_delimited" : "auto")}, union_by_name = true)`;
  // each field must run on the file, or its mapping key is named with the file's columns
  const columns = (
    await all<{column_name: string}>(conn, `SELECT column_name FROM (DESCRIBE SELECT * FROM ${reader})`)
  ).map((c) => c.column_name);
  for (const [field, sql] of Object.entries({...events, ...(source.where ? {where: source.where} : {})}))
    await run(conn, `SELECT ${sql} FROM ${reader} src LIMIT 0`).catch((e: Error) => {
      throw new EventLogError(
        `${source.mappingKey}.${field === "where" ? "" : "events."}${field}: ${sql} does not run on this file: ${e.message.split("\n")[0]} (columns: ${columns.join(", ")})`,
      );
    });
  const zone = source.timezone ?? "UTC";
  // the event's day where the team is: a time with an offset (or epoch) is converted to the zone,
  // a time without one is taken as local already, as everywhere in ingest
  const [{t}] = (await all<{t: string}>(conn, `SELECT typeof(${events.at}) AS t FROM ${reader} src LIMIT 1`)) as [
    {t: string},
  ];
  const at = events.at;
  const day =
    t === "TIMESTAMP WITH TIME ZONE"
      ? `CAST(timezone(${lit(zone)}, ${at}) AS DATE)`
      : /^(TIMESTAMP|DATE)/.test(t)
        ? `CAST(${at} AS DATE)`
        : /INT|DOUBLE|FLOAT|DECIMAL/.test(t)
          ? `CAST(timezone(${lit(zone)}, to_timestamp(CASE WHEN ${at} > 1e11 THEN ${at} / 1000 ELSE ${at} END)) AS DATE)`
          : await textDaySql(conn, reader, `CAST(${at} AS VARCHAR)`, zone);
  const e = `SELECT CAST(${events.account} AS VARCHAR) AS account_id, ${day} AS event_date, CAST(${events.name} AS VARCHAR) AS event_type${
    events.user ? `, CAST(${events.user} AS VARCHAR) AS user_id` : ""
  } FROM ${reader} src${source.where ? ` WHERE coalesce(${source.where}, false)` : ""}`;
  // Two aggregations, each one scan of the file: grouping sets with a distinct count in one
  // scan measured twice as slow. Rows with a NULL key group together and are counted below.
  // The hash tables of 50M events outgrow the build's memory cap with the rest of the process;
  // under a tighter cap DuckDB spills them to disk instead (bench: 50M events within 4 GB RSS).
  const [{limit}] = (await all<{limit: string}>(conn, "SELECT current_setting('memory_limit') AS limit")) as [
    {limit: string},
  ];
  await run(conn, `SET memory_limit = ${lit(EVENT_AGGREGATION_MEMORY)}`);
  await run(
    conn,
    `CREATE OR REPLACE TABLE ${stage} AS
     SELECT account_id, event_date, event_type, count(*) AS event_count FROM (${e}) GROUP BY ALL${
       events.user
         ? `
     UNION ALL
     SELECT account_id, event_date, 'active_users', count(DISTINCT user_id) FROM (${e})
     WHERE account_id IS NOT NULL AND event_date IS NOT NULL AND event_type IS NOT NULL GROUP BY ALL HAVING count(DISTINCT user_id) > 0`
         : ""
     }`,
  ).finally(() => run(conn, `SET memory_limit = ${lit(limit)}`));
  await tellEventLoss(conn, stage, label, progress);
  return new Set(["account_id", "event_date", "event_type", "event_count"]);
}

/**
 * Daily usage aggregated from an event log (here, or in the database it lives in): events
 * without an account, a readable time or a name cannot be placed — they are counted and told,
 * and their rows removed from the stage.
 */
async function tellEventLoss(
  conn: DuckDBConnection,
  stage: string,
  label: string,
  progress?: (msg: string) => void,
): Promise<void> {
  const [lost] = await all<{total: number; account: number; at: number; name: number}>(
    conn,
    `SELECT coalesce(sum(event_count), 0) AS total,
            coalesce(sum(event_count) FILTER (WHERE account_id IS NULL), 0) AS account,
            coalesce(sum(event_count) FILTER (WHERE account_id IS NOT NULL AND event_date IS NULL), 0) AS at,
            coalesce(sum(event_count) FILTER (WHERE account_id IS NOT NULL AND event_date IS NOT NULL AND event_type IS NULL), 0) AS name
     FROM ${stage} WHERE event_type IS DISTINCT FROM 'active_users'`,
  );
  await run(conn, `DELETE FROM ${stage} WHERE account_id IS NULL OR event_date IS NULL OR event_type IS NULL`);
  const n = (x: number) => x.toLocaleString("en-US");
  const why = [
    lost!.account ? `${n(lost!.account)} without an account (anonymous)` : "",
    lost!.at ? `${n(lost!.at)} without a readable time` : "",
    lost!.name ? `${n(lost!.name)} without an event name` : "",
  ].filter(Boolean);
  progress?.(
    `ingest usage_events: ${label}: ${n(lost!.total)} events aggregated into daily usage${why.length ? `; not counted: ${why.join(", ")}` : ""}`,
  );
}

/**
 * Stages a table extracted from a database (loaders/extract/): its typed columns as they are,
 * times with a zone as the team's local time (as a file's times with an offset are read), and
 * an event log's pushed-down daily aggregates told like a file's. Returns the staged columns.
 */
async function stageExtract(
  conn: DuckDBConnection,
  table: string,
  source: TableSource,
  stage: string,
  label: string,
  progress?: (msg: string) => void,
): Promise<Set<string>> {
  const columns = await all<{column_name: string; column_type: string}>(conn, `DESCRIBE extract.${ident(table)}`);
  const zone = lit(source.timezone ?? "UTC");
  const select = columns.map(({column_name: c, column_type: t}) =>
    t === "TIMESTAMP WITH TIME ZONE" ? `timezone(${zone}, ${ident(c)}) AS ${ident(c)}` : ident(c),
  );
  await run(conn, `CREATE OR REPLACE TABLE ${stage} AS SELECT ${select.join(", ")} FROM extract.${ident(table)}`);
  if (source.events) await tellEventLoss(conn, stage, label, progress);
  return new Set(columns.map((c) => c.column_name));
}

const FORMAT_NAMES = {
  csv: "CSV",
  tsv: "TSV",
  parquet: "Parquet",
  json: "JSON",
  jsonl: "JSON Lines",
  database: "a database extract",
} as const;

/**
 * Values outside the installation's vocabulary (src/rules/vocabulary.ts) are kept and mean
 * `other`; each is counted into ingest.unknown_values and told once per column, most frequent
 * first, with what to declare — a new plan name is a vocabulary entry, not 240 rejected rows.
 */
async function noteUnknownValues(
  conn: DuckDBConnection,
  spec: TableSpec,
  label: string,
  progress?: (msg: string) => void,
): Promise<void> {
  for (const c of spec.columns) {
    if (!c.vocabulary) continue;
    const unknown = await all<{value: string; n: number}>(
      conn,
      // counted per value first, then the few values looked up (a lookup per row of 147M usage
      // rows took 1.1 s, this 0.25 s)
      `SELECT value, n FROM (SELECT ${ident(c.name)} AS value, count(*) AS n FROM raw.${spec.name} WHERE ${ident(c.name)} IS NOT NULL GROUP BY ALL)
       WHERE value NOT IN (SELECT value FROM cfg.vocabulary WHERE kind = ${lit(c.vocabulary)})
       ORDER BY n DESC, value`,
    );
    if (!unknown.length) continue;
    await appendRows(
      conn,
      "ingest.unknown_values",
      unknown.map((u) => [spec.name, c.name, c.vocabulary!, u.value, u.n]),
    );
    const means = UNKNOWN_MEANS[c.vocabulary];
    progress?.(
      `ingest ${spec.name}: ${label}: ${c.name}: ${unknown.length} value(s) not in the vocabulary (${means}): ${unknown
        .slice(0, 5)
        .map((u) => `${JSON.stringify(u.value)} ×${u.n.toLocaleString("en-US")}`)
        .join(", ")}${unknown.length > 5 ? ", …" : ""} — declare them under "vocabulary" → "${c.vocabulary}"`,
    );
  }
}

/** Where the rows come from: the folder convention (data/raw/<table>.csv) or a source mapping (sources.ts). */
export type IngestSource =
  {dir: string} | {plan: SourcePlan; mappingFile: string; vocabulary?: Vocabulary; lookups?: LookupSource[]};

/**
 * The mapping's lookup files as tables `lookup.<name>`, all text, for its SQL to look values up in
 * (a Salesforce owner's name by OwnerId, a Zendesk organisation's CRM id). A lookup that cannot be
 * read is a problem naming its key.
 */
async function loadLookups(
  conn: DuckDBConnection,
  lookups: readonly LookupSource[],
  problem: (label: string, rule: string) => Promise<void>,
): Promise<void> {
  await run(conn, "CREATE SCHEMA IF NOT EXISTS lookup");
  for (const l of lookups) {
    const label = relative(process.cwd(), l.path) || l.path;
    try {
      const reader =
        l.format === "csv" || l.format === "tsv"
          ? `read_csv(${lit(l.path)}, header = true, all_varchar = true, delim = ${lit(inspectCsvFile(l.path).delimiter)}, quote = '"', escape = '"')`
          : l.format === "parquet"
            ? `read_parquet(${lit(l.path)}, union_by_name = true)`
            : `read_json(${lit(l.path)}, format = ${lit(l.format === "jsonl" ? "newline_delimited" : "auto")}, union_by_name = true)`;
      await run(conn, `CREATE OR REPLACE TABLE lookup.${ident(l.name)} AS SELECT * FROM ${reader}`);
    } catch (e) {
      await problem(
        label,
        `lookups.${l.name}: cannot be read as ${FORMAT_NAMES[l.format]}: ${(e as Error).message.split("\n")[0]}`,
      );
    }
  }
}

/** Ingests raw files into raw.* (creating the schema). */
export async function ingestFiles(
  conn: DuckDBConnection,
  from: string | IngestSource,
  opts: IngestOptions,
): Promise<IngestReport> {
  const src: IngestSource = typeof from === "string" ? {dir: from} : from;
  const plan = "plan" in src ? src.plan : folderPlan(findRawFiles(src.dir));
  await ensureProblemTables(conn);
  await run(conn, "CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS stage");
  // the words these files use (the mapping's "vocabulary", else the demo's): read before any value
  await writeVocabulary(conn, ("vocabulary" in src && src.vocabulary) || config.vocabulary);
  const report: IngestReport = {source: "files", tables: {}, problems: 0};
  if ("lookups" in src && src.lookups?.length)
    await loadLookups(conn, src.lookups, (label, rule) =>
      appendRows(conn, "ingest.problems", [["lookup", label, null, null, null, rule, "file"]]),
    );
  /** tables that could not be loaded as a whole (their dependents' references are not checked) */
  const failed = new Set<string>();
  /** every row of a referenced table's file, rejected ones included (kept until the end) */
  const everyRow = new Map<string, string>();
  const fileProblem = (table: string, file: string, rule: string, column: string | null = null) =>
    appendRows(conn, "ingest.problems", [[table, file, null, column, null, rule, "file"]]);

  for (const spec of CONTRACT) {
    await run(conn, createTableSql(spec));
    report.tables[spec.name] = {rows: 0, rejected: 0};
    const source = plan.get(spec.name);
    const required = REQUIRED_TABLES.includes(spec.name);
    if (!source) {
      if (required) {
        failed.add(spec.name);
        const [label, expected] =
          "dir" in src
            ? [
                join(relative(process.cwd(), src.dir) || ".", `${spec.name}.csv`),
                `${spec.name}.csv or ${spec.name}.parquet`,
              ]
            : [relative(process.cwd(), src.mappingFile), `tables.${spec.name} in the mapping`];
        await fileProblem(spec.name, label, `required table raw.${spec.name} is missing (expected ${expected})`);
      }
      continue;
    }
    const {path, format} = source;
    const label = sourceLabel(source);
    const t0 = performance.now();
    const isCsv = format === "csv" || format === "tsv";
    let rejectedLines: number[] = [];
    const stage = `stage.${spec.name}`;
    let present: Set<string>;
    let csvDialect: CsvFile | null = null;
    /** a glob's files in order: their rows are numbered (i + 1) · GLOB_FILE_ROWS + line */
    let globFiles: string[] = [];
    const refreshed = opts.refresh && spec.name === DAILY_RAW.table && !REFERENCED.has(spec.name);
    // On a refresh the usage in one Parquet file is staged as views, not copied: its rows are read
    // once to fingerprint each day, then only the new and changed days are copied (refresh.ts).
    // (a glob numbers rows per file; a `where` or account matching needs its rows in a table;
    // a build with nothing to reuse copies the file once, one read fewer)
    const streamed =
      refreshed &&
      opts.refresh!.hasPrevious &&
      format === "parquet" &&
      !source.database &&
      !source.events &&
      !/[*?[]/.test(path) &&
      !source.where &&
      !source.account
        ? `${stage}_file`
        : null;
    // Everything is staged as text so a bad cell becomes a reported problem, not a load error.
    // rowid follows insertion (= file) order, which gives each row its line number.
    try {
      if (source.database) {
        present = await stageExtract(conn, spec.name, source, stage, label, opts.progress);
      } else if (source.events) {
        present = await stageEvents(conn, source, source.events, stage, label, opts.progress);
      } else if (isCsv && /[*?[]/.test(path)) {
        const staged = await stageCsvGlob(conn, spec.name, path, stage);
        if (!staged) {
          failed.add(spec.name);
          continue;
        }
        globFiles = staged.files;
        csvDialect = staged.csv;
        present = new Set(staged.csv.columns);
      } else if (isCsv) {
        const staged = await stageCsv(conn, spec.name, path, label, stage);
        if (staged.fatal) {
          failed.add(spec.name);
          continue;
        }
        rejectedLines = staged.rejectedLines;
        csvDialect = staged.csv;
        present = new Set(staged.csv.columns);
      } else if (streamed) {
        // each row keeps its place in the file (file_row_number counts from 0, as rowid does)
        await run(
          conn,
          `CREATE OR REPLACE VIEW ${streamed} AS SELECT * EXCLUDE (file_row_number), file_row_number AS __src_row
           FROM read_parquet(${lit(path)}, file_row_number = true)`,
        );
        if (!source.mappingKey) await run(conn, `CREATE OR REPLACE VIEW ${stage} AS FROM ${streamed}`);
        present = new Set(
          (await all<{column_name: string}>(conn, `SELECT column_name FROM (DESCRIBE ${streamed})`))
            .map((r) => r.column_name)
            .filter((c) => c !== "__src_row"),
        );
      } else {
        const reader =
          format === "parquet"
            ? `read_parquet(${lit(path)})`
            : `read_json(${lit(path)}, format = ${lit(format === "jsonl" ? "newline_delimited" : "auto")})`;
        await run(conn, `CREATE OR REPLACE TABLE ${stage} AS SELECT * FROM ${reader}`);
        present = new Set(
          (await all<{column_name: string}>(conn, `SELECT column_name FROM (DESCRIBE ${stage})`)).map(
            (r) => r.column_name,
          ),
        );
      }
    } catch (e) {
      failed.add(spec.name);
      const why =
        e instanceof CsvFileError || e instanceof EventLogError
          ? e.message
          : `cannot be read as ${FORMAT_NAMES[format]}: ${(e as Error).message.split("\n")[0]}`;
      await fileProblem(spec.name, label, why);
      continue;
    }
    if (source.mappingKey && streamed) {
      const mapped = await applyMapping(conn, spec, source, streamed, stage, present, opts.progress, "VIEW");
      if ("problem" in mapped) {
        failed.add(spec.name);
        await fileProblem(spec.name, label, mapped.problem);
        continue;
      }
      present = mapped.present;
    } else if (source.mappingKey) {
      const mapped = await applyMapping(conn, spec, source, stage, `stage.${spec.name}_mapped`, present, opts.progress);
      if ("problem" in mapped) {
        failed.add(spec.name);
        await fileProblem(spec.name, label, mapped.problem);
        continue;
      }
      await run(conn, `DROP TABLE ${stage}; ALTER TABLE stage.${spec.name}_mapped RENAME TO ${spec.name}`);
      present = mapped.present;
    }
    const missing = spec.columns.filter((c) => c.required && !present.has(c.name));
    for (const c of missing)
      await fileProblem(
        spec.name,
        label,
        `lacks required column "${c.name}" (columns found: ${[...present].join(", ")})`,
      );
    const staged = (await one<{n: number}>(conn, `SELECT count(*) AS n FROM ${stage}`)).n;
    if (staged === 0 && rejectedLines.length === 0) {
      if (required) await fileProblem(spec.name, label, "has a header but no data rows");
      else opts.progress?.(`ingest ${spec.name}: ${label} has a header but no data rows`);
    }
    if (missing.length || (required && staged === 0)) {
      failed.add(spec.name);
      continue;
    }
    // The file row of a staged row: rowid + header line + 1, plus the rejected lines before it.
    // (rows a `where` kept carry their place in the file as __src_row)
    const rowid = (await hasColumn(conn, stage, "__src_row")) ? "__src_row" : "rowid";
    const lineOf = (rowid: string) =>
      globFiles.length ? "__line" : isCsv ? csvLineSql(rowid, rejectedLines) : `${rowid} + 1`;
    let rowExpr = lineOf(rowid);
    // cells as trimmed text, NULL when blank or "N/A"-like; typed the way a spreadsheet wrote them
    // (coerce.ts), with what one cell cannot tell (decimal comma, day-first dates) decided per column.
    // A column a Parquet file or the event aggregation already holds in the contract's type is
    // taken as it is: a round trip through text would only cost time (16M aggregated usage rows).
    const stagedTypes = new Map(
      (await all<{column_name: string; column_type: string}>(conn, `DESCRIBE ${stage}`)).map((r) => [
        r.column_name,
        r.column_type,
      ]),
    );
    const native = (c: ColumnSpec) => present.has(c.name) && NATIVE[c.type].includes(stagedTypes.get(c.name) ?? "");
    const raw = (c: ColumnSpec) => `CAST(${ident(c.name)} AS VARCHAR)`;
    const text = (c: ColumnSpec) => (present.has(c.name) ? presentSql(raw(c)) : "CAST(NULL AS VARCHAR)");
    const styled = spec.columns.filter(
      (c) => present.has(c.name) && !native(c) && c.type !== "VARCHAR" && c.type !== "BOOLEAN",
    );
    const styles = await columnStyles(conn, stage, Object.fromEntries(styled.map((c) => [c.name, text(c)])));
    const settled = settleDateOrder(styles);
    const typedExpr = (c: ColumnSpec, v: string) =>
      native(c)
        ? `TRY_CAST(${ident(c.name)} AS ${c.type})`
        : coerceSql(c.type, v, {
            ...(styles[c.name] ?? DEFAULT_STYLE),
            ...(source.timezone ? {timezone: source.timezone} : {}),
          });
    await noteReadings(
      conn,
      spec,
      stage,
      label,
      new Set([...present].filter((name) => !native(spec.columns.find((c) => c.name === name)!))),
      styles,
      settled,
      raw,
      opts.progress,
    );
    // a nightly refresh types and checks only the days of usage that are new or changed since the
    // previous build; the others' rows are last night's (loaders/refresh.ts)
    let reusedDays: string[] = [];
    if (refreshed) {
      reusedDays = await opts.refresh!.stagedDaysToReuse(conn, {
        spec,
        stage,
        columns: spec.columns.filter((c) => present.has(c.name)).map((c) => c.name),
        readAs: {
          styles,
          settled,
          timezone: source.timezone ?? null,
          types: [...stagedTypes].filter(([name]) => name !== "__src_row"),
        },
        asOf: opts.asOf,
        lenient: opts.lenient ?? false,
      });
      // the rows left carry their place in the file as __src_row
      if (reusedDays.length) rowExpr = lineOf("__src_row");
    }
    // 1. cell-level checks on the text: required and type
    const cellChecks = spec.columns.flatMap((c) => {
      if (native(c))
        return [
          `SELECT ${lit(spec.name)}, ${lit(label)}, ${rowExpr}, ${lit(c.name)}, ${raw(c)}, 'type: not a valid ${c.type}', 'row' FROM ${stage} WHERE ${ident(c.name)} IS NOT NULL AND ${typedExpr(c, "")} IS NULL`,
          ...(c.required
            ? [
                `SELECT ${lit(spec.name)}, ${lit(label)}, ${rowExpr}, ${lit(c.name)}, NULL, 'required value is empty', 'row' FROM ${stage} WHERE ${ident(c.name)} IS NULL`,
              ]
            : []),
        ];
      const v = text(c);
      const out = [
        `SELECT ${lit(spec.name)}, ${lit(label)}, ${rowExpr}, ${lit(c.name)}, ${v}, 'type: not a valid ${c.type}', 'row' FROM ${stage} WHERE ${v} IS NOT NULL AND ${typedExpr(c, v)} IS NULL`,
      ];
      if (c.required)
        out.push(
          `SELECT ${lit(spec.name)}, ${lit(label)}, ${rowExpr}, ${lit(c.name)}, NULL, 'required value is empty', 'row' FROM ${stage} WHERE ${v} IS NULL`,
        );
      return present.has(c.name) || c.required ? out : [];
    });
    await run(conn, `INSERT INTO ingest.problems ${cellChecks.join("\nUNION ALL\n")}`);
    // 2. typed copy (cells that failed to cast are NULL and their rows are already flagged)
    const typed = `stage.${spec.name}_typed`;
    await run(
      conn,
      `CREATE OR REPLACE TABLE ${typed} AS SELECT ${rowExpr} AS __row, ${spec.columns.map((c) => `${typedExpr(c, text(c))} AS ${ident(c.name)}`).join(", ")} FROM ${stage}`,
    );
    // 3. value checks; references point at the accepted rows of raw.customers, loaded first
    await run(
      conn,
      `INSERT INTO ingest.problems ${valueChecksSql(spec, typed, label, opts.asOf, {schema: "raw", failed, everyRow}, false)}`,
    );
    // 4. keep the clean rows
    await run(
      conn,
      `INSERT INTO ingest.rejected_rows SELECT table_name, file, row_number, string_agg(DISTINCT column_name || ': ' || rule, '; ') FROM ingest.problems WHERE table_name = ${lit(spec.name)} AND row_number IS NOT NULL GROUP BY ALL`,
    );
    await run(
      conn,
      `INSERT INTO raw.${spec.name} SELECT ${spec.columns.map((c) => ident(c.name)).join(", ")} FROM ${typed} t ANTI JOIN (SELECT row_number FROM ingest.rejected_rows WHERE table_name = ${lit(spec.name)}) r ON t.__row = r.row_number ORDER BY __row`,
    );
    await opts.refresh?.appendReusedDays(conn, spec, reusedDays);
    // a glob's problems name the file and line they are at
    if (globFiles.length) {
      const files = `(VALUES ${globFiles.map((f, i) => `(${lit(relative(process.cwd(), f) || f)}, ${i + 1})`).join(", ")}) g(f, i)`;
      for (const t of ["ingest.problems", "ingest.rejected_rows"])
        await run(
          conn,
          `UPDATE ${t} SET file = g.f, row_number = row_number % ${GLOB_FILE_ROWS} FROM ${files}
           WHERE table_name = ${lit(spec.name)} AND file = ${lit(label)} AND row_number // ${GLOB_FILE_ROWS} = g.i`,
        );
    }
    const rows = (await one<{n: number}>(conn, `SELECT count(*) AS n FROM raw.${spec.name}`)).n;
    const rejected = (
      await one<{n: number}>(
        conn,
        `SELECT count(*) AS n FROM ingest.rejected_rows WHERE table_name = ${lit(spec.name)}`,
      )
    ).n;
    report.tables[spec.name] = {rows, rejected};
    await noteUnknownValues(conn, spec, label, opts.progress);
    await run(conn, `DROP TABLE ${stage}`);
    // (a glob's malformed lines are told under their own file)
    const labels = globFiles.length ? globFiles.map((f) => relative(process.cwd(), f) || f) : [label];
    if (REFERENCED.has(spec.name)) everyRow.set(spec.name, await everyKey(conn, spec, typed, labels, csvDialect));
    await run(conn, `DROP TABLE ${typed}`);
    opts.progress?.(
      `ingest ${spec.name}: ${rows.toLocaleString("en-US")} rows${rejected ? `, ${rejected} rejected` : ""} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  await run(conn, "DROP SCHEMA stage CASCADE; DROP SCHEMA IF EXISTS lookup CASCADE");

  report.problems = await problemCount(conn);
  if (report.problems > 0) {
    if (opts.reportPath)
      await run(
        conn,
        `COPY (SELECT * FROM ingest.problems ORDER BY CASE kind WHEN 'file' THEN 0 WHEN 'row' THEN 1 ELSE 2 END, file, row_number NULLS FIRST, column_name) TO ${lit(opts.reportPath)} (HEADER)`,
      );
    // Missing tables/columns and unreadable files cannot be quarantined row by row.
    const fatal = await problemCount(conn, "file");
    if (!opts.lenient || fatal > 0)
      throw new IngestError(
        await groupProblems(conn),
        report.problems,
        opts.reportPath && relative(process.cwd(), opts.reportPath),
      );
    const lines = Object.entries(report.tables)
      .filter(([, t]) => t.rejected > 0)
      .map(([n, t]) => `${n}: ${t.rejected} row(s) quarantined`);
    opts.progress?.(
      `--lenient: ${report.problems} problem(s); ${lines.join(", ")} — see ingest.problems and ingest.rejected_rows`,
    );
  }
  return report;
}

/**
 * Checks tables already typed in raw.* (the synthetic generator's output) against the
 * contract's value rules. Any problem is a bug in the generator: throws IngestError.
 */
export async function checkRawTables(conn: DuckDBConnection, opts: {asOf: string; label: string}): Promise<void> {
  await ensureProblemTables(conn);
  for (const spec of CONTRACT) {
    const rel = `(SELECT rowid + 1 AS __row, * FROM raw.${spec.name})`;
    await run(
      conn,
      `INSERT INTO ingest.problems ${valueChecksSql(spec, rel, `${opts.label}/${spec.name}`, opts.asOf, {schema: "raw"}, true)}`,
    );
    await noteUnknownValues(conn, spec, `${opts.label}/${spec.name}`);
  }
  // the generator writes only the words of the vocabulary it wrote to cfg.vocabulary
  await run(
    conn,
    `INSERT INTO ingest.problems SELECT table_name, ${lit(opts.label)} || '/' || table_name, NULL, column_name, value, 'not in the vocabulary ' || kind, 'row' FROM ingest.unknown_values`,
  );
  const n = await problemCount(conn);
  if (n > 0) throw new IngestError(await groupProblems(conn), n);
}
