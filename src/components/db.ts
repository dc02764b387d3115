/**
 * In-browser SQL over the site's data files — with no request leaving the page's origin.
 *
 * DuckDB-WASM cannot read Parquet offline (its `read_parquet` downloads the parquet extension
 * from the internet), so tables reach it as Arrow IPC streams through
 * `insertArrowFromIPCStream` (see ipc.ts): the site's `.arrow` files as they are, a `.parquet`
 * file decoded by parquet-wasm first.
 *
 * The database is Framework's own `DuckDBClient`, so ```sql cells work too once a page binds
 * `sql` to it.
 *
 * Usage in a page (FileAttachment must be called with a literal path, in the page). Call
 * `loadTables` before awaiting anything else: DuckDB-WASM's start-up (≈36 MB of wasm to compile
 * and instantiate in its worker) is the longest step of the page, and everything else can
 * overlap it.
 *
 * ```js
 * import {loadTables} from "./components/db.js";
 * const db = await loadTables({risk: FileAttachment("data/risk_scores.arrow")});
 * const sql = db.sql; // optional: makes ```sql cells query these tables
 * const [kpi] = await db.query("SELECT count(*) AS n FROM risk");
 * ```
 *
 * Loading costs one download of duckdb-wasm (≈5.3 MB brotli, 7.1 MB gzip): pages that need no
 * SQL should use `FileAttachment(...).json()` or rows.ts instead.
 */
import * as duckdb from "npm:@duckdb/duckdb-wasm";
import {DuckDBClient} from "npm:@observablehq/duckdb";
import {arrowIpc, type DataFile} from "./ipc.js";

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

/** The same duckdb-wasm files Framework's client uses (one copy on the site). */
const BUNDLES: duckdb.DuckDBBundles = {
  mvp: {
    mainModule: import.meta.resolve("npm:@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm"),
    mainWorker: import.meta.resolve("npm:@duckdb/duckdb-wasm/dist/duckdb-browser-mvp.worker.js"),
  },
  eh: {
    mainModule: import.meta.resolve("npm:@duckdb/duckdb-wasm/dist/duckdb-eh.wasm"),
    mainWorker: import.meta.resolve("npm:@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js"),
  },
};

/**
 * Framework's DuckDB client defaults, so results look the same as in ```sql cells: DATE and
 * TIMESTAMP values as Dates, BIGINT as numbers.
 */
export const QUERY_CONFIG = {castTimestampToDate: true, castBigIntToDouble: true} as const;

/**
 * Starts DuckDB-WASM. Framework's `DuckDBClient.of()` would do the same, but fetches the worker
 * script into a Blob before starting the worker (one more round trip on the critical path, and
 * a blob: worker never gets V8's script cache) — the worker is same-origin here, so it starts
 * from its URL.
 */
async function startDuckDB(): Promise<DuckDBClient> {
  // marks for bench/pages.ts: DuckDB's start-up, not the SQL, is what these pages wait for
  performance.mark("saasguard:duckdb-start");
  const bundle = await duckdb.selectBundle(BUNDLES);
  let worker: Worker;
  try {
    worker = new Worker(bundle.mainWorker!);
  } catch {
    // the script is on another origin (a CDN in front of the site): go through a blob: URL
    worker = await duckdb.createWorker(bundle.mainWorker!);
  }
  const db = new duckdb.AsyncDuckDB(new duckdb.ConsoleLogger(duckdb.LogLevel.WARNING), worker);
  try {
    await db.instantiate(bundle.mainModule);
    await db.open({query: QUERY_CONFIG});
  } catch (error) {
    worker.terminate();
    throw error;
  }
  performance.mark("saasguard:duckdb-ready");
  return new DuckDBClient(db);
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Converts an Arrow row proxy (or a plain object) to a plain object. */
function toPlainRow(row: unknown): Row {
  const maybe = row as {toJSON?: () => Row};
  return typeof maybe?.toJSON === "function" ? maybe.toJSON() : (row as Row);
}

/**
 * Fetches the files and loads each into an in-browser DuckDB table named by its key. DuckDB
 * starts while the files download (and decode), not after. Throws (naming the file) if a file
 * cannot be fetched, decoded or inserted.
 */
export async function loadTables(files: Record<string, DataFile>): Promise<Tables> {
  for (const name of Object.keys(files)) {
    if (!TABLE_NAME.test(name)) throw new Error(`loadTables: invalid table name ${JSON.stringify(name)}`);
  }
  const names = Object.keys(files);
  const fail = (name: string, file: DataFile) => (error: unknown) => {
    throw new Error(
      `loadTables: cannot load ${file.name} as table ${name}: ${error instanceof Error ? error.message : error}`,
    );
  };
  const started = startDuckDB();
  started.catch(() => {}); // awaited below, after the files (no unhandled-rejection report meanwhile)
  let ipcs: Uint8Array[];
  try {
    ipcs = await Promise.all(names.map((name) => arrowIpc(files[name]!).catch(fail(name, files[name]!))));
  } catch (error) {
    // no half-loaded database left running: stop the worker that was starting
    void started.then(
      (c) => c._db.terminate(),
      () => {},
    );
    throw error;
  }
  const client = await started;
  try {
    const connection = await client._db.connect();
    try {
      for (let i = 0; i < names.length; ++i) {
        await connection
          .insertArrowFromIPCStream(ipcs[i]!, {name: names[i]!, create: true})
          .catch(fail(names[i]!, files[names[i]!]!));
      }
    } finally {
      await connection.close();
    }
  } catch (error) {
    await client._db.terminate();
    throw error;
  }
  performance.mark("saasguard:tables-loaded");
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
