/**
 * A site data file as Arrow IPC bytes, for db.ts (DuckDB-WASM) and rows.ts (plain rows).
 *
 * The site publishes tables as `.arrow` files holding Arrow IPC *streams* (written by
 * `exportArrow`, repeated strings dictionary-encoded) — the extension Framework's `sql:` front
 * matter reads, and the framing its DuckDB client expects. They are used as they are, with nothing
 * to download or decode first; `.arrows` (the stream format's own extension) is read the same way.
 * A `.parquet` file (a report author's own export, say) is decoded by parquet-wasm, which is
 * imported only then — a page reading only Arrow files never downloads it.
 */

/** What the loaders need from a Framework FileAttachment (`.arrow`, `.arrows` or `.parquet`). */
export interface DataFile {
  readonly name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The file's table as an Arrow IPC stream (throws for a file that is neither format). */
export async function arrowIpc(file: DataFile): Promise<Uint8Array> {
  if (/\.arrows?$/i.test(file.name)) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    // DuckDB-WASM quietly loads nothing, or part of a table, from bytes that are not one whole
    // stream: check its framing here (it starts with a continuation marker, and writers end it
    // with the end-of-stream marker, which a cut-off download lacks)
    const n = bytes.length;
    const marker = (at: number) =>
      bytes[at] === 0xff && bytes[at + 1] === 0xff && bytes[at + 2] === 0xff && bytes[at + 3] === 0xff;
    if (n < 16 || !marker(0))
      throw new Error("not an Arrow IPC stream (it does not start with the stream's continuation marker)");
    if (!marker(n - 8) || bytes[n - 4] !== 0 || bytes[n - 3] !== 0 || bytes[n - 2] !== 0 || bytes[n - 1] !== 0)
      throw new Error("the Arrow IPC stream is incomplete (it does not end with the end-of-stream marker)");
    return bytes;
  }
  if (!/\.parquet$/i.test(file.name))
    throw new Error("expected an .arrow or .arrows (Arrow IPC stream) or .parquet file");
  const [bytes, parquet] = await Promise.all([file.arrayBuffer(), import("./parquet.js").then((m) => m.parquetWasm())]);
  return parquet.readParquet(new Uint8Array(bytes)).intoIPCStream();
}
