/**
 * Test helper: a folder of valid raw CSV files (made by the synthetic generator through the
 * same code path as `npm run generate`), which tests then break in precise ways.
 */
import {mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {CONTRACT} from "../../loaders/contract.ts";
import {generateSynthetic} from "../../loaders/synthetic/generate.ts";
import {lit, openWarehouse} from "../../loaders/duckdb.ts";

export const TEST_AS_OF = "2026-06-30";

/** Writes every raw table of a small synthetic portfolio as CSV into a fresh temp folder. */
export async function makeRawCsvDir(customers = 150, seed = 7): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-raw-"));
  const w = await openWarehouse(":memory:");
  try {
    await generateSynthetic(w.conn, {customers, seed, asOf: TEST_AS_OF});
    for (const t of CONTRACT) await w.conn.run(`COPY raw.${t.name} TO ${lit(join(dir, `${t.name}.csv`))} (HEADER)`);
  } finally {
    w.close();
  }
  return dir;
}

/** Replaces one cell of a CSV file (line is 1-based, the header is line 1). */
export function setCell(file: string, line: number, column: string, value: string): void {
  const lines = readFileSync(file, "utf8").split("\n");
  const header = lines[0]!.split(",");
  const idx = header.indexOf(column);
  if (idx < 0) throw new Error(`no column ${column} in ${file}`);
  const cells = lines[line - 1]!.split(",");
  cells[idx] = value;
  lines[line - 1] = cells.join(",");
  writeFileSync(file, lines.join("\n"));
}

export function readCell(file: string, line: number, column: string): string {
  const lines = readFileSync(file, "utf8").split("\n");
  const idx = lines[0]!.split(",").indexOf(column);
  return lines[line - 1]!.split(",")[idx]!;
}
