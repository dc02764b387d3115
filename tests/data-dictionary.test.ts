/**
 * The data dictionary (loaders/site/data-dictionary.ts → src/data/data_dictionary.json.ts → the
 * Data dictionary page): generated from the allow-list (SITE_TABLES) — every published column has
 * a meaning; the loader's output has exactly each table's columns with the warehouse's types and
 * row counts and the pages that use it, found in the pages themselves; every other published file
 * is described; and a PII column put on a list is refused by both the export and the dictionary,
 * naming the table and the column. The page itself is visited in Chromium in site-pages.test.ts
 * (which builds the site), alongside a scan of every built data file for PII columns.
 */
import {spawn} from "node:child_process";
import {existsSync} from "node:fs";
import {mkdir, mkdtemp, rm, writeFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {COLUMN_MEANINGS, columnMeaning} from "../loaders/site/column-meanings.ts";
import {
  buildDataDictionary,
  DICTIONARY_PAGE,
  frontMatterSqlFiles,
  publishedDataFiles,
  siteUsage,
  stripComments,
  type DataDictionary,
} from "../loaders/site/data-dictionary.ts";
import {SITE_DOCUMENTS} from "../loaders/site/site-documents.ts";
import {piiColumns, PII_COLUMNS, SITE_TABLES, siteTableQuery, type SiteTable} from "../loaders/site/site-tables.ts";
import {withWarehouse} from "../src/data/_lib/read-warehouse.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const SRC = path.join(ROOT, "src");

describe("column meanings (loaders/site/column-meanings.ts)", () => {
  test("every column of every published table has a meaning", () => {
    const missing = Object.entries(SITE_TABLES).flatMap(([name, t]) =>
      t.columns.filter((c) => !columnMeaning(name, c)?.trim()).map((c) => `${name}.${c}`),
    );
    expect(missing).toEqual([]);
  });

  test("every meaning is of a published column (none left behind), and none is of a PII column", () => {
    const published = new Set(
      Object.entries(SITE_TABLES).flatMap(([n, t]) => t.columns.flatMap((c) => [c, `${n}.${c}`])),
    );
    expect(Object.keys(COLUMN_MEANINGS).filter((k) => !published.has(k))).toEqual([]);
    expect(piiColumns(Object.keys(COLUMN_MEANINGS).map((k) => k.split(".").pop()!))).toEqual([]);
  });

  test("a table's own meaning wins over the shared one", () => {
    expect(columnMeaning("cta_performance", "owner")).toMatch(/'all'/);
    expect(columnMeaning("csm_worklist", "owner")).toBe(COLUMN_MEANINGS.owner);
  });
});

describe("the query console's files (src/components/site-files.ts)", () => {
  test("list every published table, each under its own name and file", async () => {
    const {readFile} = await import("node:fs/promises");
    const source = await readFile(path.resolve(import.meta.dirname, "../src/components/site-files.ts"), "utf-8");
    const entries = [...source.matchAll(/^\s+(\w+): FileAttachment\("\.\.\/data\/(\w+)\.arrow"\),$/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(entries.map(([name]) => name)).toEqual(Object.keys(SITE_TABLES));
    for (const [name, file] of entries) expect(file, name).toBe(name);
  });
});

describe("which pages use a file: read from the pages", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "saasguard-dictionary-usage-"));
    await mkdir(path.join(dir, "reports"), {recursive: true});
    await mkdir(path.join(dir, "components"), {recursive: true});
    await mkdir(path.join(dir, "data"), {recursive: true});
    // a report naming tables in its front matter (block map) — from src/reports/, so ../data/
    await writeFile(
      path.join(dir, "reports", "my-report.md"),
      "---\ntitle: 'My report'\nsql:\n  q: ../data/quadrant.arrow\n  w: \"../data/csm_worklist.arrow\"\n---\n\n```sql\nSELECT * FROM q\n```\n",
    );
    // a page with flow-map front matter, FileAttachment in js and ts code; in a comment, a run=false block and a non-code fence
    await writeFile(
      path.join(dir, "index.md"),
      [
        "---",
        "sql: {risk: ./data/risk_scores.arrow}",
        "---",
        "# Home",
        '<!-- FileAttachment("data/cta_queue.arrow") -->',
        "```js",
        '// FileAttachment("data/csm_capacity.arrow")',
        'import {load} from "./components/a.js";',
        'const s = await FileAttachment("data/segments.json").json();',
        "```",
        "```ts",
        'const p = await FileAttachment("data/playbooks.json").json();',
        "```",
        "```js run=false",
        'FileAttachment("data/model_quality.json")',
        "```",
        "```md",
        'FileAttachment("data/risk_signals.json")',
        "```",
      ].join("\n"),
    );
    // a component chain: a.ts → b.ts, which attaches an archive member
    await writeFile(path.join(dir, "components", "a.ts"), 'export {load} from "./b.js";\n');
    await writeFile(
      path.join(dir, "components", "b.ts"),
      '/* FileAttachment("../data/model_card.json") */\nexport const load = () => FileAttachment("../data/c360/index.json");\n',
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, {recursive: true, force: true});
  });

  test("front matter sql:, FileAttachment in code and in imported components; not in comments, run=false or other fences", () => {
    const usage = siteUsage(dir);
    const users = (f: string) => (usage.get(f) ?? []).map((p) => `${p.path} ${p.title}`);
    expect(users("quadrant.arrow")).toEqual(["/reports/my-report My report"]);
    expect(users("csm_worklist.arrow")).toEqual(["/reports/my-report My report"]);
    expect(users("risk_scores.arrow")).toEqual(["/ Home"]);
    expect(users("segments.json")).toEqual(["/ Home"]);
    expect(users("playbooks.json")).toEqual(["/ Home"]);
    expect(users("c360/index.json")).toEqual(["/ Home"]);
    for (const f of [
      "cta_queue.arrow",
      "csm_capacity.arrow",
      "model_quality.json",
      "risk_signals.json",
      "model_card.json",
    ])
      expect(users(f), f).toEqual([]);
  });

  test("the parsers", () => {
    expect(
      frontMatterSqlFiles("---\ntitle: x\nsql:\n  a: ./data/a.arrow\n  b: './data/b.arrow'\ntoc: false\n---\n"),
    ).toEqual(["./data/a.arrow", "./data/b.arrow"]);
    expect(frontMatterSqlFiles("---\nsql: {a: ./data/a.arrow, b: ../data/b.arrow}\n---\n")).toEqual([
      "./data/a.arrow",
      "../data/b.arrow",
    ]);
    expect(frontMatterSqlFiles("# no front matter\nsql:\n  a: b\n")).toEqual([]);
    expect(stripComments('const u = "http://x"; // gone\n/* gone */ f(`a//b`);')).toBe(
      'const u = "http://x"; \n f(`a//b`);',
    );
  });
});

