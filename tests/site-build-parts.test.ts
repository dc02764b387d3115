/** The pieces of the site build: Framework cache preparation and the data-loader exports. */
import {spawn} from "node:child_process";
import {existsSync} from "node:fs";
import {mkdir, mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {DataType, tableFromIPC} from "apache-arrow";
import {beforeAll, describe, expect, test} from "vitest";
import {dictionaryEncodeStrings} from "../loaders/site/export.ts";
import {
  applyPatches,
  EARLY_FILE_HELPER,
  FRAMEWORK_DUCKDB_PATCHES,
  patchFrameworkClient,
} from "../loaders/site/framework-client-patches.ts";
import {keepGlueExports} from "../loaders/site/wasm-exports.ts";
import {
  DUCKDB_PATCHED_WORKERS,
  DUCKDB_TRIMMED_MODULES,
  DUCKDB_WORKER_PATCHES,
  patchDuckDBWorker,
  prepareFramework,
} from "../loaders/site/prepare-framework.ts";
import {
  CTA_QUEUE_COLUMNS,
  PII_COLUMNS,
  QUADRANT_COLUMNS,
  RISK_SCORE_COLUMNS,
  siteTableQuery,
} from "../loaders/site/site-tables.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const installed = async (name: string) =>
  (JSON.parse(await readFile(path.join(ROOT, "node_modules", name, "package.json"), "utf-8")) as {version: string})
    .version;

function runLoader(
  loader: string,
  env: Record<string, string>,
): Promise<{code: number | null; stdout: Buffer; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), [loader], {cwd: ROOT, env: {...process.env, ...env}});
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({code, stdout: Buffer.concat(out), stderr}));
  });
}

