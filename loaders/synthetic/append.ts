/** Column-buffered appends into DuckDB through data chunks (far faster than row-wise appends). */
import {
  DuckDBDataChunk,
  DATE,
  DOUBLE,
  INTEGER,
  TIMESTAMP,
  VARCHAR,
  BOOLEAN,
  dateValue,
  timestampValue,
} from "@duckdb/node-api";
import type {DuckDBAppender, DuckDBConnection, DuckDBType, DuckDBValue} from "@duckdb/node-api";
import type {ColumnType} from "../contract.ts";

/** JS values accepted per column: dates are day numbers, timestamps are epoch microseconds. */
export type Cell = string | number | boolean | null;

const DUCK_TYPES: Record<ColumnType, DuckDBType> = {VARCHAR, DATE, TIMESTAMP, DOUBLE, INTEGER, BOOLEAN};
const CHUNK = 2048;

export class ChunkWriter {
  private readonly cols: DuckDBValue[][];
  private n = 0;
  rows = 0;

  private constructor(
    private readonly appender: DuckDBAppender,
    private readonly types: readonly ColumnType[],
  ) {
    this.cols = types.map(() => []);
  }

  static async open(
    conn: DuckDBConnection,
    schema: string,
    table: string,
    types: readonly ColumnType[],
  ): Promise<ChunkWriter> {
    return new ChunkWriter(await conn.createAppender(table, schema), types);
  }

  push(row: readonly Cell[]): void {
    for (let i = 0; i < this.types.length; i++) {
      const v = row[i];
      let out: DuckDBValue;
      if (v === null || v === undefined) out = null;
      else if (this.types[i] === "DATE") out = dateValue(v as number);
      else if (this.types[i] === "TIMESTAMP") out = timestampValue(BigInt(Math.round(v as number)));
      else out = v as DuckDBValue;
      this.cols[i]!.push(out);
    }
    this.n++;
    this.rows++;
    if (this.n === CHUNK) this.flush();
  }

  private flush(): void {
    if (this.n === 0) return;
    const chunk = DuckDBDataChunk.create(
      this.types.map((t) => DUCK_TYPES[t]),
      this.n,
    );
    chunk.setColumns(this.cols);
    this.appender.appendDataChunk(chunk);
    for (const c of this.cols) c.length = 0;
    this.n = 0;
  }

  close(): void {
    this.flush();
    this.appender.closeSync();
  }
}
