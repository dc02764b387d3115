/**
 * Spreadsheet values into typed values, in DuckDB SQL: what a CSV exported from Excel, Google
 * Sheets or a CRM holds — `$1,234.50`, `(300)`, `12.5%`, `1.234,50`, `TRUE`/`yes`, `7/27/2023`,
 * `27.07.2023`, `N/A` and blank cells — read as numbers, booleans and dates. One cast per cell,
 * no JavaScript per row.
 *
 * What cannot be told from one cell is decided once per column from all of its cells (like the
 * CSV dialect, csv-file.ts): whether `1.234,50` style decimal commas are in use, and whether
 * `7/8/2023` is July 8 (month first) or 7 August (day first) — a column with a day above 12 in
 * first place is day-first, one with it in second place month-first; a column where every date
 * could be either is read month-first and the reading is reported.
 *
 * Used by the ingest of raw files (against the contract's types) and by `npm run train --
 * --table` (which infers each column's type from what its cells coerce to).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {all, ident, lit} from "./duckdb.ts";

export type TextType = "VARCHAR" | "DATE" | "TIMESTAMP" | "DOUBLE" | "INTEGER" | "BOOLEAN";

/** Cell texts that mean "no value" (compared trimmed and lower-cased). */
export const MISSING = ["", "na", "n/a", "#n/a", "null", "none", "nan", "-", "--", "?"];

/** How one column writes what one cell cannot tell. */
export interface ColumnStyle {
  decimalComma: boolean;
  dayFirst: boolean;
  /** the column's day/month order was not decidable from its own values (every date could be either) */
  ambiguousDates: boolean;
  /** its own values prove month-first (a day above 12 in second place) */
  decidedMonthFirst?: boolean;
  /** its dates are written with dots (27.07.2023): a day-first habit */
  dotDates?: boolean;
  /**
   * the installation's time zone (IANA name, from the source mapping): a time written with an
   * offset ("2023-07-27T02:05:00Z") becomes that zone's local time (and date); one without an
   * offset is taken as local already
   */
  timezone?: string;
}

export const DEFAULT_STYLE: ColumnStyle = {decimalComma: false, dayFirst: false, ambiguousDates: false};

/**
 * Settles the columns whose dates read both ways, using the rest of the file: one export writes
 * all its dates alike, so an undecidable column takes the order its decided siblings agree on;
 * failing that, dots mean day-first (27.07.2023) and slashes month-first (7/8/2023). Returns how
 * each undecidable column was settled, for the ingest's notes.
 */
export function settleDateOrder(styles: Record<string, ColumnStyle>): Record<string, string> {
  const decided = Object.values(styles).filter((s) => !s.ambiguousDates && (s.dayFirst || s.decidedMonthFirst));
  const orders = new Set(decided.map((s) => s.dayFirst));
  const how: Record<string, string> = {};
  for (const [name, s] of Object.entries(styles)) {
    if (!s.ambiguousDates) continue;
    if (orders.size === 1) {
      s.dayFirst = [...orders][0]!;
      how[name] = `read ${s.dayFirst ? "day" : "month"}-first like the file's other dates`;
    } else {
      s.dayFirst = s.dotDates === true;
      how[name] = s.dayFirst ? "read day-first (written with dots)" : "read month-first (7/8/2023 = July 8)";
    }
  }
  return how;
}

/**
 * SQL: the text `v`, trimmed and lower-cased, is one of `spellings`. Its trimmed length is tested
 * first, and only inside a CASE does DuckDB skip the rest for the rows that fail it (an aggregate's
 * FILTER evaluates both sides): lower-casing every cell of a 147M-row usage file took 2–4 s a
 * column, the length test 0.4 s. No letter outside ASCII lower-cases to an ASCII one of these
 * spellings, so a cell longer than the longest is never one of them.
 */
function spelledSql(v: string, spellings: readonly string[]): string {
  const bytes = Math.max(...spellings.map((m) => m.length));
  return `strlen(trim(${v})) <= ${bytes} AND lower(trim(${v})) IN (${spellings.map(lit).join(", ")})`;
}

/** The trimmed text, or NULL when it is one of the MISSING spellings. */
export function presentSql(v: string): string {
  return `CASE WHEN ${spelledSql(v, MISSING)} THEN NULL ELSE trim(${v}) END`;
}

/** The MISSING spellings that are written out ("N/A", "-"), blanks apart. */
const SPELLED_MISSING = MISSING.filter((m) => m !== "");

/** SQL counting the cells of `v` spelled as missing ("N/A", "-"), blanks apart. */
export function spelledMissingCountSql(v: string): string {
  return `count(CASE WHEN ${spelledSql(v, SPELLED_MISSING)} THEN 1 END)`;
}

