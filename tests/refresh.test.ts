/**
 * The nightly refresh (loaders/refresh.ts): a build on top of the previous warehouse reuses the
 * days of usage whose raw rows did not change, and its warehouse equals a full build of the same
 * data, table for table and value for value — after a late day arrives, after a past day is
 * corrected, and when the recipe (SQL, vocabulary, engine) changed, which reuses nothing.
 */
import {copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from "node:fs";
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
    rawDir: raw,
    warehousePath: join(folder, "warehouse.duckdb"),
    modelsDir: join(root, "models"),
    site: false,
    fullRefresh,
    log: (l) => lines.push(l),
  });
  return lines;
}

/** The progress line of the daily usage aggregate. */
const usageLine = (log: string[]) => log.find((l) => l.includes("marts.int_usage_daily:"))!;

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

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "saasguard-refresh-"));
  cpSync("models", join(root, "models"), {recursive: true});
  full = await makeRawCsvDir(150, 7);
  lateDay = join(root, "late-day");
  cpSync(full, lateDay, {recursive: true});
  const usage = join(full, "usage_events.csv");
  const w = await openWarehouse(":memory:");
  try {
    lastDay = (
      await one<{d: string}>(w.conn, `SELECT strftime(max(event_date), '%Y-%m-%d') AS d FROM read_csv(${lit(usage)})`)
    ).d;
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
  }, 240_000);

  it("a corrected past day is aggregated again with every day after it, and nothing before it", async () => {
    const folder = join(root, "corrected");
    await buildInto(folder, full);
    const corrected = join(root, "corrected-raw");
    cpSync(full, corrected, {recursive: true});
    const usage = join(full, "usage_events.csv");
    // a day in the middle of the history: its counts were restated by the source
    const day = "2026-03-15";
    await sql(
      `COPY (SELECT * REPLACE (CASE WHEN event_date = DATE '${day}' THEN event_count + 1 ELSE event_count END AS event_count)
             FROM read_csv(${lit(usage)})) TO ${lit(join(corrected, "usage_events.csv"))} (HEADER)`,
    );
    const next = await refreshEqualsFullBuild(folder, corrected, "corrected");
    expect(usageLine(next)).toMatch(new RegExp(`day\\(s\\) before ${day} reused`));
  }, 240_000);

  it("unchanged data reuses every day; --full-refresh and a changed recipe reuse none, and still equal a full build", async () => {
    const folder = join(root, "same");
    await buildInto(folder, full);
    const again = await buildInto(folder, full);
    expect(usageLine(again)).toMatch(/day\(s\) before \d{4}-\d{2}-\d{2} reused/);
    const days = Number(/(\d+) day\(s\)/.exec(usageLine(again))![1]);
    const r = await openWarehouse(join(folder, "warehouse.duckdb"), {readOnly: true});
    try {
      expect(days).toBe((await one<{n: number}>(r.conn, "SELECT count(*)::INTEGER AS n FROM marts.int_usage_days")).n);
    } finally {
      r.close();
    }

    const forced = await buildInto(folder, full, true);
    expect(usageLine(forced)).not.toMatch(/reused/);

    // the previous warehouse was built by another recipe (an edited SQL file, another
    // vocabulary or DuckDB version all change the key): nothing of it is reused
    const previous = join(folder, "warehouse.duckdb");
    const edited = join(root, "edited.duckdb");
    copyFileSync(previous, edited);
    const w = await openWarehouse(edited);
    try {
      await w.conn.run("UPDATE marts.build_memo SET key = 'another recipe' WHERE step = 'int_usage_daily'");
      await w.conn.run("CHECKPOINT");
    } finally {
      w.close();
    }
    copyFileSync(edited, previous);
    const rebuilt = await refreshEqualsFullBuild(folder, full, "same");
    expect(usageLine(rebuilt)).not.toMatch(/reused/);
    expect(rebuilt.join("\n")).toMatch(/its SQL, vocabulary or engine changed since the previous build/);
  }, 300_000);

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
