/**
 * Test helper: the tables of two warehouses that differ, value for value (two builds that must
 * agree: a database source and the same data as files, a refresh and a full build).
 */
import {all, lit, openWarehouse} from "../../loaders/duckdb.ts";

/**
 * The tables of two warehouses that differ (rows in one and not the other, both ways), with
 * columns that record when a build ran left out. Empty when they are equal value for value —
 * floating-point values to 1e-6: DuckDB's parallel sums add in an order that can differ between
 * two runs, as between two full builds of the same data.
 */
export async function differences(a: string, b: string, schemas: string[]): Promise<string[]> {
  const w = await openWarehouse(":memory:");
  try {
    await w.conn.run(`ATTACH ${lit(a)} AS a (READ_ONLY); ATTACH ${lit(b)} AS b (READ_ONLY)`);
    const tables = await all<{t: string; cols: string; other: number}>(
      w.conn,
      `SELECT schema_name || '.' || table_name AS t,
              (SELECT string_agg(CASE WHEN data_type IN ('DOUBLE', 'FLOAT') THEN 'round("' || column_name || '", 6)' ELSE '"' || column_name || '"' END, ', ' ORDER BY column_index) FROM duckdb_columns() c
               WHERE c.database_name = 'a' AND c.schema_name = x.schema_name AND c.table_name = x.table_name
                 AND column_name NOT IN ('built_at', 'generated_at', 'extracted_at', 'seconds', 'store_read_at', 'mode', 'rows_read')) AS cols,
              (SELECT count(*) FROM duckdb_tables() y WHERE y.database_name = 'b' AND y.schema_name = x.schema_name AND y.table_name = x.table_name) AS other
       FROM duckdb_tables() x WHERE database_name = 'a' AND schema_name IN (${schemas.map(lit).join(", ")}) ORDER BY 1`,
    );
    const out: string[] = [];
    for (const {t, cols, other} of tables) {
      if (!other) {
        out.push(`${t}: only in ${a}`);
        continue;
      }
      const [d] = await all<{n: number; rows: number}>(
        w.conn,
        `SELECT (SELECT count(*) FROM ((SELECT ${cols} FROM a.${t} EXCEPT ALL SELECT ${cols} FROM b.${t})
                 UNION ALL (SELECT ${cols} FROM b.${t} EXCEPT ALL SELECT ${cols} FROM a.${t}))) AS n,
                (SELECT count(*) FROM a.${t}) AS rows`,
      );
      if (d!.n) out.push(`${t}: ${d!.n} of ${d!.rows} rows differ`);
    }
    if (!tables.length) out.push(`no tables in ${schemas.join(", ")}`);
    const onlyB = await all<{t: string}>(
      w.conn,
      `SELECT schema_name || '.' || table_name AS t FROM duckdb_tables() y WHERE database_name = 'b' AND schema_name IN (${schemas.map(lit).join(", ")})
         AND NOT EXISTS (SELECT 1 FROM duckdb_tables() x WHERE x.database_name = 'a' AND x.schema_name = y.schema_name AND x.table_name = y.table_name)`,
    );
    for (const {t} of onlyB) out.push(`${t}: only in ${b}`);
    return out;
  } finally {
    w.close();
  }
}
