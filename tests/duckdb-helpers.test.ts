/**
 * writeTable / appendRows (loaders/duckdb.ts): plain JavaScript values go into DuckDB's columns as
 * DuckDB's own casts would put them there, whichever typed appender call carries them.
 */
import {describe, expect, it} from "vitest";
import {all, appendRows, openWarehouse, writeTable} from "../loaders/duckdb.ts";

describe("writing plain values into a table", () => {
  it("text, whole numbers (beyond 32 bits too), fractions, flags and nulls keep their values in every column type", async () => {
    const w = await openWarehouse(":memory:");
    try {
      await w.conn.run(
        "CREATE TABLE main.t (i INTEGER, b BIGINT, d DOUBLE, s VARCHAR, f BOOLEAN, day DATE, n INTEGER)",
      );
      await appendRows(w.conn, "main.t", [
        [7, 2 ** 40, 0.25, "Acme | Co", true, "2026-12-07", null],
        [-2_147_483_648, -(2 ** 53 - 1), 3, "", false, "2024-02-29", 2.5],
        [null, null, null, null, null, null, 42],
      ]);
      const rows = await all(
        w.conn,
        `SELECT i, b, d, s, f, CAST(day AS VARCHAR) AS day, n, n = CAST(2.5::DOUBLE AS INTEGER) AS n_cast FROM main.t ORDER BY rowid`,
      );
      expect(rows).toEqual([
        {i: 7, b: 2 ** 40, d: 0.25, s: "Acme | Co", f: true, day: "2026-12-07", n: null, n_cast: null},
        // a fraction in an INTEGER column is rounded as DuckDB casts a DOUBLE (half to even: 2)
        {i: -2_147_483_648, b: -(2 ** 53 - 1), d: 3, s: "", f: false, day: "2024-02-29", n: 2, n_cast: true},
        {i: null, b: null, d: null, s: null, f: null, day: null, n: 42, n_cast: false},
      ]);
      // a value the column cannot hold is refused, not stored as something else
      await expect(writeTable(w.conn, "main.u", {i: "INTEGER"}, [[2 ** 40]])).rejects.toThrow();
      await w.conn.run("CREATE TABLE main.v (day DATE)");
      await expect(appendRows(w.conn, "main.v", [["not a date"]])).rejects.toThrow();
    } finally {
      w.close();
    }
  });
});