describe("prepareFramework", () => {
  test("fills Framework's npm cache at the paths it expects, with installed versions", async () => {
    const result = await prepareFramework({log: () => {}});
    const cache = result.npmCacheDir;
    expect(cache).toBe(path.join(ROOT, "src/.observablehq/cache/_npm"));
    for (const name of [
      "@observablehq/plot",
      "d3",
      "htl",
      "isoformat",
      "apache-arrow",
      "parquet-wasm",
      "@duckdb/duckdb-wasm",
      "d3-dsv",
    ]) {
      const version = await installed(name);
      expect(result.versions[name]).toBe(version);
      expect(existsSync(path.join(cache, `${name}@${version}`, "_esm.js")), name).toBe(true);
    }
    const duck = path.join(cache, `@duckdb/duckdb-wasm@${await installed("@duckdb/duckdb-wasm")}/dist`);
    for (const f of [
      "duckdb-eh.wasm",
      "duckdb-mvp.wasm",
      "duckdb-browser-eh.worker.js",
      "duckdb-browser-mvp.worker.js",
    ])
      expect(existsSync(path.join(duck, f)), f).toBe(true);
    expect(
      existsSync(path.join(cache, `parquet-wasm@${await installed("parquet-wasm")}/esm/parquet_wasm_bg.wasm`)),
    ).toBe(true);
    // Plot shares the d3 bundle through a relative import, as Framework rewrites jsDelivr imports
    const plot = await readFile(
      path.join(cache, `@observablehq/plot@${await installed("@observablehq/plot")}/_esm.js`),
      "utf-8",
    );
    expect(plot).toContain(`"../../d3@${await installed("d3")}/_esm.js"`);
    // every library Framework may look up has a version folder, so it never asks the registry
    for (const name of [
      "lodash",
      "arquero",
      "echarts",
      "leaflet",
      "mapbox-gl",
      "react",
      "react-dom",
      "topojson-client",
      "@observablehq/sample-datasets",
    ]) {
      const parent = path.join(cache, path.dirname(name));
      const entries = existsSync(parent) ? (await import("node:fs")).readdirSync(parent) : [];
      expect(
        entries.some((e) => e.startsWith(`${path.basename(name)}@`)),
        name,
      ).toBe(true);
    }
  });

  test("the duckdb-wasm workers in the cache carry every glue patch; a patch refuses glue it does not recognise", async () => {
    const cache = (await prepareFramework({log: () => {}})).npmCacheDir;
    const version = await installed("@duckdb/duckdb-wasm");
    for (const f of DUCKDB_PATCHED_WORKERS) {
      const original = await readFile(path.join(ROOT, "node_modules/@duckdb/duckdb-wasm", f), "utf-8");
      const copied = await readFile(path.join(cache, `@duckdb/duckdb-wasm@${version}`, f), "utf-8");
      expect(copied, f).toBe(patchDuckDBWorker(original, f));
      const grown = DUCKDB_WORKER_PATCHES.reduce((n, p) => n + p.to.length - p.from.length, 0);
      expect(copied.length, f).toBe(original.length + grown);
      for (const p of DUCKDB_WORKER_PATCHES) {
        expect(copied, `${f}: ${p.why}`).toContain(p.to);
        expect(copied, `${f}: ${p.why}`).not.toContain(p.from);
      }
    }
    const [first, second] = DUCKDB_WORKER_PATCHES;
    expect(() => patchDuckDBWorker("updateGOT=(e,t)=>{}", "x.js")).toThrow(/"updateGOT: .*" matches 0 times in x\.js/);
    expect(() => patchDuckDBWorker(first!.from + first!.from, "y.js")).toThrow(/matches 2 times/);
    // all or nothing: glue with the first patch's code but not the second's is refused
    expect(() => patchDuckDBWorker(first!.from, "z.js")).toThrow(`"${second!.why}" matches 0 times in z.js`);
  });

  test("duckdb-wasm's modules keep only the exports their worker glue can reach, and still compile", async () => {
    const cache = (await prepareFramework({log: () => {}})).npmCacheDir;
    const version = await installed("@duckdb/duckdb-wasm");
    for (const [module, worker] of Object.entries(DUCKDB_TRIMMED_MODULES)) {
      const original = await readFile(path.join(ROOT, "node_modules/@duckdb/duckdb-wasm", module));
      const glue = await readFile(path.join(cache, `@duckdb/duckdb-wasm@${version}`, worker), "utf-8");
      const served = await readFile(path.join(cache, `@duckdb/duckdb-wasm@${version}`, module));
      const {wasm, kept, total} = keepGlueExports(original, glue, module);
      expect(Buffer.from(served).equals(Buffer.from(wasm)), module).toBe(true);
      const before = WebAssembly.Module.exports(new WebAssembly.Module(original));
      const after = WebAssembly.Module.exports(new WebAssembly.Module(wasm));
      expect([after.length, before.length]).toEqual([kept, total]);
      expect(kept, module).toBeLessThan(total / 100);
      // every export the glue names is still there, and nothing but exports changed
      const tokens = new Set(glue.match(/[A-Za-z_$][\w$]*/g));
      const names = new Set(after.map((e) => e.name));
      const named = before.filter((e) => tokens.has(e.name) || tokens.has(`_${e.name}`));
      expect(named.length, module).toBeGreaterThan(100);
      for (const e of named) expect(names.has(e.name), `${module}: ${e.name}`).toBe(true);
      for (const e of before.filter((x) => x.kind === "memory" || x.kind === "table" || x.name.startsWith("dynCall_")))
        expect(names.has(e.name), `${module}: ${e.name}`).toBe(true);
      expect(WebAssembly.Module.imports(new WebAssembly.Module(wasm))).toEqual(
        WebAssembly.Module.imports(new WebAssembly.Module(original)),
      );
      expect(original.length - wasm.length, module).toBeGreaterThan(8_000_000);
    }
  }, 120_000);

  test("trimming refuses bytes that are not a module it can read, naming the file", () => {
    const glue = "wasmExports.f";
    expect(() => keepGlueExports(new TextEncoder().encode("<html>not found</html>"), glue, "a.wasm")).toThrow(
      /^a\.wasm: not a WebAssembly module this step can read \(no WebAssembly magic number/,
    );
    // magic + version, then an export section claiming 5 bytes that are not there
    const truncated = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 7, 5, 1]);
    expect(() => keepGlueExports(truncated, glue, "b.wasm")).toThrow(/^b\.wasm: .*\(section 7 past the end at byte/);
    // a valid module with no exports at all
    const empty = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expect(WebAssembly.validate(empty)).toBe(true);
    expect(() => keepGlueExports(empty, glue, "c.wasm")).toThrow(/^c\.wasm: .*\(no export section/);
    // a module exporting f and g: the glue names only f
    const two = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 4, 1, 0x60, 0, 0], // type section: one type () -> ()
      ...[3, 3, 2, 0, 0], // function section: two functions of type 0
      ...[7, 9, 2, 1, 0x66, 0, 0, 1, 0x67, 0, 1], // export section: "f" → func 0, "g" → func 1
      ...[10, 7, 2, 2, 0, 0x0b, 2, 0, 0x0b], // code section: two empty bodies
    ]);
    const out = keepGlueExports(two, glue, "d.wasm");
    expect([out.kept, out.total]).toEqual([1, 2]);
    expect(WebAssembly.Module.exports(new WebAssembly.Module(out.wasm)).map((e) => e.name)).toEqual(["f"]);
  });

  test("Framework's DuckDB client is patched in the built copy; a client it does not recognise fails the build", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "saasguard-client-"));
    try {
      expect(await patchFrameworkClient(dir)).toEqual([]); // a site with no DuckDB page
      await mkdir(path.join(dir, "_observablehq/stdlib"), {recursive: true});
      const file = path.join(dir, "_observablehq/stdlib/duckdb.0123abcd.js");
      const source = FRAMEWORK_DUCKDB_PATCHES.map((p) => `/*x*/${p.from};`).join("");
      await writeFile(file, source);
      expect(await patchFrameworkClient(dir)).toEqual([file]);
      const patched = await readFile(file, "utf-8");
      for (const p of FRAMEWORK_DUCKDB_PATCHES) expect(patched).toContain(p.to);
      expect(patched.endsWith(EARLY_FILE_HELPER)).toBe(true);
      // patched again: the originals are gone, so the build refuses instead of patching twice
      await expect(patchFrameworkClient(dir)).rejects.toThrow(
        `the patch "${FRAMEWORK_DUCKDB_PATCHES[0]!.why}" matches 0 times in ${file} (expected once)`,
      );
      expect(() => applyPatches("ab ab", [{why: "w", from: "ab", to: "c"}], "f.js", "r")).toThrow(
        'the patch "w" matches 2 times in f.js (expected once): review r',
      );
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });

  test("is idempotent and fast when already prepared", async () => {
    await prepareFramework({log: () => {}});
    const t = performance.now();
    const again = await prepareFramework({log: () => {}});
    expect(again.rebuilt).toBe(false);
    expect(performance.now() - t).toBeLessThan(2000);
  });
});

