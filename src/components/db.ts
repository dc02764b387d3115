/**
 * In-browser SQL over the site's Parquet files — with no request leaving the page's origin.
 *
 * DuckDB-WASM cannot read Parquet offline (its `read_parquet` downloads the parquet extension
 * from the internet), so each file is decoded by parquet-wasm into an Arrow IPC stream and
 * inserted into DuckDB-WASM as a table. The database is Framework's own `DuckDBClient`, so
 * ```sql cells work too once a page binds `sql` to it.
 *
 * Usage in a page (FileAttachment must be called with a literal path, in the page):
 *
 * ```js
 * import {loadTables} from "./components/db.js";
 * const db = await loadTables({risk: FileAttachment("data/risk_scores.parquet")});
 * const sql = db.sql; // optional: makes ```sql cells query these tables
 * const [kpi] = await db.query("SELECT count(*) AS n FROM risk");
 * ```
 *
 * Loading costs one download of duckdb-wasm (~7.7 MB gzipped) and parquet-wasm (~1.6 MB
 * gzipped): pages that need no SQL should use `FileAttachment(...).json()` and friends instead.
 */
import { DuckDBClient } from "npm:@observablehq/duckdb";
import initParquet, { readParquet } from "npm:parquet-wasm";

/** What `loadTables` needs from a Framework FileAttachment. */
export interface ParquetFile {
  readonly name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** One result row: column name → value (numbers, strings, booleans, Dates, or null). */
export type Row = Record<string, unknown>;

/** The loaded database. */
export interface Tables {
  /** Framework's DuckDB client holding one table per loaded file */
  readonly client: DuckDBClient;
  /** names of the loaded tables */
  readonly tables: readonly string[];
  /** runs `query` (with optional `?` parameters) and returns plain row objects */
  query<T extends Row = Row>(query: string, params?: unknown[]): Promise<T[]>;
  /** the first row of the result, or null */
  queryRow<T extends Row = Row>(query: string, params?: unknown[]): Promise<T | null>;
  /** tagged template for Framework ```sql cells: `const sql = db.sql;` */
  sql(strings: TemplateStringsArray, ...args: unknown[]): ReturnType<DuckDBClient["sql"]>;
}

let parquetReady: Promise<unknown> | undefined;

/** Initialises parquet-wasm once, from the copy Framework serves on this site. */
function ensureParquet(): Promise<unknown> {
  parquetReady ??= initParquet({ module_or_path: import.meta.resolve("npm:parquet-wasm/esm/parquet_wasm_bg.wasm") });
  return parquetReady;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Decodes a Parquet file to an Arrow IPC stream. */
async function parquetToIpc(file: ParquetFile): Promise<Uint8Array> {
  const [bytes] = await Promise.all([file.arrayBuffer(), ensureParquet()]);
  const table = readParquet(new Uint8Array(bytes));
  return table.intoIPCStream();
}

/** Converts an Arrow row proxy (or a plain object) to a plain object. */
function toPlainRow(row: unknown): Row {
  const maybe = row as { toJSON?: () => Row };
  return typeof maybe?.toJSON === "function" ? maybe.toJSON() : (row as Row);
}

/**
 * Fetches Parquet files and loads each into an in-browser DuckDB table named by its key.
 * Throws (naming the file) if a file cannot be fetched or decoded.
 */
export async function loadTables(files: Record<string, ParquetFile>): Promise<Tables> {
  for (const name of Object.keys(files)) {
    if (!TABLE_NAME.test(name)) throw new Error(`loadTables: invalid table name ${JSON.stringify(name)}`);
  }
  const [client, ...ipcs] = await Promise.all([
    DuckDBClient.of(),
    ...Object.entries(files).map(([name, file]) =>
      parquetToIpc(file).catch((error: unknown) => {
        throw new Error(`loadTables: cannot load ${file.name} as table ${name}: ${error instanceof Error ? error.message : error}`);
      }),
    ),
  ]);
  const names = Object.keys(files);
  const connection = await client._db.connect();
  try {
    for (let i = 0; i < names.length; ++i) {
      await connection.insertArrowFromIPCStream(ipcs[i]!, { name: names[i]!, create: true });
    }
  } finally {
    await connection.close();
  }
  return {
    client,
    tables: names,
    async query<T extends Row = Row>(query: string, params?: unknown[]): Promise<T[]> {
      const table = await client.query(query, params);
      return Array.from(table, (row) => toPlainRow(row) as T);
    },
    async queryRow<T extends Row = Row>(query: string, params?: unknown[]): Promise<T | null> {
      const row = await client.queryRow(query, params);
      return row === null ? null : (toPlainRow(row) as T);
    },
    sql: (strings: TemplateStringsArray, ...args: unknown[]) => client.sql(strings, ...args),
  };
}
