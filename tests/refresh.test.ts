/**
 * The nightly refresh (loaders/refresh.ts): a build on top of the previous warehouse reuses the
 * days of usage whose raw rows did not change, and its warehouse equals a full build of the same
 * data, table for table and value for value — after a late day arrives, after a past day is
 * corrected, and when the recipe (SQL, vocabulary, engine) changed, which reuses nothing.
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build} from "../loaders/build.ts";
import {lit, one, openWarehouse} from "../loaders/duckdb.ts";
import {differences} from "./helpers/compare-warehouses.ts";
import {makeRawCsvDir, TEST_AS_OF} from "./helpers/raw-files.ts";

let root: string;
/** the whole portfolio as raw CSV files */
let full: string;
/** the same files without the last day of usage (it arrives a night late) */
let lateDay: string;
let lastDay: string;

async function sql(statements: string): Promise<void> {
  const w = await openWarehouse(":memory:");
  try {
    await w.conn.run(statements);
  } finally {
    w.close();
  }
}

/** Builds `raw` into `folder`/warehouse.duckdb (on top of what is there); returns the build's log. */
async function buildInto(folder: string, raw: string, fullRefresh = false): Promise<string[]> {
  const lines: string[] = [];
  await build({
    asOf: TEST_AS_OF,
    source: "files",
    // a folder with a source mapping is read through it
    ...(existsSync(join(raw, "sources.json")) ? {mapping: join(raw, "sources.json")} : {rawDir: raw}),
    warehousePath: join(folder, "warehouse.duckdb"),
    modelsDir: join(root, "models"),
    site: false,
    fullRefresh,
    log: (l) => lines.push(l),
  });
  return lines;
}

/** A copy of the whole portfolio's raw files, to change. */
function copyOfFull(name: string): string {
  const dir = join(root, name);
  cpSync(full, dir, {recursive: true});
  return dir;
}

/** The progress line of the daily usage aggregate. */
const usageLine = (log: string[]) => log.find((l) => l.includes("marts.int_usage_daily:"))!;
/** How many days of raw usage the ingest took from the previous build (0: none). */
const rawDaysReused = (log: string[]) =>
  Number(/(\d+) day\(s\) of usage_events reused from the previous build/.exec(log.join("\n"))?.[1] ?? 0);

/**
 * Builds `raw` on top of `folder`'s warehouse twice: as a refresh, and as a full build of a copy
 * of the folder (`--full-refresh`, the same previous warehouse and operational store, so the CTAs
 * carried over are the same); the two warehouses must be equal. Returns the refresh's log.
 */
async function refreshEqualsFullBuild(folder: string, raw: string, name: string): Promise<string[]> {
  const whole = join(root, `${name}-whole`);
  cpSync(folder, whole, {recursive: true});
  const log = await buildInto(folder, raw);
  await buildInto(whole, raw, true);
  expect(
    await differences(join(folder, "warehouse.duckdb"), join(whole, "warehouse.duckdb"), ["raw", "marts", "cfg"]),
  ).toEqual([]);
  return log;
}

/** Days of usage in a raw folder. */
const dayCounts = new Map<string, number>();
const days = (raw: string) => dayCounts.get(raw)!;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "saasguard-refresh-"));
  cpSync("models", join(root, "models"), {recursive: true});
  full = await makeRawCsvDir(150, 7);
  lateDay = join(root, "late-day");
  cpSync(full, lateDay, {recursive: true});
  const usage = join(full, "usage_events.csv");
  const w = await openWarehouse(":memory:");
  try {
    const r = await one<{d: string; n: number}>(
      w.conn,
      `SELECT strftime(max(event_date), '%Y-%m-%d') AS d, count(DISTINCT event_date)::INTEGER AS n FROM read_csv(${lit(usage)})`,
    );
    lastDay = r.d;
    dayCounts.set(full, r.n);
  } finally {
    w.close();
  }
  await sql(
    `COPY (FROM read_csv(${lit(usage)}) WHERE event_date < DATE ${lit(lastDay)}) TO ${lit(join(lateDay, "usage_events.csv"))} (HEADER)`,
  );
}, 120_000);

afterAll(() => {
  rmSync(root, {recursive: true, force: true});
  rmSync(full, {recursive: true, force: true});
});

