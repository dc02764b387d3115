/**
 * SQL quoting, the one place it is written: DuckDB string literals and identifiers. Node (the
 * pipeline, the site's data loaders) and the browser (DuckDB-WASM queries on the pages) both
 * import it; prefer bound parameters where the query API takes them.
 */

/** A SQL string literal: `it's` → `'it''s'`. */
export function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier: `my "col"` → `"my ""col"""`. */
export function ident(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}
