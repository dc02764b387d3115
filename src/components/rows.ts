/**
 * A site data file (`.arrows`, or `.parquet` via parquet-wasm: see ipc.ts) → plain row objects in
 * the browser, without DuckDB: apache-arrow reads the Arrow IPC stream. For dashboards that
 * filter, sort and aggregate a few thousand to a hundred thousand accounts in JavaScript, this
 * costs a fraction of DuckDB-WASM's start-up; pages that need real SQL use db.ts.
 *
 * Values come out as JavaScript numbers (64-bit integers converted), strings, booleans, `Date`
 * for DATE/TIMESTAMP columns, or null.
 */
import {tableFromIPC} from "npm:apache-arrow";
import {asciiStrings, dictionaryStrings} from "./arrow-strings.js";
import {arrowIpc, type DataFile} from "./ipc.js";

/** Reads every row of an `.arrows` or `.parquet` file (throws naming the file when it cannot). */
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
