/**
 * Spreadsheet values into typed values (loaders/coerce.ts), in real DuckDB: every spelling of a
 * number, boolean, date and missing value an export produces, and the per-column decisions.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {
  coerceSql,
  columnStyles,
  DEFAULT_STYLE,
  presentSql,
  settleDateOrder,
  spelledMissingCountSql,
  type ColumnStyle,
  type TextType,
} from "../loaders/coerce.ts";
import {all, lit, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";

let w: Warehouse;
beforeAll(async () => {
  w = await openWarehouse(":memory:");
});
afterAll(() => w.close());

async function read(type: TextType, values: string[], style: ColumnStyle = DEFAULT_STYLE): Promise<unknown[]> {
  const rows = await all<{x: unknown}>(
    w.conn,
    `SELECT ${coerceSql(type, presentSql("v"), style)} AS x FROM (SELECT unnest([${values.map(lit).join(", ")}]) AS v, generate_subscripts([${values.map(lit).join(", ")}], 1) AS i) ORDER BY i`,
  );
  return rows.map((r) => r.x);
}

describe("coercion of spreadsheet cells", () => {
  it("numbers: currency, thousands, negatives in parentheses, percent, exponents; nothing misread", async () => {
    expect(
      await read("DOUBLE", ["$1,234.50", "(300)", "12.5%", "1e6", " 42 ", "-7", "€12", "USD 99", "1,234", "3.0"]),
    ).toEqual([1234.5, -300, 0.125, 1e6, 42, -7, 12, 99, 1234, 3]);
    // a comma out of thousands place is not a thousands separator: "1,5" is not fifteen
    expect(await read("DOUBLE", ["1,5", "12,34.5", "abc", "1.2.3"])).toEqual([null, null, null, null]);
  });

  it("numbers with decimal commas, when the column writes them", async () => {
    const eu = {...DEFAULT_STYLE, decimalComma: true};
    expect(await read("DOUBLE", ["1.234,50", "12,5", "EUR 1 234,50", "(1,5)", "7", "1.234"], eu)).toEqual([
      1234.5, 12.5, 1234.5, -1.5, 7, 1234,
    ]);
  });

  it("integers must be whole", async () => {
    expect(await read("INTEGER", ["7", "7.0", "7.5", "1,000", "3e9"])).toEqual([7, 7, null, 1000, null]);
  });

  it("blanks and the spellings of missing are NULL", async () => {
    expect(await read("DOUBLE", ["", "  ", "N/A", "n/a", "#N/A", "null", "NULL", "-", "None", "NaN"])).toEqual(
      Array(10).fill(null),
    );
  });

  it("text: padded spellings of missing are NULL, longer or near ones are kept (trimmed); counted alike", async () => {
    const cells = [
      "  N/A  ",
      "   --   ",
      "#N/A",
      " NULL",
      "?",
      "N/A.",
      "NA1",
      "nulls",
      "  none of it ",
      "Ｎ/Ａ",
      " – ",
      "x",
    ];
    expect(await read("VARCHAR", cells)).toEqual([
      null,
      null,
      null,
      null,
      null,
      "N/A.",
      "NA1",
      "nulls",
      "none of it",
      "Ｎ/Ａ",
      "–",
      "x",
    ]);
    const [r] = await all<{n: number}>(
      w.conn,
      `SELECT ${spelledMissingCountSql("v")} AS n FROM (SELECT unnest([${[...cells, "", "  "].map(lit).join(", ")}]) AS v)`,
    );
    // blanks are not spellings: the ingest tells only "N/A"-like cells
    expect(Number(r!.n)).toBe(5);
  });

  it("booleans in their common spellings", async () => {
    expect(await read("BOOLEAN", ["TRUE", "False", "yes", "N", "1", "0", "on", "maybe"])).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
      true,
      null,
    ]);
  });

  it("dates: ISO, US, European, named months, with a time of day; the column decides the order", async () => {
    const us = await read("DATE", [
      "7/27/2023",
      "2023-07-27",
      "07/08/2023",
      "Jul 27, 2023",
      "27 Jul 2023",
      "7/27/2023 14:05",
      "7/27/23",
    ]);
    expect(us.map(String)).toEqual([
      "2023-07-27",
      "2023-07-27",
      "2023-07-08",
      "2023-07-27",
      "2023-07-27",
      "2023-07-27",
      "2023-07-27",
    ]);
    const eu = await read("DATE", ["27.07.2023", "27/07/2023", "07/08/2023"], {...DEFAULT_STYLE, dayFirst: true});
    expect(eu.map(String)).toEqual(["2023-07-27", "2023-07-27", "2023-08-07"]);
    const ts = await read("TIMESTAMP", ["2023-07-27T14:05:00Z", "7/27/2023 2:05 PM", "2023-07-27"]);
    expect(ts.map(String)).toEqual(["2023-07-27 14:05:00", "2023-07-27 14:05:00", "2023-07-27 00:00:00"]);
    expect(await read("DATE", ["2023-13-40", "someday"])).toEqual([null, null]);
  });

  it("times with an offset become the installation's local time; times without one are local already", async () => {
    const ny = {...DEFAULT_STYLE, timezone: "America/New_York"};
    const ts = await read(
      "TIMESTAMP",
      ["2023-07-27T02:05:00Z", "2023-07-27T08:05:00+02:00", "2023-07-27 02:05:00"],
      ny,
    );
    expect(ts.map(String)).toEqual(["2023-07-26 22:05:00", "2023-07-27 02:05:00", "2023-07-27 02:05:00"]);
    expect((await read("DATE", ["2023-07-27T02:05:00Z", "7/27/2023"], ny)).map(String)).toEqual([
      "2023-07-26",
      "2023-07-27",
    ]);
  });

  it("decides per column from all of its values: decimal comma, day-first, or undecidable", async () => {
    await w.conn.run(`CREATE OR REPLACE TABLE t AS SELECT * FROM (VALUES
      ('27/07/2023', '12,5', '1,234.5', '07/08/2023', '1.5'),
      ('03/08/2023', '1.234,5', '7', '01/02/2023', '2'),
      ('07/08/2023', NULL, '1.5', NULL, '3')) v(eu_date, eu_number, us_number, either_date, plain)`);
    const s = await columnStyles(w.conn, "t", {
      eu_date: "eu_date",
      eu_number: "eu_number",
      us_number: "us_number",
      either_date: "either_date",
      plain: "plain",
    });
    expect(s.eu_date).toMatchObject({dayFirst: true, ambiguousDates: false});
    expect(s.eu_number).toMatchObject({decimalComma: true});
    expect(s.us_number).toMatchObject({decimalComma: false});
    expect(s.either_date).toMatchObject({dayFirst: false, ambiguousDates: true});
    expect(s.plain).toMatchObject(DEFAULT_STYLE);
  });

  it("a column whose dates read both ways follows the file's other dates, else its separator", () => {
    const style = (o: Partial<ColumnStyle>): ColumnStyle => ({...DEFAULT_STYLE, ...o});
    const file = {
      signup: style({dayFirst: true}),
      start: style({ambiguousDates: true}), // every start is on the 1st: 01.10.2023 reads both ways
    };
    expect(settleDateOrder(file)).toEqual({start: "read day-first like the file's other dates"});
    expect(file.start.dayFirst).toBe(true);
    const alone = {dotted: style({ambiguousDates: true, dotDates: true}), slashed: style({ambiguousDates: true})};
    settleDateOrder(alone);
    expect([alone.dotted.dayFirst, alone.slashed.dayFirst]).toEqual([true, false]);
  });
});
