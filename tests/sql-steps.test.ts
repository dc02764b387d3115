/**
 * The SQL folder, its step list and a built warehouse hold together: every file is a step and
 * creates the object it is named after, with a layer prefix; every published mart has its
 * data-quality checks beside its step.
 */
import {readdirSync, readFileSync} from "node:fs";
import path from "node:path";
import {beforeAll, describe, expect, it} from "vitest";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import {MART_CHECKS} from "../loaders/quality.ts";
import {SQL_STEPS} from "../loaders/sql/steps.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

const SQL_DIR = path.resolve(import.meta.dirname, "../loaders/sql");

let martTables: string[];

beforeAll(async () => {
  const w = await openWarehouse(await ensureTestWarehouse(), {readOnly: true});
  try {
    martTables = (
      await all<{t: string}>(w.conn, "SELECT table_name AS t FROM duckdb_tables() WHERE schema_name = 'marts'")
    ).map((r) => r.t);
  } finally {
    w.close();
  }
}, 600_000);

describe("loaders/sql", () => {
  it("every file is a step, once, and every step a file", () => {
    const files = readdirSync(SQL_DIR)
      .filter((f) => f.endsWith(".sql"))
      .map((f) => f.slice(0, -4))
      .sort();
    const steps = SQL_STEPS.map((s) => s.name);
    expect(new Set(steps).size).toBe(steps.length);
    expect([...steps].sort()).toEqual(files);
  });

  it("every file is named after what it creates, with its layer: int_ (intermediate) or mart_", () => {
    for (const s of SQL_STEPS) {
      expect(s.name, s.name).toMatch(/^(int|mart)_[a-z0-9_]+$/);
      const sql = readFileSync(path.join(SQL_DIR, `${s.name}.sql`), "utf8");
      const kind = s.creates === "macros" ? "MACRO" : s.creates === "temp" ? "TEMP TABLE" : "TABLE";
      const target = s.creates === "temp" ? s.name : `marts.${s.name}`;
      expect(sql, `${s.name}.sql creates ${target}`).toContain(`CREATE OR REPLACE ${kind} ${target}`);
      if (s.name.startsWith("mart_")) expect(s.creates, s.name).toBe("table");
    }
  });

  it("every mart of a built warehouse has data-quality checks", () => {
    const checked = new Set(MART_CHECKS.map((c) => c.table));
    const marts = martTables.filter((t) => t.startsWith("mart_"));
    expect(marts.length).toBeGreaterThan(15);
    for (const t of marts) expect(checked.has(`marts.${t}`), `marts.${t} has no checks`).toBe(true);
    // and every published SQL mart carries them beside its own step
    for (const s of SQL_STEPS.filter((x) => x.name.startsWith("mart_")))
      expect(s.checks?.table, `${s.name} checks`).toBe(`marts.${s.name}`);
  });
});
