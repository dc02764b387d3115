/**
 * A site data file as Arrow IPC bytes, for db.ts (DuckDB-WASM) and rows.ts (plain rows).
 *
 * The site publishes tables as `.arrows` files (Arrow IPC streams written by `exportArrow`,
 * repeated strings dictionary-encoded): they are used as they are, with nothing to download or
 * decode first. A `.parquet` file (a report author's own export, say) is decoded by parquet-wasm,
 * which is imported only then — a page reading only `.arrows` files never downloads it.
 */

/** What the loaders need from a Framework FileAttachment (`.arrows` or `.parquet`). */
export interface DataFile {
  readonly name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The file's table as an Arrow IPC stream (throws for a file that is neither format). */
export async function arrowIpc(file: DataFile): Promise<Uint8Array> {
  if (/\.arrows$/i.test(file.name)) return new Uint8Array(await file.arrayBuffer());
  if (!/\.parquet$/i.test(file.name)) throw new Error("expected an .arrows (Arrow IPC stream) or .parquet file");
  const [bytes, parquet] = await Promise.all([file.arrayBuffer(), import("./parquet.js").then((m) => m.parquetWasm())]);
  return parquet.readParquet(new Uint8Array(bytes)).intoIPCStream();
}
