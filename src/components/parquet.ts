/**
 * parquet-wasm, loaded and initialised once per page from the copy Framework serves on this site
 * (no CDN). rows.ts and db.ts share it; db.ts asks for it only when a page passes a Parquet file.
 */
type ParquetWasm = typeof import("npm:parquet-wasm");

let ready: Promise<ParquetWasm> | undefined;

export function parquetWasm(): Promise<ParquetWasm> {
  ready ??= import("npm:parquet-wasm").then(async (parquet) => {
    await parquet.default({module_or_path: import.meta.resolve("npm:parquet-wasm/esm/parquet_wasm_bg.wasm")});
    return parquet;
  });
  return ready;
}
