/**
 * Ingest of user files in data/raw: every malformed input is reported with file, row, column,
 * value and rule; strict mode writes nothing; lenient mode quarantines and continues.
 */
import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build} from "../loaders/build.ts";
import {CONTRACT} from "../loaders/contract.ts";
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
    setCell(customers, 4, "signup_date", "");
    setCell(customers, 5, "seats_purchased", "many");
    setCell(usage, 2, "event_date", "2025-13-40");
    setCell(usage, 3, "customer_id", "C999999");
    setCell(usage, 4, "event_date", "2031-01-01");
    const e = await ingestError(dir);
    const text = e.message;
    expect(text).toMatch(/customers\.csv:3 column "arr" value "-5(\.0)?": must be ≥ 0/);
    expect(text).toMatch(/customers\.csv:4 column "signup_date": required value is empty/);
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
    // the two rows sharing a key are one group, with both lines as examples
    expect(e.message).toMatch(
      /usage_events\.csv column "customer_id, event_date, event_type": duplicate key \([^)]+\) — 2 rows: line 3 "[^"]+", line 5 "[^"]+"/,
    );
    expect(e.message).toMatch(
      /usage_events\.csv:7 value "C000001,2026-01-01": malformed CSV line: fewer fields than the header's 4/,
    );
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
    expect(e.message).toMatch(/support_tickets\.csv: lacks required column "priority" \(columns found: [^)]*prio/);
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

/** Edits the lines of one raw file (index 0 is the header). */
function editLines(file: string, edit: (lines: string[]) => void): void {
  const lines = readFileSync(file, "utf8").split("\n");
  edit(lines);
  writeFileSync(file, lines.join("\n"));
}

/** The report's listed lines, in order, without the folder (the first is the headline). */
const reportLines = (e: IngestError) =>
  e.message.split("\n").map((l) => l.trim().replace(/^.*\/(?=[a-z_]+\.(csv|parquet))/, ""));

