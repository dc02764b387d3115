/**
 * Validated ingest of raw tables.
 *
 * Two sources share one set of rules (loaders/contract.ts):
 *  - files a user drops in data/raw/ (<table>.csv or <table>.parquet): read as text, type-checked
 *    cell by cell, then value-checked; every problem names file, row, column, value and rule;
 *  - tables the synthetic generator wrote straight into raw.*: value-checked the same way, so a
 *    generator bug fails the build like bad user data would.
 *
 * Strict (default): any problem fails the build with the full report. Lenient: rows with
 * problems are quarantined into ingest.rejected_rows and the build goes on.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {existsSync, readdirSync} from "node:fs";
import {join, relative} from "node:path";
import {config} from "../src/rules/config.ts";
import {CONTRACT, createTableSql, type ColumnSpec, type TableSpec} from "./contract.ts";
import {all, appendRows, ident, lit, one, run} from "./duckdb.ts";

export interface Problem {
  table: string;
  file: string;
  /** line in a CSV file (the header is line 1) or 1-based row in a Parquet file; null for file-level problems */
  row: number | null;
  column: string | null;
  value: string | null;
  rule: string;
}

export class IngestError extends Error {
  constructor(
    readonly problems: Problem[],
    readonly total: number,
  ) {
    super(formatProblems(problems, total));
    this.name = "IngestError";
  }
}

/** Tables a user must provide; the others are created empty when absent. */
export const REQUIRED_TABLES = ["customers", "usage_events", "support_tickets", "gtm_opportunities"];

/** How many problems the error message lists; the full list is in the report file. */
const MAX_LISTED = 200;

export function formatProblem(p: Problem): string {
  const where = p.row == null ? p.file : `${p.file}:${p.row}`;
  const col = p.column ? ` column "${p.column}"` : "";
  const val =
    p.value == null ? "" : ` value ${JSON.stringify(p.value.length > 80 ? p.value.slice(0, 80) + "…" : p.value)}`;
  return `${where}${col}${val}: ${p.rule}`;
}

export function formatProblems(problems: Problem[], total = problems.length): string {
  const lines = problems.slice(0, MAX_LISTED).map((p) => "  " + formatProblem(p));
  const more = total > lines.length ? `\n  … and ${total - lines.length} more` : "";
  return `raw data failed validation with ${total} problem${total === 1 ? "" : "s"}:\n${lines.join("\n")}${more}`;
}

/** The raw files present in a folder, by table. Throws on ambiguous or unknown files. */
export function findRawFiles(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  const known = new Set(CONTRACT.map((t) => t.name));
  const unknown: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const m = /^(.+)\.(csv|parquet)$/i.exec(name);
    if (!m) continue;
    const table = m[1]!;
    if (!known.has(table)) {
      unknown.push(name);
      continue;
    }
    if (found.has(table))
      throw new Error(`${dir}: both ${relative(dir, found.get(table)!)} and ${name} provide raw.${table}; keep one`);
    found.set(table, join(dir, name));
  }
  if (unknown.length && found.size)
    throw new Error(
      `${dir}: ${unknown.join(", ")} match no raw table (expected one of: ${[...known].map((t) => t + ".csv").join(", ")})`,
    );
  return found;
}

function typeCheckExpr(c: ColumnSpec, col: string): string {
  return `TRY_CAST(${col} AS ${c.type})`;
}

