/**
 * What every published column means, in a CS team's words: the data dictionary page shows these
 * next to each table's columns (SITE_TABLES in site-tables.ts), and a test fails when a published
 * column has none.
 *
 * A column name means the same in every table it appears in, so it is written once here;
 * `"<table>.<column>"` keys say what differs in one table (a column that is an aggregate there).
 */
export const COLUMN_MEANINGS: Readonly<Record<string, string>> = {
  customer_id: "The account's id in the source CRM (stable across builds).",
};

/** The meaning of `column` in `table`, or undefined when none is written. */
export function columnMeaning(table: string, column: string): string | undefined {
  return COLUMN_MEANINGS[`${table}.${column}`] ?? COLUMN_MEANINGS[column];
}