const BOOLEAN_TRUE = ["true", "t", "yes", "y", "1", "on", "x"];
const BOOLEAN_FALSE = ["false", "f", "no", "n", "0", "off"];

/** Thousands separators must sit in thousands places, so "1,5" is never read as 15. */
const POINT_NUMBER = String.raw`^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$`;
const COMMA_NUMBER = String.raw`^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$`;

/** A number from text: currency signs and codes, spaces, thousands separators, (negative), %. */
function numberSql(v: string, style: ColumnStyle): string {
  // the core: no currency, no spaces (incl. no-break and thin spaces), no surrounding parentheses or %
  const s = `regexp_replace(${v}, '[\\s\\x{00a0}\\x{202f}$€£¥]|\\b(USD|EUR|GBP|CHF|JPY)\\b', '', 'g')`;
  const core = `trim(${s}, '()%')`;
  const parsed = style.decimalComma
    ? `CASE WHEN regexp_matches(${core}, ${lit(COMMA_NUMBER)}) THEN TRY_CAST(replace(replace(${core}, '.', ''), ',', '.') AS DOUBLE) END`
    : `CASE WHEN regexp_matches(${core}, ${lit(POINT_NUMBER)}) THEN TRY_CAST(replace(${core}, ',', '') AS DOUBLE) END`;
  const sign = `CASE WHEN ${s} LIKE '(%)' THEN -1 ELSE 1 END`;
  const scale = `CASE WHEN ${s} LIKE '%\\%' ESCAPE '\\' THEN 0.01 ELSE 1 END`;
  // plain numbers (1e6, -3.5) cast directly, the rest are cleaned first — but in a decimal-comma
  // column "1.234" is one thousand two hundred and thirty-four, never cast as written
  const plain = style.decimalComma
    ? `CASE WHEN NOT contains(${v}, '.') AND NOT contains(${v}, ',') THEN TRY_CAST(${v} AS DOUBLE) END`
    : `TRY_CAST(${v} AS DOUBLE)`;
  return `coalesce(${plain}, ${parsed} * ${sign} * ${scale})`;
}

const DATE_FORMATS = (dayFirst: boolean) => {
  const [a, b] = dayFirst ? ["%d", "%m"] : ["%m", "%d"];
  // two-digit years first: %Y would read "23" as the year 23 (a four-digit year fails %y and goes on)
  return [
    "%Y-%m-%d",
    "%Y/%m/%d",
    `${a}/${b}/%y`,
    `${a}.${b}.%y`,
    `${a}/${b}/%Y`,
    `${a}.${b}.%Y`,
    `${a}-${b}-%Y`,
    "%d %b %Y",
    "%b %d, %Y",
    "%d-%b-%Y",
  ];
};
const TIME_SUFFIXES = [" %H:%M:%S", " %H:%M", "T%H:%M:%S", " %I:%M %p", " %I:%M:%S %p"];

function dateSql(v: string, style: ColumnStyle, type: "DATE" | "TIMESTAMP"): string {
  // a DATE column takes a date with a time of day too (an export's "7/27/2023 14:05")
  const dates = DATE_FORMATS(style.dayFirst);
  const formats = [...dates, ...dates.flatMap((d) => TIME_SUFFIXES.map((t) => d + t))];
  const list = `[${formats.map(lit).join(", ")}]`;
  const local = `coalesce(TRY_CAST(${v} AS ${type}), CAST(try_strptime(${v}, ${list}) AS ${type}))`;
  if (!style.timezone) return local;
  return `CASE WHEN regexp_matches(${v}, '(Z|[+-]\\d{2}(:?\\d{2})?)$') AND TRY_CAST(${v} AS TIMESTAMPTZ) IS NOT NULL
    THEN CAST(timezone(${lit(style.timezone)}, TRY_CAST(${v} AS TIMESTAMPTZ)) AS ${type}) ELSE ${local} END`;
}

/** SQL turning the text expression `v` (already trimmed, NULL when missing) into `type`; NULL when it cannot. */
export function coerceSql(type: TextType, v: string, style: ColumnStyle = DEFAULT_STYLE): string {
  switch (type) {
    case "VARCHAR":
      return v;
    case "DOUBLE":
      return numberSql(v, style);
    case "INTEGER": {
      const x = numberSql(v, style);
      return `CASE WHEN ${x} = round(${x}) AND abs(${x}) < 2147483648 THEN CAST(${x} AS INTEGER) END`;
    }
    case "BOOLEAN":
      return `CASE WHEN lower(${v}) IN (${BOOLEAN_TRUE.map(lit).join(", ")}) THEN true WHEN lower(${v}) IN (${BOOLEAN_FALSE.map(lit).join(", ")}) THEN false END`;
    case "DATE":
    case "TIMESTAMP":
      return dateSql(v, style, type);
  }
}

