/**
 * Type declarations for the `npm:` and Framework built-in modules that the site's components
 * import. Framework resolves these specifiers at build time (from its prepared cache, see
 * loaders/site/prepare-framework.ts); TypeScript only needs to know their shapes, which come
 * from the very packages installed in node_modules.
 */
declare module "npm:parquet-wasm" {
  export * from "parquet-wasm/esm/parquet_wasm.js";
  export { default } from "parquet-wasm/esm/parquet_wasm.js";
}

declare module "npm:@observablehq/plot" {
  export * from "@observablehq/plot";
}

declare module "npm:d3" {
  export * from "d3";
}

declare module "npm:htl" {
  export * from "htl";
}

declare module "npm:@observablehq/duckdb" {
  import type { AsyncDuckDB, DuckDBConfig } from "@duckdb/duckdb-wasm";
  import type { Table } from "apache-arrow";

  /** Framework's DuckDB client (node_modules/@observablehq/framework/dist/client/stdlib/duckdb.js). */
  export class DuckDBClient {
    /** the underlying duckdb-wasm database */
    readonly _db: AsyncDuckDB;
    constructor(db: AsyncDuckDB);
    /** runs a query; returns an Arrow table (iterable of row proxies) */
    query(query: string, params?: unknown[]): Promise<Table>;
    queryRow(query: string, params?: unknown[]): Promise<Record<string, unknown> | null>;
    /** tagged-template form used by Framework's ```sql cells */
    sql(strings: TemplateStringsArray, ...args: unknown[]): Promise<Table>;
    describeTables(): Promise<{ name: string }[]>;
    static of(sources?: Record<string, unknown>, config?: DuckDBConfig): Promise<DuckDBClient>;
  }
  export function sql(strings: TemplateStringsArray, ...args: unknown[]): Promise<Table>;
}
