/**
 * Ingest of user files in data/raw: every malformed input is reported with file, row, column,
 * value and rule; strict mode writes nothing; lenient mode quarantines and continues.
 */
import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build} from "../loaders/build.ts";
import {IngestError, ingestFiles} from "../loaders/ingest.ts";
import {all, lit, openWarehouse} from "../loaders/duckdb.ts";
import {makeRawCsvDir, readCell, setCell, TEST_AS_OF} from "./helpers/raw-files.ts";

let clean: string;
const work: string[] = [];

/** A fresh copy of the valid raw folder to break. */
function copyRaw(): string {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-bad-"));
  cpSync(clean, dir, {recursive: true});
  work.push(dir);
  return dir;
}

async function ingestError(dir: string): Promise<IngestError> {
  const w = await openWarehouse(":memory:");
  try {
    await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF});
  } catch (e) {
    if (e instanceof IngestError) return e;
    throw e;
  } finally {
    w.close();
  }
  throw new Error("ingest unexpectedly succeeded");
}

beforeAll(async () => {
  clean = await makeRawCsvDir(150, 7);
  work.push(clean);
});
afterAll(() => {
  for (const d of work) rmSync(d, {recursive: true, force: true});
});

describe("ingest of raw files", () => {
  it("loads valid files into raw.* with the same rows as the source", async () => {
    const w = await openWarehouse(":memory:");
    try {
      const report = await ingestFiles(w.conn, clean, {asOf: TEST_AS_OF});
      expect(report.problems).toBe(0);
      for (const [table, r] of Object.entries(report.tables)) {
        const lines =
          readFileSync(join(clean, `${table}.csv`), "utf8")
            .trimEnd()
            .split("\n").length - 1;
        expect(r.rows, table).toBe(lines);
      }
      const [row] = await all<{n: number}>(w.conn, "SELECT count(*) AS n FROM raw.customers WHERE arr >= 0");
      expect(row!.n).toBe(report.tables.customers!.rows);
    } finally {
      w.close();
    }
  });

  it("names file, line, column, value and rule for each bad cell", async () => {
    const dir = copyRaw();
    const customers = join(dir, "customers.csv");
    const usage = join(dir, "usage_events.csv");
    setCell(customers, 3, "arr", "-5");
    setCell(customers, 4, "plan_tier", "Platinum");
    setCell(customers, 5, "seats_purchased", "many");
    setCell(usage, 2, "event_date", "2025-13-40");
    setCell(usage, 3, "customer_id", "C999999");
    setCell(usage, 4, "event_date", "2031-01-01");
    const e = await ingestError(dir);
    const text = e.message;
    expect(text).toMatch(/customers\.csv:3 column "arr" value "-5(\.0)?": must be ≥ 0/);
    expect(text).toMatch(/customers\.csv:4 column "plan_tier" value "Platinum": not an accepted value/);
    expect(text).toMatch(/customers\.csv:5 column "seats_purchased" value "many": type: not a valid INTEGER/);
    expect(text).toMatch(/usage_events\.csv:2 column "event_date" value "2025-13-40": type: not a valid DATE/);
    expect(text).toMatch(
      /usage_events\.csv:3 column "customer_id" value "C999999": unknown customer_id \(not in customers\)/,
    );
    expect(text).toMatch(
      /usage_events\.csv:4 column "event_date" value "2031-01-01": date more than 400 days after the as-of date/,
    );
    expect(e.total).toBeGreaterThanOrEqual(6);
  });

  it("reports duplicate keys, broken row rules and malformed CSV lines at the right line", async () => {
    const dir = copyRaw();
    const usage = join(dir, "usage_events.csv");
    const lines = readFileSync(usage, "utf8").split("\n");
    lines[4] = lines[2]!; // line 5 duplicates line 3's (customer, day, type)
    lines.splice(6, 0, "C000001,2026-01-01"); // line 7: too few fields
    writeFileSync(usage, lines.join("\n"));
    const customers = join(dir, "customers.csv");
    setCell(customers, 2, "renewal_date", "2000-01-01");
    const e = await ingestError(dir);
    expect(e.message).toMatch(
      /usage_events\.csv:3 column "customer_id, event_date, event_type" value "[^"]+": duplicate key/,
    );
    expect(e.message).toMatch(
      /usage_events\.csv:5 column "customer_id, event_date, event_type" value "[^"]+": duplicate key/,
    );
    expect(e.message).toMatch(/usage_events\.csv:7 value "C000001,2026-01-01": malformed CSV line/);
    expect(e.message).toMatch(
      /customers\.csv:2 column "renewal_date" value "2000-01-01": violates contract_start_date <= renewal_date/,
    );
    // a row after the malformed line keeps its true line number
    setCell(usage, 9, "event_count", "-1");
    expect((await ingestError(dir)).message).toMatch(
      /usage_events\.csv:9 column "event_count" value "-1": must be ≥ 0/,
    );
  });

  it("reports missing required columns, tables and unreadable files", async () => {
    const dir = copyRaw();
    const tickets = join(dir, "support_tickets.csv");
    const lines = readFileSync(tickets, "utf8").split("\n");
    lines[0] = lines[0]!.replace("priority", "prio");
    writeFileSync(tickets, lines.join("\n"));
    rmSync(join(dir, "gtm_opportunities.csv"));
    writeFileSync(join(dir, "nps_responses.parquet"), "not a parquet file");
    rmSync(join(dir, "nps_responses.csv"));
    const e = await ingestError(dir);
    expect(e.message).toMatch(/support_tickets\.csv:1 column "priority": required column "priority" is missing/);
    expect(e.message).toMatch(/gtm_opportunities\.csv: required table raw\.gtm_opportunities is missing/);
    expect(e.message).toMatch(/nps_responses\.parquet: cannot be read as Parquet/);
  });

  it("rejects ambiguous and unknown files", async () => {
    const dir = copyRaw();
    writeFileSync(join(dir, "customer.csv"), "a,b\n1,2\n");
    await expect(ingestError(dir)).rejects.toThrow(/customer\.csv match no raw table/);
    rmSync(join(dir, "customer.csv"));
    writeFileSync(join(dir, "customers.parquet"), "");
    await expect(ingestError(dir)).rejects.toThrow(/both customers\.csv and customers\.parquet/);
  });

  it("--lenient quarantines bad rows (and rows that referenced them) and goes on", async () => {
    const dir = copyRaw();
    const customers = join(dir, "customers.csv");
    const badCustomer = readCell(customers, 3, "customer_id");
    setCell(customers, 3, "arr", "-1");
    setCell(join(dir, "usage_events.csv"), 2, "event_count", "lots");
    const w = await openWarehouse(":memory:");
    try {
      const messages: string[] = [];
      const report = await ingestFiles(w.conn, dir, {
        asOf: TEST_AS_OF,
        lenient: true,
        progress: (m) => messages.push(m),
      });
      expect(report.tables.customers!.rejected).toBe(1);
      expect(report.tables.usage_events!.rejected).toBeGreaterThanOrEqual(1);
      expect(messages.join("\n")).toMatch(/--lenient: \d+ problem\(s\); customers: 1 row\(s\) quarantined/);
      const left = await all<{n: number}>(
        w.conn,
        `SELECT count(*) AS n FROM raw.usage_events WHERE customer_id = ${lit(badCustomer)}`,
      );
      expect(left[0]!.n).toBe(0);
      const q = await all<{row_number: number; rules: string}>(
        w.conn,
        "SELECT row_number, rules FROM ingest.rejected_rows WHERE table_name = 'customers'",
      );
      expect(q).toEqual([{row_number: 3, rules: "arr: must be ≥ 0"}]);
    } finally {
      w.close();
    }
  });

  it("reads Parquet files too", async () => {
    const dir = copyRaw();
    const w = await openWarehouse(":memory:");
    try {
      await w.conn.run(
        `COPY (FROM read_csv(${lit(join(dir, "customers.csv"))})) TO ${lit(join(dir, "customers.parquet"))} (FORMAT parquet)`,
      );
      rmSync(join(dir, "customers.csv"));
      const report = await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF});
      expect(report.tables.customers!.rows).toBe(150);
    } finally {
      w.close();
    }
  });

  it("a failed build writes nothing: the previous warehouse stays untouched", async () => {
    const root = mkdtempSync(join(tmpdir(), "saasguard-build-"));
    work.push(root);
    const warehousePath = join(root, "warehouse.duckdb");
    const first = await build({
      asOf: TEST_AS_OF,
      source: "files",
      rawDir: clean,
      warehousePath,
      site: false,
      log: () => {},
    });
    expect(first.source).toBe("files");
    const before = statSync(warehousePath);
    const dir = copyRaw();
    setCell(join(dir, "customers.csv"), 2, "arr", "free");
    await expect(
      build({asOf: TEST_AS_OF, source: "files", rawDir: dir, warehousePath, site: false, log: () => {}}),
    ).rejects.toThrow(/customers\.csv:2 column "arr" value "free"/);
    const after = statSync(warehousePath);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.size).toBe(before.size);
    expect(existsSync(`${warehousePath}.tmp-${process.pid}`)).toBe(false);
  });
});