/** SQL selecting value-level problems of a typed relation with a __row column. */
function valueChecksSql(
  spec: TableSpec,
  rel: string,
  file: string,
  asOf: string,
  schema: string,
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
    if (c.accepted)
      rowRules.push({
        col: c.name,
        rule: `not an accepted value (accepted: ${c.accepted.join(", ")})`,
        bad: `${q} IS NOT NULL AND ${q} NOT IN (${c.accepted.map(lit).join(", ")})`,
      });
    if (c.min !== undefined) rowRules.push({col: c.name, rule: `must be ≥ ${c.min}`, bad: `${q} < ${c.min}`});
    if (c.max !== undefined) rowRules.push({col: c.name, rule: `must be ≤ ${c.max}`, bad: `${q} > ${c.max}`});
    if (c.notFarFuture)
      rowRules.push({
        col: c.name,
        rule: `date more than ${config.dataQuality.maxFutureDays} days after the as-of date ${asOf}`,
        bad: `CAST(${q} AS DATE) > DATE ${lit(asOf)} + INTERVAL ${config.dataQuality.maxFutureDays} DAY`,
      });
    if (c.references) {
      const ref = `${schema}.${c.references.table}`;
      parts.push(
        `SELECT ${lit(spec.name)}, ${lit(file)}, r.__row, ${lit(c.name)}, CAST(r.${q} AS VARCHAR), ${lit(`unknown ${c.references.column} (not in ${c.references.table})`)} FROM ${rel} r ANTI JOIN ${ref} p ON r.${q} = p.${ident(c.references.column)} WHERE r.${q} IS NOT NULL`,
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
      `SELECT ${lit(spec.name)} AS table_name, ${lit(file)} AS file, __row AS row_number, p.c AS column_name, p.v AS value, p.r AS rule
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
    `SELECT ${lit(spec.name)}, ${lit(file)}, r.__row, ${lit(spec.key.join(", "))}, ${keyVal}, 'duplicate key (${spec.key.join(", ")} must be unique)' FROM ${rel} r SEMI JOIN (
       SELECT ${keyCols.join(", ")} FROM ${rel} WHERE ${hashed} IN (SELECT h FROM (SELECT h, lag(h) OVER (ORDER BY h) AS prev FROM (SELECT ${hashed} AS h FROM ${rel})) WHERE h = prev)
       GROUP BY ALL HAVING count(*) > 1) d ON ${keyCols.map((k) => `r.${k} = d.${k}`).join(" AND ")}`,
  );
  return parts.join("\nUNION ALL\n");
}

async function ensureProblemTables(conn: DuckDBConnection): Promise<void> {
  await run(conn, "CREATE SCHEMA IF NOT EXISTS ingest");
  await run(
    conn,
    "CREATE TABLE IF NOT EXISTS ingest.problems (table_name VARCHAR, file VARCHAR, row_number BIGINT, column_name VARCHAR, value VARCHAR, rule VARCHAR)",
  );
  await run(
    conn,
    "CREATE TABLE IF NOT EXISTS ingest.rejected_rows (table_name VARCHAR, file VARCHAR, row_number BIGINT, rules VARCHAR)",
  );
}

async function problemCount(conn: DuckDBConnection, table?: string): Promise<number> {
  const where = table ? ` WHERE table_name = ${lit(table)}` : "";
  return (await one<{n: number}>(conn, `SELECT count(*) AS n FROM ingest.problems${where}`)).n;
}

async function listProblems(conn: DuckDBConnection, limit = MAX_LISTED): Promise<Problem[]> {
  const rows = await all<{
    table_name: string;
    file: string;
    row_number: number | null;
    column_name: string | null;
    value: string | null;
    rule: string;
  }>(conn, `SELECT * FROM ingest.problems ORDER BY file, row_number NULLS FIRST, column_name LIMIT ${limit}`);
  return rows.map((r) => ({
    table: r.table_name,
    file: r.file,
    row: r.row_number,
    column: r.column_name,
    value: r.value,
    rule: r.rule,
  }));
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
}

/** Ingests data/raw-style files into raw.* (creating the schema). */
export async function ingestFiles(conn: DuckDBConnection, dir: string, opts: IngestOptions): Promise<IngestReport> {
  const files = findRawFiles(dir);
  await ensureProblemTables(conn);
  await run(conn, "CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS stage");
  const report: IngestReport = {source: "files", tables: {}, problems: 0};
  const fatal: Problem[] = [];

  for (const spec of CONTRACT) {
    await run(conn, createTableSql(spec));
    const path = files.get(spec.name);
    const label = path ? relative(process.cwd(), path) : join(relative(process.cwd(), dir) || ".", `${spec.name}.csv`);
    if (!path) {
      if (REQUIRED_TABLES.includes(spec.name))
        fatal.push({
          table: spec.name,
          file: label,
          row: null,
          column: null,
          value: null,
          rule: `required table raw.${spec.name} is missing (expected ${spec.name}.csv or ${spec.name}.parquet)`,
        });
      report.tables[spec.name] = {rows: 0, rejected: 0};
      continue;
    }
    const t0 = performance.now();
    const isCsv = path.toLowerCase().endsWith(".csv");
    let rejectedLines: number[] = [];
    const stage = `stage.${spec.name}`;
    // Everything is staged as text so a bad cell becomes a reported problem, not a load error.
    // rowid follows insertion (= file) order, which gives each row its line number.
    try {
      if (isCsv) {
        await run(
          conn,
          `CREATE OR REPLACE TABLE ${stage} AS SELECT * FROM read_csv(${lit(path)}, all_varchar = true, header = true, auto_detect = true, store_rejects = true, rejects_table = 'csv_rejects_${spec.name}', rejects_scan = 'csv_scans_${spec.name}')`,
        );
        // Lines the CSV reader could not split are row-level problems (quarantinable), and they
        // are missing from the staged rows, so later row numbers are shifted back by them.
        await run(
          conn,
          `INSERT INTO ingest.problems SELECT ${lit(spec.name)}, ${lit(label)}, line, NULL, csv_line, 'malformed CSV line: ' || split_part(error_message, chr(10), 1) FROM csv_rejects_${spec.name}`,
        );
        rejectedLines = (
          await all<{line: number}>(conn, `SELECT DISTINCT line FROM csv_rejects_${spec.name} ORDER BY line`)
        ).map((r) => r.line);
        await run(conn, `DROP TABLE csv_rejects_${spec.name}; DROP TABLE csv_scans_${spec.name}`);
      } else {
        await run(conn, `CREATE OR REPLACE TABLE ${stage} AS SELECT * FROM read_parquet(${lit(path)})`);
      }
    } catch (e) {
      fatal.push({
        table: spec.name,
        file: label,
        row: null,
        column: null,
        value: null,
        rule: `cannot be read as ${isCsv ? "CSV" : "Parquet"}: ${(e as Error).message.split("\n")[0]}`,
      });
      report.tables[spec.name] = {rows: 0, rejected: 0};
      continue;
    }
    const present = new Set(
      (await all<{column_name: string}>(conn, `SELECT column_name FROM (DESCRIBE ${stage})`)).map((r) => r.column_name),
    );
    const missing = spec.columns.filter((c) => c.required && !present.has(c.name));
    for (const c of missing)
      fatal.push({
        table: spec.name,
        file: label,
        row: isCsv ? 1 : null,
        column: c.name,
        value: null,
        rule: `required column "${c.name}" is missing (columns found: ${[...present].join(", ")})`,
      });
    if (missing.length) {
      report.tables[spec.name] = {rows: 0, rejected: 0};
      continue;
    }
    // The file row of a staged row: rowid + header line + 1, plus the rejected lines before it.
    const rowExpr = rejectedLines.length
      ? `(rowid + 2 + (SELECT count(*) FROM (SELECT unnest([${rejectedLines.join(", ")}]) AS l, generate_subscripts([${rejectedLines.join(", ")}], 1) AS j) WHERE l - j - 1 <= rowid))`
      : `rowid + ${isCsv ? 2 : 1}`;
    const text = (c: ColumnSpec) =>
      present.has(c.name) ? `NULLIF(trim(CAST(${ident(c.name)} AS VARCHAR)), '')` : "CAST(NULL AS VARCHAR)";
    // 1. cell-level checks on the text: required and type
    const cellChecks = spec.columns.flatMap((c) => {
      const v = text(c);
      const out = [
        `SELECT ${lit(spec.name)}, ${lit(label)}, ${rowExpr}, ${lit(c.name)}, ${v}, 'type: not a valid ${c.type}' FROM ${stage} WHERE ${v} IS NOT NULL AND ${typeCheckExpr(c, v)} IS NULL`,
      ];
      if (c.required)
        out.push(
          `SELECT ${lit(spec.name)}, ${lit(label)}, ${rowExpr}, ${lit(c.name)}, NULL, 'required value is empty' FROM ${stage} WHERE ${v} IS NULL`,
        );
      return present.has(c.name) || c.required ? out : [];
    });
    await run(conn, `INSERT INTO ingest.problems ${cellChecks.join("\nUNION ALL\n")}`);
    // 2. typed copy (cells that failed to cast are NULL and their rows are already flagged)
    const typed = `stage.${spec.name}_typed`;
    await run(
      conn,
      `CREATE OR REPLACE TABLE ${typed} AS SELECT ${rowExpr} AS __row, ${spec.columns.map((c) => `${typeCheckExpr(c, text(c))} AS ${ident(c.name)}`).join(", ")} FROM ${stage}`,
    );
    // 3. value checks; references point at the accepted rows of raw.customers, loaded first
    await run(conn, `INSERT INTO ingest.problems ${valueChecksSql(spec, typed, label, opts.asOf, "raw", false)}`);
    // 4. keep the clean rows
    await run(
      conn,
      `INSERT INTO ingest.rejected_rows SELECT table_name, file, row_number, string_agg(DISTINCT column_name || ': ' || rule, '; ') FROM ingest.problems WHERE table_name = ${lit(spec.name)} AND row_number IS NOT NULL GROUP BY ALL`,
    );
    await run(
      conn,
      `INSERT INTO raw.${spec.name} SELECT ${spec.columns.map((c) => ident(c.name)).join(", ")} FROM ${typed} t ANTI JOIN (SELECT row_number FROM ingest.rejected_rows WHERE table_name = ${lit(spec.name)}) r ON t.__row = r.row_number ORDER BY __row`,
    );
    const rows = (await one<{n: number}>(conn, `SELECT count(*) AS n FROM raw.${spec.name}`)).n;
    const rejected = (
      await one<{n: number}>(
        conn,
        `SELECT count(*) AS n FROM ingest.rejected_rows WHERE table_name = ${lit(spec.name)}`,
      )
    ).n;
    report.tables[spec.name] = {rows, rejected};
    await run(conn, `DROP TABLE ${stage}; DROP TABLE ${typed}`);
    opts.progress?.(
      `ingest ${spec.name}: ${rows.toLocaleString("en-US")} rows${rejected ? `, ${rejected} rejected` : ""} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  await run(conn, "DROP SCHEMA stage CASCADE");

  if (fatal.length) {
    await appendRows(
      conn,
      "ingest.problems",
      fatal.map((p) => [p.table, p.file, p.row ?? null, p.column ?? null, p.value ?? null, p.rule]),
    );
  }
  report.problems = await problemCount(conn);
  if (report.problems > 0) {
    if (opts.reportPath)
      await run(
        conn,
        `COPY (SELECT * FROM ingest.problems ORDER BY file, row_number NULLS FIRST, column_name) TO ${lit(opts.reportPath)} (HEADER)`,
      );
    // Missing tables/columns and unreadable files cannot be quarantined row by row.
    if (!opts.lenient || fatal.length) throw new IngestError(await listProblems(conn), report.problems);
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
      `INSERT INTO ingest.problems ${valueChecksSql(spec, rel, `${opts.label}/${spec.name}`, opts.asOf, "raw", true)}`,
    );
  }
  const n = await problemCount(conn);
  if (n > 0) throw new IngestError(await listProblems(conn), n);
}
