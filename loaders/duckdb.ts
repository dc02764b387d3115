/**
 * Thin helpers over @duckdb/node-api: open the warehouse, run SQL files, read rows as plain
 * JavaScript values. Everything in the pipeline talks to DuckDB through these.
 */
import {DuckDBConnection, DuckDBInstance, type DuckDBValue} from "@duckdb/node-api";
import {readFileSync} from "node:fs";

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

export async function run(
  conn: DuckDBConnection,
  sql: string,
  params?: DuckDBValue[] | Record<string, DuckDBValue>,
): Promise<void> {
  await conn.run(sql, params);
}

export function readSql(path: string): string {
  return readFileSync(path, "utf8");
}

/** SQL string literal. */
export function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Quoted identifier. */
export function ident(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}
