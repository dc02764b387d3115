/**
 * Helpers behind the site's thin data loaders (`src/data/*.arrow.ts`, `src/data/*.json.ts`).
 *
 * A loader is three lines: it names a published table (SITE_TABLES, site-tables.ts) or a SQL
 * query over the warehouse, and this module runs it
 * against the warehouse opened READ-ONLY and streams the result to stdout, which is where
 * Observable Framework reads a loader's output. The warehouse path comes from
 * `SAASGUARD_WAREHOUSE` (set by the site build step) and defaults to `data/warehouse.duckdb`.
 *
 * Only columns the query names are exported: loaders must never select PII columns
 * (`primary_contact_email` and the like), because everything under dist/ is public to its viewers.
 */
import {existsSync} from "node:fs";
import {mkdtemp, readFile, rm, stat} from "node:fs/promises";
import {createReadStream} from "node:fs";
import os from "node:os";
import path from "node:path";
import {pipeline} from "node:stream/promises";
import {DuckDBInstance} from "@duckdb/node-api";
import {lit} from "../../src/components/sql.ts";
import {siteTableQuery} from "./site-tables.ts";

/** Absolute path of the warehouse the loaders read. */
export function warehousePath(): string {
  return path.resolve(process.env.SAASGUARD_WAREHOUSE ?? "data/warehouse.duckdb");
}

/** Runs `COPY (<sql>) TO <tmp file> (<format>)` on the read-only warehouse; returns the file. */
async function copyToTempFile(
  sql: string,
  fileName: string,
  format: string,
): Promise<{file: string; cleanup: () => Promise<void>}> {
  const warehouse = warehousePath();
  if (!existsSync(warehouse))
    throw new Error(
      `warehouse not found: ${warehouse} — run \`npm run build\` first, or set SAASGUARD_WAREHOUSE to an existing DuckDB file`,
    );
  const dir = await mkdtemp(path.join(os.tmpdir(), "saasguard-export-"));
  const cleanup = () => rm(dir, {recursive: true, force: true});
  const file = path.join(dir, fileName);
  const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
  try {
    const connection = await instance.connect();
    try {
      const body = sql.trim().replace(/;\s*$/, "");
      await connection.run(`COPY (${body}) TO ${lit(file)} (${format})`);
    } finally {
      connection.closeSync();
    }
  } catch (error) {
    await cleanup();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`export from ${warehouse} failed: ${message}\n  query: ${sql.trim()}`);
  } finally {
    instance.closeSync();
  }
  return {file, cleanup};
}

async function streamToStdout(file: string): Promise<void> {
  await pipeline(createReadStream(file), process.stdout, {end: false});
}

/**
 * Streams the result of `sql` as an Arrow IPC stream (`.arrow` files) to stdout, for pages that
 * query it with DuckDB-WASM (src/components/db.ts): DuckDB-WASM takes Arrow IPC as it is, so the
 * browser neither downloads parquet-wasm nor decodes anything. Columns and values are exactly
 * what the browser would get from decoding the Parquet export with parquet-wasm (same library);
 * string columns that repeat are dictionary-encoded (`dictionaryEncodeStrings`). The site build
 * and the server compress the bytes (≈8× smaller with brotli).
 */
export async function exportArrow(sql: string): Promise<void> {
  const {file, cleanup} = await copyToTempFile(sql, "out.parquet", "FORMAT parquet, COMPRESSION zstd");
  try {
    const {readParquet} = await import("parquet-wasm/node");
    const ipc = await dictionaryEncodeStrings(readParquet(new Uint8Array(await readFile(file))).intoIPCStream());
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(ipc, (error) => (error ? reject(error) : resolve())),
    );
  } finally {
    await cleanup();
  }
}

/** Streams the published table `name` (SITE_TABLES in site-tables.ts) as an Arrow IPC stream. */
export async function exportSiteTable(name: string): Promise<void> {
  await exportArrow(siteTableQuery(name));
}

/**
 * The Arrow IPC stream `ipc` with every string column whose values repeat (at most a quarter as
 * many distinct values as rows, and at most 32,767) dictionary-encoded; other columns as they
 * are. Tier, industry, owner and driver columns shrink to a byte or two per row: at 100,000
 * customers the risk-scores stream goes from 25 MB to 10 MB, and a warm DuckDB-WASM page has
 * ~0.4 s less to decompress, copy and insert. DuckDB reads a dictionary column as VARCHAR.
 */
export async function dictionaryEncodeStrings(ipc: Uint8Array): Promise<Uint8Array> {
  const {Dictionary, Int8, Int16, Table, Type, Utf8, tableFromIPC, tableToIPC, vectorFromArray} =
    await import("apache-arrow");
  const table = tableFromIPC(ipc);
  const columns: Record<string, import("apache-arrow").Vector> = {};
  // ids numbered here, not by apache-arrow's process-wide counter: the same table gives the same
  // bytes whether its loader runs alone or after others in one process (loaders/site/run-loaders.ts)
  let dictionaryId = 0;
  for (const field of table.schema.fields) {
    const column = table.getChild(field.name)!;
    if (field.type.typeId === Type.Utf8) {
      const values = column.toArray() as (string | null)[];
      const distinct = new Set(values).size;
      if (values.length > 0 && distinct <= Math.min(32_767, values.length / 4)) {
        columns[field.name] = vectorFromArray(
          values,
          new Dictionary(new Utf8(), distinct <= 127 ? new Int8() : new Int16(), dictionaryId++),
        );
        continue;
      }
    }
    columns[field.name] = column;
  }
  return tableToIPC(new Table(columns), "stream");
}

/**
 * Streams the result of `sql` as JSON to stdout: an array of row objects, or — with
 * `{single: true}` — the one row itself (an error if the query returns any other number of rows).
 * DATE values become "YYYY-MM-DD" strings, TIMESTAMPs "YYYY-MM-DD HH:MM:SS" strings (UTC).
 */
export async function exportJson(sql: string, options: {single?: boolean} = {}): Promise<void> {
  const {file, cleanup} = await copyToTempFile(sql, "out.json", "FORMAT json, ARRAY true");
  try {
    if (!options.single) return await streamToStdout(file);
    if ((await stat(file)).size > 1_000_000)
      throw new Error(`exportJson({single: true}): result is too large to be one row`);
    const rows: unknown = JSON.parse(await readFile(file, "utf-8"));
    if (!Array.isArray(rows) || rows.length !== 1)
      throw new Error(
        `exportJson({single: true}): expected exactly one row, got ${Array.isArray(rows) ? rows.length : "no array"}\n  query: ${sql.trim()}`,
      );
    process.stdout.write(JSON.stringify(rows[0]) + "\n");
  } finally {
    await cleanup();
  }
}