describe("the nightly refresh", () => {
  it("a day that arrives late is the only day aggregated; the warehouse equals a full build", async () => {
    const folder = join(root, "late");
    const first = await buildInto(folder, lateDay);
    expect(usageLine(first)).not.toMatch(/reused/);
    const next = await refreshEqualsFullBuild(folder, full, "late");
    expect(usageLine(next)).toMatch(new RegExp(`\\d+ day\\(s\\) before ${lastDay} reused from the previous build`));
    // every day but the late one: its raw rows were typed and checked last night
    expect(rawDaysReused(next)).toBe(days(full) - 1);
  }, 240_000);

  it("an account whose raw rows changed is scored again at every past cutoff, the others are last night's, and the warehouse equals a full build", async () => {
    const folder = join(root, "account");
    await buildInto(folder, lateDay);
    // tonight the late day arrives, and one account's contract was restated: more seats, which
    // changes its seats (rolled back from today's) and so its features at every past cutoff
    const restated = copyOfFull("account-raw");
    const customers = join(full, "customers.csv");
    await sql(
      `COPY (SELECT * REPLACE (CASE WHEN customer_id = (SELECT min(customer_id) FROM read_csv(${lit(customers)}))
                                    THEN seats_purchased + 40 ELSE seats_purchased END AS seats_purchased)
             FROM read_csv(${lit(customers)})) TO ${lit(join(restated, "customers.csv"))} (HEADER)`,
    );
    const next = await refreshEqualsFullBuild(folder, restated, "account");
    const line = next.find((l) => l.includes("past cutoffs:"));
    expect(line).toMatch(
      /past cutoffs: (\d+) of \1 reused from the previous build, but for 1 account\(s\) whose rows changed/,
    );
  }, 240_000);

  it("a corrected past day is aggregated again with every day after it, and nothing before it", async () => {
    const folder = join(root, "corrected");
    await buildInto(folder, full);
    const corrected = copyOfFull("corrected-raw");
    const usage = join(full, "usage_events.csv");
    // a day in the middle of the history: its counts were restated by the source
    const day = "2026-03-15";
    await sql(
      `COPY (SELECT * REPLACE (CASE WHEN event_date = DATE '${day}' THEN event_count + 1 ELSE event_count END AS event_count)
             FROM read_csv(${lit(usage)})) TO ${lit(join(corrected, "usage_events.csv"))} (HEADER)`,
    );
    const next = await refreshEqualsFullBuild(folder, corrected, "corrected");
    expect(usageLine(next)).toMatch(new RegExp(`day\\(s\\) before ${day} reused`));
    // the past cutoffs before the corrected day are last night's, the later ones scored again
    const [, reused, of] = /past cutoffs: (\d+) of (\d+) reused/.exec(next.join("\n"))!.map(Number);
    expect(reused).toBeGreaterThan(0);
    expect(reused).toBeLessThan(of!);
    // only the corrected day's raw rows are read again
    expect(rawDaysReused(next)).toBe(days(full) - 1);
  }, 240_000);

  it("unchanged data reuses every day; --full-refresh and a changed recipe reuse none, and still equal a full build", async () => {
    const folder = join(root, "same");
    await buildInto(folder, full);
    const again = await buildInto(folder, full);
    expect(usageLine(again)).toMatch(/day\(s\) before \d{4}-\d{2}-\d{2} reused/);
    expect(Number(/(\d+) day\(s\)/.exec(usageLine(again))![1])).toBe(days(full));
    expect(rawDaysReused(again)).toBe(days(full));
    expect(again.join("\n")).toMatch(
      /past cutoffs: (\d+) of \1 reused from the previous build, but for 0 account\(s\)/,
    );

    const forced = await buildInto(folder, full, true);
    expect(usageLine(forced)).not.toMatch(/reused/);
    expect(rawDaysReused(forced)).toBe(0);

    // the previous warehouse was built by another recipe (an edited SQL or ingest file, another
    // vocabulary, another way of reading a column, another DuckDB version all change the keys):
    // nothing of it is reused
    const previous = join(folder, "warehouse.duckdb");
    const edited = join(root, "edited.duckdb");
    copyFileSync(previous, edited);
    const w = await openWarehouse(edited);
    try {
      await w.conn.run("UPDATE marts.build_memo SET key = 'another recipe'");
      await w.conn.run("CHECKPOINT");
    } finally {
      w.close();
    }
    copyFileSync(edited, previous);
    const rebuilt = await refreshEqualsFullBuild(folder, full, "same");
    expect(usageLine(rebuilt)).not.toMatch(/reused/);
    expect(rebuilt.join("\n")).toMatch(/its SQL, vocabulary or engine changed since the previous build/);
    expect(rebuilt.join("\n")).toMatch(/usage_events: the ingest's code or how its columns are read changed/);
    expect(rebuilt.join("\n")).toMatch(/past cutoffs: the model, the feature SQL, the rules or the engine changed/);
    expect(rawDaysReused(rebuilt)).toBe(0);
  }, 300_000);

  it("an account gone since last night: every day of usage is checked again, and still equals a full build", async () => {
    const folder = join(root, "gone");
    await buildInto(folder, full);
    const fewer = copyOfFull("gone-raw");
    // the last account of the file, and every row that refers to it, are gone from the sources
    const w = await openWarehouse(":memory:");
    try {
      const gone = (
        await one<{id: string}>(
          w.conn,
          `SELECT max(customer_id) AS id FROM read_csv(${lit(join(full, "customers.csv"))})`,
        )
      ).id;
      for (const f of readdirSync(full).filter((f) => f.endsWith(".csv"))) {
        const has = await one<{n: number}>(
          w.conn,
          `SELECT count(*)::INTEGER AS n FROM (DESCRIBE FROM read_csv(${lit(join(full, f))})) WHERE column_name = 'customer_id'`,
        );
        if (has.n)
          await w.conn.run(
            `COPY (FROM read_csv(${lit(join(full, f))}) WHERE customer_id <> ${lit(gone)}) TO ${lit(join(fewer, f))} (HEADER)`,
          );
      }
    } finally {
      w.close();
    }
    const next = await refreshEqualsFullBuild(folder, fewer, "gone");
    expect(rawDaysReused(next)).toBe(0);
    expect(next.join("\n")).toMatch(
      /usage_events: 1 customers of the previous build are gone: every day is read and checked again/,
    );
  }, 240_000);

  it("usage in a Parquet file, as it is or through a mapping: only the late day is copied and checked, and a full build's warehouse results", async () => {
    // the same portfolio with its usage as Parquet: one folder as the folder convention reads it,
    // one under the source's own column names, read through a mapping
    const parquet = async (raw: string, name: string, renamed: boolean) => {
      const dir = join(root, name);
      cpSync(raw, dir, {recursive: true});
      rmSync(join(dir, "usage_events.csv"));
      const select = renamed ? "SELECT customer_id AS account, * EXCLUDE (customer_id)" : "SELECT *";
      const file = join(dir, renamed ? "activity.parquet" : "usage_events.parquet");
      await sql(
        `COPY (${select} FROM read_csv(${lit(join(raw, "usage_events.csv"))})) TO ${lit(file)} (FORMAT parquet)`,
      );
      if (renamed)
        writeFileSync(
          join(dir, "sources.json"),
          JSON.stringify({
            folder: ".",
            tables: {usage_events: {from: "activity.parquet", columns: {customer_id: "account"}}},
          }),
        );
      return dir;
    };
    for (const renamed of [false, true]) {
      const folder = join(root, `parquet-${renamed}`);
      const first = await buildInto(folder, await parquet(lateDay, `parquet-late-${renamed}`, renamed));
      expect(rawDaysReused(first)).toBe(0);
      const tonight = await parquet(full, `parquet-full-${renamed}`, renamed);
      const next = await refreshEqualsFullBuild(folder, tonight, `parquet-${renamed}`);
      expect(rawDaysReused(next)).toBe(days(full) - 1);
      expect(usageLine(next)).toMatch(new RegExp(`day\\(s\\) before ${lastDay} reused`));
    }
  }, 480_000);

  it("a bad row in tonight's Parquet usage is reported at its row of the file, and nothing is replaced", async () => {
    const folder = join(root, "parquet-bad");
    const late = join(root, "parquet-bad-late");
    cpSync(lateDay, late, {recursive: true});
    rmSync(join(late, "usage_events.csv"));
    await sql(
      `COPY (FROM read_csv(${lit(join(lateDay, "usage_events.csv"))})) TO ${lit(join(late, "usage_events.parquet"))} (FORMAT parquet)`,
    );
    await buildInto(folder, late);
    const before = readFileSync(join(folder, "warehouse.duckdb"));
    const bad = copyOfFull("parquet-bad-raw");
    rmSync(join(bad, "usage_events.csv"));
    // the last day's first row gets a negative count; its row in the file (1-based) is known
    const usage = lit(join(full, "usage_events.csv"));
    const w = await openWarehouse(":memory:");
    let row: number;
    try {
      await w.conn.run(`CREATE TABLE u AS SELECT row_number() OVER () AS r, * FROM read_csv(${usage})`);
      row = (
        await one<{r: number}>(w.conn, `SELECT min(r)::INTEGER AS r FROM u WHERE event_date = DATE ${lit(lastDay)}`)
      ).r;
      await w.conn.run(
        `COPY (SELECT * EXCLUDE (r) REPLACE (CASE WHEN r = ${row} THEN -5 ELSE event_count END AS event_count) FROM u ORDER BY r)
         TO ${lit(join(bad, "usage_events.parquet"))} (FORMAT parquet)`,
      );
    } finally {
      w.close();
    }
    const err = await buildInto(folder, bad).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`usage_events\\.parquet[^\\n]*\\b${row}\\b`));
    expect(readFileSync(join(folder, "warehouse.duckdb")).equals(before)).toBe(true);
  }, 240_000);

  it("a previous warehouse that cannot be read fails the build before anything is replaced", async () => {
    const folder = join(root, "unreadable");
    mkdirSync(folder, {recursive: true});
    // not a DuckDB file: the refresh computes everything; the CTA carry-over refuses it, so the
    // build fails and the file is left as it was
    const previous = join(folder, "warehouse.duckdb");
    copyFileSync(join(full, "customers.csv"), previous);
    await expect(buildInto(folder, full)).rejects.toThrow(/cannot read the previous warehouse/);
    expect(readFileSync(previous).equals(readFileSync(join(full, "customers.csv")))).toBe(true);
  }, 120_000);
});