/**
 * Decides each column's style from all of its (present) values in one scan of `relation`.
 * `columns` maps an output name to a text expression over the relation.
 */
export async function columnStyles(
  conn: DuckDBConnection,
  relation: string,
  columns: Record<string, string>,
): Promise<Record<string, ColumnStyle>> {
  const names = Object.keys(columns);
  if (!names.length) return {};
  const parts = names.flatMap((n, i) => {
    const v = columns[n]!;
    const d = `regexp_extract(${v}, '^(\\d{1,2})[/.-](\\d{1,2})[/.-]\\d{2,4}', ['a', 'b'])`;
    // only values a plain cast cannot read are looked at (in a 150M-row usage file, hardly any)
    const odd = `TRY_CAST(${v} AS DOUBLE) IS NULL`;
    const oddDate = `TRY_CAST(${v} AS TIMESTAMP) IS NULL`;
    return [
      // a decimal comma is certain when a value reads only that way: "12,5", "1.234,5"
      `count(*) FILTER (WHERE ${odd} AND ${v} LIKE '%,%' AND regexp_matches(${v}, ${lit(COMMA_NUMBER)}) AND NOT regexp_matches(${v}, ${lit(POINT_NUMBER)})) AS c${i}`,
      // …and a decimal point when one reads only that way: "1.5", "1,234.5"
      `count(*) FILTER (WHERE ${v} LIKE '%.%' AND regexp_matches(${v}, ${lit(POINT_NUMBER)}) AND NOT regexp_matches(${v}, ${lit(COMMA_NUMBER)})) AS p${i}`,
      `max(TRY_CAST(nullif(${d}.a, '') AS INTEGER)) FILTER (WHERE ${oddDate}) AS a${i}`,
      `max(TRY_CAST(nullif(${d}.b, '') AS INTEGER)) FILTER (WHERE ${oddDate}) AS b${i}`,
      `count(*) FILTER (WHERE ${oddDate} AND regexp_matches(${v}, '^\\d{1,2}\\.\\d{1,2}\\.\\d{2,4}')) AS d${i}`,
    ];
  });
  const [r] = await all<Record<string, number | null>>(conn, `SELECT ${parts.join(", ")} FROM ${relation}`);
  const out: Record<string, ColumnStyle> = {};
  names.forEach((n, i) => {
    const a = r![`a${i}`] ?? 0;
    const b = r![`b${i}`] ?? 0;
    out[n] = {
      decimalComma: (r![`c${i}`] ?? 0) > 0 && (r![`p${i}`] ?? 0) === 0,
      dayFirst: a > 12 && b <= 12,
      decidedMonthFirst: b > 12 && a <= 12,
      ambiguousDates: a > 0 && a <= 12 && b <= 12,
      dotDates: (r![`d${i}`] ?? 0) > 0,
    };
  });
  return out;
}

/** A text relation's column as `type`, for a CREATE TABLE … AS SELECT list. */
export function typedColumnSql(type: TextType, column: string, style: ColumnStyle): string {
  return `${coerceSql(type, presentSql(ident(column)), style)} AS ${ident(column)}`;
}

/**
 * The type each text column of `relation` holds, from what all of its present values coerce to:
 * numbers (in any spreadsheet spelling) before booleans before dates, else text. A column of
 * numbers with a few blank or "N/A" cells is a number column with missing values.
 */
export async function inferTypes(
  conn: DuckDBConnection,
  relation: string,
  columns: readonly string[],
): Promise<Record<string, {type: TextType; style: ColumnStyle}>> {
  const text = Object.fromEntries(columns.map((c) => [c, presentSql(ident(c))]));
  const styles = await columnStyles(conn, relation, text);
  settleDateOrder(styles);
  const tries: TextType[] = ["DOUBLE", "BOOLEAN", "DATE"];
  const parts = columns.flatMap((c, i) => [
    `count(${text[c]}) AS n${i}`,
    ...tries.map((t, k) => `count(${coerceSql(t, text[c]!, styles[c])}) AS t${i}_${k}`),
  ]);
  const [r] = await all<Record<string, number>>(conn, `SELECT ${parts.join(", ")} FROM ${relation}`);
  return Object.fromEntries(
    columns.map((c, i) => {
      const n = r![`n${i}`]!;
      const k = tries.findIndex((_, j) => n > 0 && r![`t${i}_${j}`] === n);
      return [c, {type: k < 0 ? "VARCHAR" : tries[k]!, style: styles[c]!}];
    }),
  );
}
