/**
 * Thin helpers over @duckdb/node-api: open the warehouse, run SQL files, read rows as plain
 * JavaScript values. Everything in the pipeline talks to DuckDB through these.
 */
import {DuckDBConnection, DuckDBInstance, listValue, type DuckDBValue} from "@duckdb/node-api";
import {lit, ident} from "../src/components/sql.ts";

export {lit, ident};

export interface Warehouse {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  close(): void;
}

export async function openWarehouse(
  path: string,
  opts: {readOnly?: boolean; threads?: number; memoryLimit?: string} = {},
): Promise<Warehouse> {
  const options: Record<string, string> = {};
  if (opts.readOnly) options.access_mode = "READ_ONLY";
  if (opts.threads) options.threads = String(opts.threads);
  // beyond the limit DuckDB spills to disk (next to the database file) instead of growing
  if (opts.memoryLimit) options.memory_limit = opts.memoryLimit;
  const instance = await DuckDBInstance.create(path, options);
  const conn = await instance.connect();
  return {
    instance,
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** Converts DuckDB values (BIGINT, DATE, TIMESTAMP, DECIMAL …) to plain JSON-friendly JS. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "object") {
    // DuckDB value objects (DuckDBDateValue, DuckDBTimestampValue, DuckDBDecimalValue, lists …)
    if (Array.isArray(v)) return v.map(plain);
    const s = String(v);
    if ("items" in (v as object)) return ((v as {items: unknown[]}).items ?? []).map(plain);
    if ("micros" in (v as object) || "days" in (v as object)) return s;
    if ("value" in (v as object) && "scale" in (v as object)) return Number(s);
    return s;
  }
  return v;
}

export async function all<T = Record<string, unknown>>(
  conn: DuckDBConnection,
  sql: string,
  params?: DuckDBValue[] | Record<string, DuckDBValue>,
): Promise<T[]> {
  const reader = await conn.runAndReadAll(sql, params);
  const rows = reader.getRowObjects();
  return rows.map((r) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) o[k] = plain(v);
    return o as T;
  });
}

export async function one<T = Record<string, unknown>>(
  conn: DuckDBConnection,
  sql: string,
  params?: DuckDBValue[] | Record<string, DuckDBValue>,
): Promise<T> {
  const rows = await all<T>(conn, sql, params);
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}: ${sql.slice(0, 120)}`);
  return rows[0]!;
}

/** Whether a table (or any relation DESCRIBE reads) has a column of this name. */
export async function hasColumn(conn: DuckDBConnection, table: string, column: string): Promise<boolean> {
  return (await all(conn, `SELECT 1 FROM (DESCRIBE ${table}) WHERE column_name = ${lit(column)}`)).length > 0;
}

/** Whether `schema.table` exists in the attached database `catalog` (a previous warehouse, say; null: this one). */
export async function tableExists(conn: DuckDBConnection, catalog: string | null, qualified: string): Promise<boolean> {
  const [schema, table] = qualified.split(".");
  const r = await one<{n: number}>(
    conn,
    "SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = coalesce($1, current_database()) AND schema_name = $2 AND table_name = $3",
    [catalog, schema!, table!],
  );
  return r.n > 0;
}

/** Whether `schema.view` is a view of this database (a staged file read where it lies, say). */
export async function viewExists(conn: DuckDBConnection, qualified: string): Promise<boolean> {
  const [schema, view] = qualified.split(".");
  const r = await one<{n: number}>(
    conn,
    "SELECT count(*)::INTEGER AS n FROM duckdb_views() WHERE database_name = current_database() AND schema_name = $1 AND view_name = $2",
    [schema!, view!],
  );
  return r.n > 0;
}

export async function run(
  conn: DuckDBConnection,
  sql: string,
  params?: DuckDBValue[] | Record<string, DuckDBValue>,
): Promise<void> {
  await conn.run(sql, params);
}

/** Column types the config tables use. */
export type ColumnType = "VARCHAR" | "DOUBLE" | "INTEGER" | "BOOLEAN";

/**
 * (Re)creates `table` with the given typed columns and appends `rows` (plain values, in column
 * order) with DuckDB's appender: no SQL text is built from the values, so nothing needs quoting.
 */
export async function writeTable(
  conn: DuckDBConnection,
  table: `${string}.${string}`,
  columns: Readonly<Record<string, ColumnType>>,
  rows: readonly (readonly (string | number | boolean | null)[])[],
): Promise<void> {
  const [schema, name] = table.split(".") as [string, string];
  const names = Object.keys(columns);
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
  await conn.run(
    `CREATE OR REPLACE TABLE ${ident(schema)}.${ident(name)} (${names.map((c) => `${ident(c)} ${columns[c]}`).join(", ")})`,
  );
  for (const [i, row] of rows.entries())
    if (row.length !== names.length)
      throw new Error(`${table} row ${i + 1}: ${row.length} values for ${names.length} columns`);
  await appendRows(conn, table, rows);
}

/** Appends `rows` (plain values, in column order) to an existing table with DuckDB's appender. */
export async function appendRows(
  conn: DuckDBConnection,
  table: `${string}.${string}`,
  rows: readonly (readonly (string | number | boolean | null)[])[],
): Promise<void> {
  const [schema, name] = table.split(".") as [string, string];
  const appender = await conn.createAppender(name, schema);
  try {
    for (const row of rows) {
      // the typed calls: appendValue would make a DuckDB value of each (most of a large table's time);
      // a number goes in as appendValue would type it (INTEGER, BIGINT or DOUBLE), cast to the column
      for (const v of row) {
        if (v === null) appender.appendNull();
        else if (typeof v === "string") appender.appendVarchar(v);
        else if (typeof v === "boolean") appender.appendBoolean(v);
        else if (typeof v !== "number") appender.appendValue(v);
        else if (!Number.isInteger(v)) appender.appendDouble(v);
        else if (v >= -2_147_483_648 && v <= 2_147_483_647) appender.appendInteger(v);
        else appender.appendBigInt(BigInt(v));
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** A session variable's value: text, a number, a flag, a date (`{date}`) or a list. */
export type VariableValue =
  string | number | boolean | null | {date: string | null} | readonly string[] | readonly number[];

/**
 * Sets DuckDB session variables (read in SQL with `getvariable('name')`) from bound parameters.
 * Whole numbers become INTEGER (dates minus days need integers), others DOUBLE.
 */
export async function setVariables(
  conn: DuckDBConnection,
  vars: Readonly<Record<string, VariableValue>>,
): Promise<void> {
  for (const [name, v] of Object.entries(vars)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid SQL variable name "${name}"`);
    let sql = `SET VARIABLE ${name} = $1`;
    let value: DuckDBValue;
    if (v === null) value = null;
    else if (typeof v === "number") {
      value = v;
      sql += Number.isInteger(v) ? "::INTEGER" : "::DOUBLE";
    } else if (typeof v === "string" || typeof v === "boolean") value = v;
    else if (Array.isArray(v)) {
      value = listValue([...v]);
      sql += v.every((x) => typeof x === "number") && v.length ? "::DOUBLE[]" : "::VARCHAR[]";
      if (v.length && v.every((x) => Number.isInteger(x))) sql = sql.replace("::DOUBLE[]", "::INTEGER[]");
    } else {
      value = (v as {date: string | null}).date;
      sql += "::DATE";
    }
    await conn.run(sql, [value]);
  }
}