describe("hostile and careless files: root causes first, nothing stored wrong", () => {
  it("a stray quote fails the build naming its own line, with or without valid quoted values elsewhere", async () => {
    for (const alsoQuoted of [false, true]) {
      const dir = copyRaw();
      const customers = join(dir, "customers.csv");
      editLines(customers, (l) => {
        l[5] = l[5]!.replace(/^([^,]+),/, '$1,"'); // line 6: company name opens a quote it never closes
        if (alsoQuoted) l[9] = l[9]!.replace(/^([^,]+),[^,]+,/, '$1,"Acme, Inc.",'); // line 10: a valid quoted value
      });
      for (const lenient of [false, true]) {
        const w = await openWarehouse(":memory:");
        const e = (await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF, lenient}).catch((x: unknown) => x)) as IngestError;
        w.close();
        expect(e).toBeInstanceOf(IngestError);
        const lines = reportLines(e);
        expect(lines[0]).toMatch(/^raw data failed validation: 1 root cause/);
        expect(lines[1]).toMatch(
          /^customers\.csv:6 value "C\d+,\\"[^"]*": malformed CSV line: a quoted value starts here and is never closed/,
        );
        expect(e.message).not.toMatch(/customers\.csv:10/);
        expect(e.message).not.toMatch(/unknown customer_id/);
      }
    }
  });

  it("properly quoted values keep their commas and quotes; BOM, semicolons and CRLF are read as the same rows", async () => {
    const dir = copyRaw();
    const customers = join(dir, "customers.csv");
    editLines(customers, (l) => {
      l[1] = l[1]!.replace(/^([^,]+),[^,]+,/, '$1,"Acme, ""The Best"" Inc.",');
    });
    for (const t of ["customers", "support_tickets"]) {
      const p = join(dir, `${t}.csv`);
      const text = readFileSync(p, "utf8");
      // semicolon-separated the way a European spreadsheet writes it: commas stay inside quotes
      const semi = text
        .split("\n")
        .map((line) => {
          let out = "";
          let quoted = false;
          for (const ch of line) {
            if (ch === '"') quoted = !quoted;
            out += ch === "," && !quoted ? ";" : ch;
          }
          return out;
        })
        .join("\r\n");
      writeFileSync(p, "\ufeff" + semi);
    }
    const w = await openWarehouse(":memory:");
    try {
      const report = await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF});
      expect(report.problems).toBe(0);
      expect(report.tables.customers!.rows).toBe(150);
      const [first] = await all<{company_name: string}>(w.conn, "SELECT company_name FROM raw.customers LIMIT 1");
      expect(first!.company_name).toBe('Acme, "The Best" Inc.');
      const n = await all<{n: number}>(w.conn, "SELECT count(*) AS n FROM raw.support_tickets");
      expect(n[0]!.n).toBe(readFileSync(join(clean, "support_tickets.csv"), "utf8").trim().split("\n").length - 1);
    } finally {
      w.close();
    }
  });

  it.each([
    ["an empty file", (p: string) => writeFileSync(p, ""), /^customers\.csv: file is empty$/],
    [
      "a header without rows",
      (p: string) => editLines(p, (l) => l.splice(1)),
      /^customers\.csv: has a header but no data rows$/,
    ],
    [
      "a missing required column",
      (p: string) =>
        editLines(p, (l) => {
          const i = l[0]!.split(",").indexOf("arr");
          for (let k = 0; k < l.length; k++) if (l[k]) l[k] = l[k]!.split(",").toSpliced(i, 1).join(",");
        }),
      /^customers\.csv: lacks required column "arr" \(columns found: customer_id, /,
    ],
    [
      "a UTF-16 file",
      (p: string) =>
        writeFileSync(p, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(readFileSync(p, "utf8"), "utf16le")])),
      /^customers\.csv: file is not UTF-8: looks like UTF-16 little-endian/,
    ],
    [
      "a UTF-16 file without byte-order mark",
      (p: string) => writeFileSync(p, Buffer.from(readFileSync(p, "utf8"), "utf16le")),
      /^customers\.csv: file is not UTF-8: looks like UTF-16 little-endian/,
    ],
    [
      "a Latin-1 file",
      (p: string) => writeFileSync(p, readFileSync(p, "utf8").replace("Holdings", "Höldings"), "latin1"),
      /^customers\.csv: file is not UTF-8: byte 0xF6 at offset \d+ is not UTF-8/,
    ],
  ])("%s in customers.csv is told first and alone; its dependents get one line each", async (_, spoil, cause) => {
    const dir = copyRaw();
    spoil(join(dir, "customers.csv"));
    const e = await ingestError(dir);
    const lines = reportLines(e);
    expect(lines[0]).toMatch(/^raw data failed validation: 1 root cause and \d+ consequences/);
    expect(lines[1]).toMatch(cause);
    // every other line is one per dependent file, not one per row
    expect(lines.slice(2).every((l) => /not checked against customers, which could not be loaded/.test(l))).toBe(true);
    // one line per table that refers to customers, whatever their number
    expect(e.total).toBeLessThanOrEqual(CONTRACT.length);
  });

  it("a header-only optional table is loaded empty with a note", async () => {
    const dir = copyRaw();
    editLines(join(dir, "nps_responses.csv"), (l) => l.splice(1));
    const w = await openWarehouse(":memory:");
    try {
      const notes: string[] = [];
      const report = await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF, progress: (m) => notes.push(m)});
      expect(report.tables.nps_responses!.rows).toBe(0);
      expect(notes.join("\n")).toMatch(/nps_responses\.csv has a header but no data rows/);
    } finally {
      w.close();
    }
  });

  it("a malformed line is one problem at its own line, also when it is 10 MB long; rows referring to it are its consequences", async () => {
    const dir = copyRaw();
    const customers = join(dir, "customers.csv");
    const ragged = readCell(customers, 8, "customer_id");
    const huge = readCell(customers, 31, "customer_id");
    editLines(customers, (l) => {
      l[7] = l[7] + ",extra,cells"; // line 8: too many fields (DuckDB records two errors for it)
      l[30] = l[30]!.replace(/^([^,]+),[^,]+,/, `$1,${"x".repeat(10_000_000)},`); // line 31
    });
    const w = await openWarehouse(":memory:");
    try {
      const e = (await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF}).catch((x: unknown) => x)) as IngestError;
      expect(e).toBeInstanceOf(IngestError);
      const perLine = await all<{row_number: number; n: number}>(
        w.conn,
        "SELECT row_number, count(*) AS n FROM ingest.problems WHERE table_name = 'customers' GROUP BY ALL ORDER BY 1",
      );
      expect(perLine).toEqual([
        {row_number: 8, n: 1},
        {row_number: 31, n: 1},
      ]);
      const lines = reportLines(e);
      expect(lines[0]).toMatch(/^raw data failed validation: 2 root causes and \d+ consequences/);
      expect(lines[1]).toMatch(
        /^customers\.csv:8 value "[^"]+": malformed CSV line: more fields than the header's 13$/,
      );
      expect(lines[2]).toMatch(/^customers\.csv:31 value "[^"]{0,100}": malformed CSV line: longer than 2 MB$/);
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^usage_events\.csv column "customer_id": [\d,]+ rows refer to 2 rejected rows of customers$/,
        ),
      );
      expect(e.message).not.toMatch(/unknown customer_id/);
      const cascades = await all<{value: string}>(
        w.conn,
        "SELECT DISTINCT value FROM ingest.problems WHERE kind = 'cascade' AND row_number IS NOT NULL ORDER BY 1",
      );
      expect(cascades.map((c) => c.value)).toEqual([ragged, huge].sort());
    } finally {
      w.close();
    }
  });

  it("a rejected customer is one root cause; the rows that refer to it are summarised, not listed", async () => {
    const dir = copyRaw();
    const customers = join(dir, "customers.csv");
    setCell(customers, 4, "arr", "-1");
    setCell(customers, 5, "arr", "-2");
    const e = await ingestError(dir);
    const lines = reportLines(e);
    expect(lines[1]).toMatch(
      /^customers\.csv column "arr": must be ≥ 0 — 2 rows: line 4 "-1(\.0)?", line 5 "-2(\.0)?"$/,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^usage_events\.csv column "customer_id": [\d,]+ rows refer to 2 rejected rows of customers$/,
      ),
    );
    expect(lines.length).toBeLessThanOrEqual(CONTRACT.length + 1);
    expect(e.message).not.toMatch(/unknown customer_id/);
  });
});

