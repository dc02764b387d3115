/**
 * A site data file (`.arrow`, or `.parquet` via parquet-wasm: see ipc.ts) → plain row objects in
 * the browser, without DuckDB: apache-arrow reads the Arrow IPC stream. For dashboards that
 * filter, sort and aggregate a few thousand to a hundred thousand accounts in JavaScript, this
 * costs a fraction of DuckDB-WASM's start-up; pages that need real SQL use db.ts.
 *
 * Values come out as JavaScript numbers (64-bit integers converted), strings, booleans, `Date`
 * for DATE/TIMESTAMP columns, arrays and plain objects for LIST and STRUCT columns, or null.
 */
import {tableFromIPC} from "npm:apache-arrow";
import {asciiStrings, dictionaryStrings} from "./arrow-strings.js";
import {arrowIpc, type DataFile} from "./ipc.js";

/** An Arrow LIST or STRUCT value (a Vector or a struct-row proxy) as plain arrays and objects. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? Number(value) : value;
  if (value instanceof Date) return value;
  const v = value as {type?: unknown; toArray?: () => unknown; toJSON?: () => unknown};
  // a Vector (a LIST cell): iterate its values
  if (v.type !== undefined && typeof v.toArray === "function") return Array.from(value as Iterable<unknown>, plain);
  // a struct row: its fields
  if (typeof v.toJSON === "function") {
    const fields = v.toJSON() as Record<string, unknown>;
    return Object.fromEntries(Object.entries(fields).map(([k, x]) => [k, plain(x)]));
  }
  return value;
}

/** Reads every row of an `.arrow` or `.parquet` file (throws naming the file when it cannot). */
export async function loadRows<T = Record<string, unknown>>(file: DataFile): Promise<T[]> {
  try {
    const table = tableFromIPC(await arrowIpc(file));
    const names = table.schema.fields.map((f) => f.name);
    const isDate = table.schema.fields.map((f) => /Date|Timestamp/.test(String(f.type)));
    // whole columns at once, nulls included (Arrow's iteration yields null for a missing value),
    // so the row loop below makes no per-cell validity lookups
    const columns = names.map((n) => {
      const v = table.getChild(n)!;
      if (/^(Float|Int|Uint)\d*$/.test(String(v.type)) && v.nullCount === 0) return v.toArray() as ArrayLike<unknown>;
      if (v.type.children?.length) return Array.from(v as Iterable<unknown>, plain);
      return (
        (String(v.type) === "Utf8" && asciiStrings(v)) || dictionaryStrings(v) || Array.from(v as Iterable<unknown>)
      );
    });
    const out: T[] = new Array(table.numRows);
    for (let i = 0; i < table.numRows; i++) {
      const row: Record<string, unknown> = {};
      for (let j = 0; j < names.length; j++) {
        const v = columns[j]![i] ?? null;
        row[names[j]!] = typeof v === "bigint" ? Number(v) : isDate[j] && typeof v === "number" ? new Date(v) : v;
      }
      out[i] = row as T;
    }
    return out;
  } catch (error) {
    throw new Error(`loadRows: cannot read ${file.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
