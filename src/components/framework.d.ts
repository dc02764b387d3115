/**
 * Type declarations for the `npm:` and Framework built-in modules that the site's components
 * import. Framework resolves these specifiers at build time (from its prepared cache, see
 * loaders/site/prepare-framework.ts); TypeScript only needs to know their shapes, which come
 * from the very packages installed in node_modules.
 */
declare module "npm:parquet-wasm" {
  export * from "parquet-wasm/esm/parquet_wasm.js";
  export {default} from "parquet-wasm/esm/parquet_wasm.js";
}

declare module "npm:@duckdb/duckdb-wasm" {
  export * from "@duckdb/duckdb-wasm";
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
  import type {AsyncDuckDB, DuckDBConfig} from "@duckdb/duckdb-wasm";
  import type {Table} from "apache-arrow";

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
    describeTables(): Promise<{name: string}[]>;
    static of(sources?: Record<string, unknown>, config?: DuckDBConfig): Promise<DuckDBClient>;
  }
  export function sql(strings: TemplateStringsArray, ...args: unknown[]): Promise<Table>;
}

declare module "npm:@observablehq/inputs" {
  /** The subset of Observable Inputs the components use (Framework ships Inputs itself). */
  type Format<T> = (value: T, index?: number, data?: unknown) => string | Node;
  export interface TableOptions<T> {
    columns?: readonly (keyof T & string)[];
    header?: Partial<Record<keyof T & string, string>>;
    format?: Partial<Record<keyof T & string, Format<never>>>;
    align?: Partial<Record<keyof T & string, "left" | "right" | "center">>;
    width?: number | Partial<Record<keyof T & string, number | string>>;
    sort?: keyof T & string;
    reverse?: boolean;
    rows?: number;
    height?: number;
    maxHeight?: number;
    select?: boolean;
    required?: boolean;
    layout?: "auto" | "fixed";
  }
  export function table<T>(data: Iterable<T>, options?: TableOptions<T>): HTMLElement & {value: T[]};
  export function select<T>(
    data: Iterable<T> | Map<string, T>,
    options?: {
      label?: string;
      value?: T;
      multiple?: boolean;
      format?: (x: T) => string;
      sort?: boolean;
      unique?: boolean;
    },
  ): HTMLElement & {value: T};
  export function radio<T>(
    data: Iterable<T>,
    options?: {label?: string; value?: T; format?: (x: T) => string},
  ): HTMLElement & {value: T};
  export function checkbox<T>(
    data: Iterable<T>,
    options?: {label?: string; value?: T[]; format?: (x: T) => string},
  ): HTMLElement & {value: T[]};
  export function range(
    extent: [number, number],
    options?: {label?: string; value?: number; step?: number; format?: (x: number) => string; width?: number},
  ): HTMLElement & {value: number};
  export function search<T>(
    data: Iterable<T>,
    options?: {
      label?: string;
      placeholder?: string;
      columns?: string[];
      format?: (n: number) => string;
      autocomplete?: string;
      filter?: (q: string) => (d: T) => boolean;
    },
  ): HTMLElement & {value: T[]};
  export function toggle(options?: {label?: string; value?: boolean}): HTMLElement & {value: boolean};
  export function button(
    content: string | [string, (v: unknown) => unknown][],
    options?: {label?: string; value?: unknown; reduce?: (v: unknown) => unknown},
  ): HTMLElement & {value: unknown};
  export function text(options?: {
    label?: string;
    placeholder?: string;
    value?: string;
    datalist?: Iterable<string>;
    submit?: boolean | string;
    autocomplete?: string;
    width?: number;
  }): HTMLElement & {value: string};
  export function number(
    extent?: [number, number],
    options?: {label?: string; value?: number; step?: number; width?: number},
  ): HTMLElement & {value: number};
}

declare module "observablehq:stdlib" {
  /** Framework's FileAttachment (literal paths only: Framework finds the files statically). */
  export interface AbstractFile {
    readonly name: string;
    readonly href: string;
    json(): Promise<unknown>;
    text(): Promise<string>;
    arrayBuffer(): Promise<ArrayBuffer>;
    url(): Promise<string>;
  }
  export function FileAttachment(name: string): AbstractFile;
}

declare module "npm:onnxruntime-web" {
  export * from "onnxruntime-web";
}

declare module "npm:apache-arrow" {
  export * from "apache-arrow";
}
