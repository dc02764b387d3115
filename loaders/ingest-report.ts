/**
 * How ingest problems are told: root causes first, grouped by rule with a count and a few
 * examples, and cascades summarised last.
 *
 * Every problem is a row of ingest.problems with a kind:
 *  - "file": the file as a whole cannot be used (empty, not UTF-8, a required column missing, an
 *    unterminated quote): it fails the build even with --lenient, and it is listed first;
 *  - "row": one row breaks one rule (quarantined with --lenient);
 *  - "cascade": a row that is only wrong because a row it refers to was rejected, or a check
 *    that could not run because the table it checks against did not load.
 * An empty customers.csv used to bury its one cause under 164,279 "unknown customer_id" lines;
 * now the report reads "customers.csv: file is empty" and one cascade line per dependent file.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {CONTRACT} from "./contract.ts";
import {all, one, run} from "./duckdb.ts";

export type ProblemKind = "file" | "row" | "cascade";

export interface ProblemGroup {
  kind: ProblemKind;
  table: string;
  file: string;
  column: string | null;
  rule: string;
  /** problems in the group */
  count: number;
  /** distinct values among them (for a cascade: how many referenced rows were rejected) */
  values: number;
  /** the first few, in file order */
  examples: {row: number | null; value: string | null}[];
}

export class IngestError extends Error {
  constructor(
    readonly groups: ProblemGroup[],
    readonly total: number,
    reportPath?: string,
  ) {
    super(formatGroups(groups, total, reportPath));
    this.name = "IngestError";
  }
}

/** How many groups the error message lists; the full list is in the report file. */
const MAX_GROUPS = 40;
const EXAMPLES = 3;

export async function ensureProblemTables(conn: DuckDBConnection): Promise<void> {
  await run(conn, "CREATE SCHEMA IF NOT EXISTS ingest");
  await run(
    conn,
    "CREATE TABLE IF NOT EXISTS ingest.problems (table_name VARCHAR, file VARCHAR, row_number BIGINT, column_name VARCHAR, value VARCHAR, rule VARCHAR, kind VARCHAR)",
  );
  await run(
    conn,
    "CREATE TABLE IF NOT EXISTS ingest.rejected_rows (table_name VARCHAR, file VARCHAR, row_number BIGINT, rules VARCHAR)",
  );
  // values outside the installation's vocabulary: kept (they mean "other"), counted, reported
  await run(
    conn,
    "CREATE TABLE IF NOT EXISTS ingest.unknown_values (table_name VARCHAR, column_name VARCHAR, kind VARCHAR, value VARCHAR, n BIGINT)",
  );
}

export async function problemCount(conn: DuckDBConnection, kind?: ProblemKind): Promise<number> {
  const where = kind ? ` WHERE kind = '${kind}'` : "";
  return (await one<{n: number}>(conn, `SELECT count(*) AS n FROM ingest.problems${where}`)).n;
}

/** The problems grouped by (kind, file, column, rule): root causes first, in contract order. */
export async function groupProblems(conn: DuckDBConnection): Promise<ProblemGroup[]> {
  const order = CONTRACT.map((t, i) => `WHEN '${t.name}' THEN ${i}`).join(" ");
  const rows = await all<{
    kind: ProblemKind;
    table_name: string;
    file: string;
    column_name: string | null;
    rule: string;
    n: number;
    values: number;
    example_rows: (number | null)[];
    example_values: (string | null)[];
  }>(
    conn,
    `SELECT * FROM (
       SELECT kind, table_name, file, column_name, rule, count(*) AS n, count(DISTINCT value) AS values, min(row_number) AS first_row,
         list(row_number ORDER BY row_number NULLS FIRST)[1:${EXAMPLES}] AS example_rows,
         list(value ORDER BY row_number NULLS FIRST)[1:${EXAMPLES}] AS example_values
       FROM ingest.problems GROUP BY kind, table_name, file, column_name, rule)
     ORDER BY CASE kind WHEN 'file' THEN 0 WHEN 'row' THEN 1 ELSE 2 END, CASE table_name ${order} END, first_row NULLS FIRST, rule`,
  );
  return rows.map((r) => ({
    kind: r.kind,
    table: r.table_name,
    file: r.file,
    column: r.column_name,
    rule: r.rule,
    count: r.n,
    values: r.values,
    examples: r.example_rows.map((row, i) => ({row, value: r.example_values[i] ?? null})),
  }));
}

const n = (x: number) => x.toLocaleString("en-US");
const quoted = (v: string | null) => (v == null ? "" : JSON.stringify(v.length > 80 ? v.slice(0, 80) + "…" : v));

export function formatGroup(g: ProblemGroup): string {
  const col = g.column ? ` column "${g.column}"` : "";
  if (g.count === 1) {
    const {row, value} = g.examples[0]!;
    const where = row == null ? g.file : `${g.file}:${row}`;
    return `${where}${col}${value == null ? "" : ` value ${quoted(value)}`}: ${g.rule}`;
  }
  // "usage_events.csv column "customer_id": 297,648 rows refer to 240 rejected rows of customers"
  const ref = g.kind === "cascade" ? /^refers to a rejected row of (\w+)$/.exec(g.rule) : null;
  if (ref)
    return `${g.file}${col}: ${n(g.count)} rows refer to ${n(g.values)} rejected ${g.values === 1 ? "row" : "rows"} of ${ref[1]}`;
  const examples = g.examples
    .filter((e) => e.row != null)
    .map((e) => `line ${e.row}${e.value == null ? "" : ` ${quoted(e.value)}`}`);
  const eg = examples.length ? `: ${examples.join(", ")}${g.count > examples.length ? ", …" : ""}` : "";
  return `${g.file}${col}: ${g.rule} — ${n(g.count)} rows${eg}`;
}

export function formatGroups(groups: ProblemGroup[], total: number, reportPath?: string): string {
  const causes = groups.filter((g) => g.kind !== "cascade");
  const cascades = groups.filter((g) => g.kind === "cascade");
  const lines = [...causes, ...cascades].slice(0, MAX_GROUPS).map((g) => "  " + formatGroup(g));
  const hidden = groups.length - lines.length;
  const head =
    `raw data failed validation: ${causes.length} root cause${causes.length === 1 ? "" : "s"}` +
    (cascades.length ? ` and ${cascades.length} consequence${cascades.length === 1 ? "" : "s"}` : "") +
    ` (${n(total)} problem${total === 1 ? "" : "s"} in all${reportPath ? `; every one is listed in ${reportPath}` : ""}):`;
  return [head, ...lines, ...(hidden > 0 ? [`  … and ${hidden} more group${hidden === 1 ? "" : "s"}`] : [])].join("\n");
}