describe("the dictionary loader over a real warehouse", () => {
  let warehouse: string;
  let instance: DuckDBInstance;
  let c: DuckDBConnection;
  let dictionary: DataDictionary;
  const previous = process.env.SAASGUARD_WAREHOUSE;

  beforeAll(async () => {
    warehouse = await ensureTestWarehouse();
    process.env.SAASGUARD_WAREHOUSE = warehouse;
    instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    c = await instance.connect();
    // the real loader, as Framework runs it
    dictionary = JSON.parse(
      (await runLoader("src/data/data_dictionary.json.ts", warehouse)).toString("utf-8"),
    ) as DataDictionary;
  }, 600_000);

  afterAll(() => {
    c?.closeSync();
    instance?.closeSync();
    if (previous === undefined) delete process.env.SAASGUARD_WAREHOUSE;
    else process.env.SAASGUARD_WAREHOUSE = previous;
  });

  const rows = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];

  test("every table with exactly its columns, the warehouse's types and row counts, and a meaning per column", async () => {
    expect(dictionary.tables.map((t) => t.name)).toEqual(Object.keys(SITE_TABLES));
    for (const [name, table] of Object.entries(SITE_TABLES) as [string, SiteTable][]) {
      const entry = dictionary.tables.find((t) => t.name === name)!;
      expect(entry.file).toBe(`data/${name}.arrow`);
      expect(entry.about).toBe(table.about);
      const types = await rows(`DESCRIBE ${siteTableQuery(name)}`);
      expect(
        entry.columns.map((x) => [x.name, x.type]),
        name,
      ).toEqual(types.map((r) => [r.column_name, r.column_type]));
      expect(entry.columns.map((x) => x.name)).toEqual([...table.columns]);
      for (const col of entry.columns) expect(col.meaning, `${name}.${col.name}`).toBe(columnMeaning(name, col.name));
      const [{n}] = (await rows(`SELECT count(*)::INTEGER AS n FROM (${siteTableQuery(name)})`)) as [{n: number}];
      expect(entry.rows, `${name} rows`).toBe(n);
      for (const source of entry.sources) expect(table.from).toContain(source);
    }
    // the tables the pages read have rows in a built warehouse
    expect(dictionary.tables.find((t) => t.name === "risk_scores")!.rows).toBeGreaterThan(0);
  });

  test("freshness: the build's as-of date and build time, and the latest date where a table has one", async () => {
    const [build] = (await rows(
      `SELECT built_at::VARCHAR AS built_at, as_of::VARCHAR AS as_of FROM marts.build_info`,
    )) as [{built_at: string; as_of: string}];
    expect(dictionary.build.as_of).toBe(build.as_of);
    expect(dictionary.build.built_at.slice(0, 19)).toBe(build.built_at.slice(0, 19));
    const queue = dictionary.tables.find((t) => t.name === "cta_queue")!;
    const [{latest}] = (await rows(`SELECT max(created_date)::VARCHAR AS latest FROM marts.mart_cta_queue`)) as [
      {latest: string},
    ];
    expect(queue.latest).toEqual({column: "created_date", value: latest});
    for (const t of dictionary.tables)
      expect(t.latest === null, t.name).toBe(!(SITE_TABLES as Record<string, SiteTable>)[t.name]!.freshness);
  });

  test("the pages that use each table, from the pages themselves (not the dictionary's own page)", () => {
    const users = (name: string) => dictionary.tables.find((t) => t.name === name)!.pages.map((p) => p.path);
    expect(users("risk_scores")).toEqual(
      expect.arrayContaining(["/report-template", "/renewals", "/risk-drill-down", "/uplift-simulator"]),
    );
    expect(users("quadrant")).toContain("/propensity-quadrant");
    expect(users("cta_queue")).toContain("/csm-queue");
    expect(users("playbook_effectiveness")).toEqual(expect.arrayContaining(["/playbook-results", "/uplift-simulator"]));
    for (const t of dictionary.tables) expect(users(t.name)).not.toContain(DICTIONARY_PAGE);
    // every user is a page of the site, with its title
    for (const p of [...dictionary.tables, ...dictionary.documents].flatMap((t) => t.pages)) {
      expect(p.title).not.toBe("");
      expect(p.path === "/" || publishedPage(p.path), p.path).toBe(true);
    }
  });

  test("every other published file is listed with its description and users — a loader without one fails the build", async () => {
    const tables = new Set(Object.keys(SITE_TABLES).map((n) => `${n}.arrow`));
    const others = publishedDataFiles(SRC).filter((f) => !tables.has(f));
    expect(dictionary.documents.map((d) => d.file)).toEqual(others.map((f) => `data/${f}`));
    for (const d of dictionary.documents)
      expect(d.description, d.file).toBe(SITE_DOCUMENTS[d.file.slice("data/".length)]);
    const doc = (name: string) => dictionary.documents.find((d) => d.name === name)!;
    expect(doc("exec_summary").pages.map((p) => p.path)).toEqual(["/"]);
    // the Customer 360 archive's members are attached by a component the page imports
    expect(doc("c360").pages.map((p) => p.path)).toEqual(["/customer-360"]);
    expect(doc("data_dictionary").pages.map((p) => p.path)).toEqual([DICTIONARY_PAGE]);

    const {"segments.json": _, ...undescribed} = SITE_DOCUMENTS;
    await expect(withWarehouse((w) => buildDataDictionary(w, {srcRoot: SRC, documents: undescribed}))).rejects.toThrow(
      /publishes segments\.json, which is neither a site table .* nor described in SITE_DOCUMENTS/,
    );
  });

  test("a column without a meaning fails the dictionary, naming the table and the column", async () => {
    const tables = {
      ...SITE_TABLES,
      quadrant: {...SITE_TABLES.quadrant, columns: [...SITE_TABLES.quadrant.columns, "upgrade_propensity_v2"]},
    };
    await expect(withWarehouse((w) => buildDataDictionary(w, {srcRoot: SRC, tables}))).rejects.toThrow(
      /column quadrant\.upgrade_propensity_v2 has no meaning/,
    );
  });

  test("a PII column on a list: the export and the dictionary both refuse it, naming the table and the column", async () => {
    for (const pii of [...PII_COLUMNS, "billing_email", "Contact_Phone", "email_address"]) {
      const tables = {
        ...SITE_TABLES,
        risk_scores: {...SITE_TABLES.risk_scores, columns: [...SITE_TABLES.risk_scores.columns, pii]},
      };
      const named = new RegExp(`site table risk_scores .*${pii}`);
      expect(() => siteTableQuery("risk_scores", tables), pii).toThrow(named);
      await expect(
        withWarehouse((w) => buildDataDictionary(w, {srcRoot: SRC, tables})),
        pii,
      ).rejects.toThrow(named);
    }
    // the warehouse does hold contact details (raw.customers): only the allow-list keeps them out
    const raw = await rows(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'customers'`,
    );
    expect(raw.map((r) => r.column_name)).toContain("primary_contact_email");
  });

  test("no PII in the dictionary: no PII column name, no customer's e-mail address", async () => {
    const names = [...dictionary.tables.flatMap((t) => t.columns.map((x) => x.name))];
    expect(piiColumns(names)).toEqual([]);
    const text = JSON.stringify(dictionary);
    const emails = (
      await rows(`SELECT DISTINCT primary_contact_email AS e FROM raw.customers WHERE primary_contact_email <> ''`)
    ).map((r) => String(r.e));
    expect(emails.length).toBeGreaterThan(0);
    expect(emails.filter((e) => text.includes(e))).toEqual([]);
    expect(text).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/);
  });
});

/** Whether `/path` is a page of the site (src/<path>.md or src/<path>/index.md). */
function publishedPage(p: string): boolean {
  return existsSync(path.join(SRC, `${p}.md`)) || existsSync(path.join(SRC, p, "index.md"));
}

/** Runs a site data loader (src/data/) on `warehouse`, as Framework does; its stdout. */
function runLoader(loader: string, warehouse: string): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), [loader], {
      cwd: ROOT,
      env: {...process.env, SAASGUARD_WAREHOUSE: warehouse},
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", fail);
    child.on("close", (code) => (code === 0 ? ok(Buffer.concat(out)) : fail(new Error(`${loader}: ${err}`))));
  });
}