describe("files as spreadsheets write them", () => {
  /** raw.<table> of a folder, as JSON text per row, in key order. */
  async function rowsOf(dir: string, table: string, notes: string[] = []): Promise<string[]> {
    const w = await openWarehouse(":memory:");
    try {
      await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF, progress: (m) => notes.push(m)});
      return (await all(w.conn, `SELECT * FROM raw.${table} ORDER BY ALL`)).map((r) => JSON.stringify(r));
    } finally {
      w.close();
    }
  }
  /** Rewrites one CSV file's cells with `cell(column, value)`, joining with `delimiter`. */
  function rewrite(file: string, cell: (column: string, value: string) => string, delimiter = ","): void {
    const [header, ...lines] = readFileSync(file, "utf8").trimEnd().split("\n");
    const names = header!.split(",");
    const out = lines.map((l) =>
      l
        .split(",")
        .map((v, i) => cell(names[i]!, v))
        .join(delimiter),
    );
    writeFileSync(file, [names.join(delimiter), ...out].join("\n") + "\n");
  }
  const usDate = (v: string) => v.replace(/^(\d{4})-(\d{2})-(\d{2})$/, (_, y, m, d) => `${+m}/${+d}/${y}`);
  const euDate = (v: string) => v.replace(/^(\d{4})-(\d{2})-(\d{2})$/, (_, y, m, d) => `${d}.${m}.${y}`);

  it("US exports: $1,234.50, 7/27/2023 and N/A read as the same rows as the plain file", async () => {
    const dir = copyRaw();
    rewrite(join(dir, "customers.csv"), (c, v) =>
      c === "arr"
        ? `"$${Number(v).toLocaleString("en-US", {minimumFractionDigits: 2})}"`
        : /_date$/.test(c)
          ? usDate(v)
          : c === "primary_contact_email" && v.endsWith("0@example.com")
            ? "N/A"
            : v,
    );
    rewrite(join(dir, "subscription_changes.csv"), (c, v) => (c === "seats_delta" && v === "" ? "n/a" : v));
    const notes: string[] = [];
    const [plain, spreadsheet] = [await rowsOf(clean, "customers"), await rowsOf(dir, "customers", notes)];
    const withoutEmail = (rows: string[]) => rows.map((r) => r.replace(/"primary_contact_email":[^,]*,/, ""));
    expect(withoutEmail(spreadsheet)).toEqual(withoutEmail(plain));
    expect(spreadsheet.filter((r) => r.includes('"primary_contact_email":null')).length).toBeGreaterThan(0);
    expect(notes.join("\n")).toMatch(/primary_contact_email: \d+ cell\(s\) like "N\/A" read as missing/);
    expect(notes.join("\n")).not.toMatch(/day-first/);
    expect(await rowsOf(dir, "subscription_changes")).toEqual(await rowsOf(clean, "subscription_changes"));
  });

  it("European exports: semicolons, decimal commas and 27.07.2023 read as the same rows", async () => {
    const dir = copyRaw();
    rewrite(
      join(dir, "customers.csv"),
      (c, v) => (c === "arr" ? v.replace(".", ",") : /_date$/.test(c) ? euDate(v) : v),
      ";",
    );
    const notes: string[] = [];
    expect(await rowsOf(dir, "customers", notes)).toEqual(await rowsOf(clean, "customers"));
    expect(notes.join("\n")).toMatch(/arr: decimal commas/);
    expect(notes.join("\n")).toMatch(/contract_start_date: dates day-first/);
  });

  it("a cell no reading makes a number is still a type problem", async () => {
    const dir = copyRaw();
    setCell(join(dir, "customers.csv"), 3, "arr", "about 5k");
    const e = await ingestError(dir);
    expect(e.message).toMatch(/customers\.csv:3 column "arr" value "about 5k": type: not a valid DOUBLE/);
  });
});