describe("site data loaders", () => {
  let warehouse: string;
  beforeAll(async () => {
    warehouse = await ensureTestWarehouse();
  });

  /**
   * Runs an `.arrows` loader and checks what every export promises: it exits cleanly, writes a
   * well-formed Arrow IPC stream with exactly the allow-listed `columns` and no PII, and has rows.
   * Returns the rows as DuckDB's JSON rows would show them, and the dictionary-encoded columns.
   */
  async function loaderExport(
    loader: string,
    columns: readonly string[],
  ): Promise<{dictionaries: string[]; rows: Record<string, unknown>[]}> {
    const {code, stdout, stderr} = await runLoader(loader, {SAASGUARD_WAREHOUSE: warehouse});
    expect(code, stderr).toBe(0);
    const table = tableFromIPC(stdout); // throws unless it is a well-formed IPC stream
    const fields = table.schema.fields;
    const names = fields.map((f) => f.name);
    expect(names).toEqual([...columns]);
    for (const pii of PII_COLUMNS) expect(names).not.toContain(pii);
    const rows = table.toArray().map((r: Record<string, unknown>) =>
      Object.fromEntries(
        fields.map((f) => {
          const v = r[f.name];
          if (typeof v === "bigint") return [f.name, String(v)];
          if (DataType.isDate(f.type) && typeof v === "number") return [f.name, new Date(v).toISOString().slice(0, 10)];
          return [f.name, v ?? null];
        }),
      ),
    );
    expect(rows.length).toBeGreaterThan(0);
    return {dictionaries: fields.filter((f) => DataType.isDictionary(f.type)).map((f) => f.name), rows};
  }
  async function warehouseRows(sql: string): Promise<Record<string, unknown>[]> {
    const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    const c = await instance.connect();
    try {
      return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  }

  test("risk_scores.arrow: the allow-listed columns of every scored account, value for value, repeated strings as dictionaries", async () => {
    const got = await loaderExport("src/data/risk_scores.arrow.ts", RISK_SCORE_COLUMNS);
    expect(got.dictionaries).toEqual(
      expect.arrayContaining(["industry", "plan_tier", "risk_tier", "model_tier", "recommended_action"]),
    );
    expect(got.dictionaries).not.toContain("customer_id");
    expect(got.rows).toEqual(await warehouseRows(siteTableQuery("risk_scores")));
  });

  test("dictionaryEncodeStrings: repeated strings become dictionaries, everything else is left as it is", async () => {
    const {tableFromArrays, tableFromIPC, tableToIPC, vectorFromArray, Table, Utf8} = await import("apache-arrow");
    const n = 1_000;
    const rows = {
      id: vectorFromArray(
        Array.from({length: n}, (_, i) => `C${i}`),
        new Utf8(),
      ),
      tier: vectorFromArray(
        Array.from({length: n}, (_, i) => (i % 7 === 0 ? null : ["Low", "High", "Critical"][i % 3]!)),
        new Utf8(),
      ),
      owner: vectorFromArray(
        Array.from({length: n}, (_, i) => `csm-${i % 200}`),
        new Utf8(),
      ),
      arr: tableFromArrays({arr: Float64Array.from({length: n}, (_, i) => i * 1.5)}).getChild("arr")!,
    };
    const out = tableFromIPC(await dictionaryEncodeStrings(tableToIPC(new Table(rows), "stream")));
    const type = (name: string) => out.schema.fields.find((f) => f.name === name)!.type;
    expect(String(type("id"))).toBe("Utf8"); // every value distinct: a dictionary would only add bytes
    expect(DataType.isDictionary(type("tier")) && String(type("tier").indices)).toBe("Int8");
    expect(DataType.isDictionary(type("owner")) && String(type("owner").indices)).toBe("Int16"); // 200 values > 127
    expect(String(type("arr"))).toBe("Float64");
    expect(out.getChild("tier")!.toArray()).toEqual(rows.tier.toArray()); // nulls kept
    expect(out.getChild("owner")!.toArray()).toEqual(rows.owner.toArray());
    expect(out.getChild("id")!.toArray()).toEqual(rows.id.toArray());
    expect([...out.getChild("arr")!]).toEqual([...rows.arr]);
    const empty = tableFromIPC(
      await dictionaryEncodeStrings(tableToIPC(new Table({s: vectorFromArray([] as string[], new Utf8())}), "stream")),
    );
    expect(empty.numRows).toBe(0);
    expect(String(empty.schema.fields[0]!.type)).toBe("Utf8");
  });

  test("cta_queue.arrow exports every open CTA with the allow-listed columns and no PII", async () => {
    const got = await loaderExport("src/data/cta_queue.arrow.ts", [...CTA_QUEUE_COLUMNS, "churn_probability"]);
    // the same CTAs and due dates as the mart: nothing recomputed on the way to the page
    const key = (r: Record<string, unknown>) => `${r.cta_id}|${r.csm_owner}|${r.due_date}|${r.overdue}`;
    const mart = await warehouseRows("SELECT cta_id, csm_owner, due_date, overdue FROM marts.mart_cta_queue");
    expect(got.rows.map(key).sort()).toEqual(mart.map(key).sort());
  });

  test("quadrant.arrow exports every account of the quadrant mart with the allow-listed columns and no PII", async () => {
    const got = await loaderExport("src/data/quadrant.arrow.ts", [...QUADRANT_COLUMNS, "company_name"]);
    const mart = await warehouseRows("SELECT customer_id FROM marts.mart_propensity_quadrant ORDER BY customer_id");
    expect(got.rows.map((r) => r.customer_id)).toEqual(mart.map((r) => r.customer_id));
  });

  test("build_info.json is the one build_info row", async () => {
    const {code, stdout, stderr} = await runLoader("src/data/build_info.json.ts", {SAASGUARD_WAREHOUSE: warehouse});
    expect(code, stderr).toBe(0);
    const info = JSON.parse(stdout.toString()) as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(["as_of", "built_at", "customers", "source"]);
    expect(info.as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(info.built_at).toMatch(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/);
    expect(typeof info.customers).toBe("number");
  });

  test("a missing warehouse fails with a clear message", async () => {
    const {code, stderr} = await runLoader("src/data/risk_scores.arrow.ts", {
      SAASGUARD_WAREHOUSE: "/nonexistent/w.duckdb",
    });
    expect(code).not.toBe(0);
    expect(stderr).toContain("warehouse not found: /nonexistent/w.duckdb");
  });
});
