/**
 * The report author's loop, for real, with no network: in a scratch copy of the project (its own
 * src/, loaders/ and Framework cache; node_modules and models/ linked), `npm run report:new`
 * makes a report, a ```sql block over a published table goes in, `npm run dev` previews it and
 * headless Chromium shows the query's result, then the author edits the file and the open page
 * changes without a reload. A report made while the preview runs is in its sidebar, and a
 * report with a failing SQL block is reported naming the page and the block.
 *
 * How "no network" is proven: the preview (`npm run dev`, including its prepare-framework step
 * and every data loader it runs) is started inside `unshare -n`, a network namespace of its
 * own whose only interface is loopback — the test reads /proc/<pid>/net/dev and .../route to
 * show there is no other interface and no route anywhere. Chromium is started by playwright
 * through `nsenter --net=` into that same namespace (playwright drives it over a pipe, not a
 * socket, so the test process itself stays outside), and records its own namespace, which must
 * be the preview's. Nothing in there can reach another host; on top of that, every request the
 * page makes is on the preview's origin.
 */
import {spawn, spawnSync, type ChildProcess} from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {chromium, type Browser, type Page} from "playwright-core";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {checkReportName, MAX_NAME_LENGTH, reportSlug} from "../loaders/cli/report-new.ts";
import {siteTableQuery} from "../loaders/site/site-tables.ts";
import {CHROMIUM_ARGS, CHROMIUM_PATH} from "./helpers/browser.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";
import {checkPage, displayedErrors, pageBlocks, withProblems} from "./e2e/page-check.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

let dir: string;
let warehouse: string;

interface Run {
  code: number | null;
  out: string;
}

function npm(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["--silent", ...args], {
      cwd: dir,
      env: {...process.env, SAASGUARD_WAREHOUSE: warehouse},
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({code, out}));
  });
}

const reportsIn = () => readdirSync(path.join(dir, "src/reports")).sort();

beforeAll(async () => {
  warehouse = await ensureTestWarehouse();
  dir = mkdtempSync(path.join(os.tmpdir(), "saasguard-authoring-"));
  // a copy of what a clone has (report:new writes into src/, the preview fills src/.observablehq);
  // node_modules and the model are only read
  for (const f of ["loaders", "observablehq.config.ts", "package.json", "tsconfig.json"])
    cpSync(path.join(ROOT, f), path.join(dir, f), {recursive: true});
  cpSync(path.join(ROOT, "src"), path.join(dir, "src"), {
    recursive: true,
    filter: (from) => path.basename(from) !== ".observablehq",
  });
  mkdirSync(path.join(dir, "src/reports"), {recursive: true});
  for (const f of ["node_modules", "models"]) symlinkSync(path.join(ROOT, f), path.join(dir, f));
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true});
});

describe("npm run report:new: bad input writes nothing and says what is wrong", () => {
  test("names and file names", () => {
    expect(reportSlug("Churn by plan — Q3 (EMEA)")).toBe("churn-by-plan-q3-emea");
    expect(reportSlug("Über café's view")).toBe("uber-cafe-s-view");
    expect(reportSlug("!!! ???")).toBe("");
    expect(checkReportName("  Churn   by plan ")).toEqual({name: "Churn by plan", slug: "churn-by-plan"});
    expect(() => checkReportName("x".repeat(MAX_NAME_LENGTH + 1))).toThrow(/at most 80/);
    expect(checkReportName("x".repeat(MAX_NAME_LENGTH)).slug).toHaveLength(MAX_NAME_LENGTH);
  });

  test("no name, a name with no letters, a name too long, markdown syntax, a report that exists", async () => {
    const before = reportsIn();
    const cases: [string[], number, RegExp][] = [
      [[], 2, /report:new: a report NAME is required\nusage: npm run report:new -- NAME/],
      [["--", "   "], 2, /a report NAME is required/],
      [["--", "!!! ???"], 2, /the name "!!! \?\?\?" has no letters or digits a file name can be made of/],
      [["--", "y".repeat(81)], 2, /the name is 81 characters long; a report name has at most 80/],
      [["--", "Cost ${price}"], 2, /contains "\$"/],
      [["--", "A <b>bold</b> report"], 2, /contains an angle bracket/],
      [["--", "--force"], 2, /Unknown option '--force'/],
    ];
    for (const [args, code, message] of cases) {
      const r = await npm(["run", "report:new", ...args]);
      expect(r.code, `${args.join(" ")}: ${r.out}`).toBe(code);
      expect(r.out).toMatch(message);
      expect(reportsIn(), `${args.join(" ")} wrote a file`).toEqual(before);
    }
    // a report that exists is never overwritten, even by a name that only slugifies the same
    const made = await npm(["run", "report:new", "--", "Existing report"]);
    expect(made.code, made.out).toBe(0);
    const file = path.join(dir, "src/reports/existing-report.md");
    writeFileSync(file, readFileSync(file, "utf-8") + "\nThe author's own words.\n");
    const edited = readFileSync(file, "utf-8");
    for (const name of ["Existing report", "existing REPORT!"]) {
      const again = await npm(["run", "report:new", "--", name]);
      expect(again.code, again.out).toBe(1);
      expect(again.out).toMatch(/report:new failed: src\/reports\/existing-report\.md already exists/);
      expect(again.out).toMatch(/Nothing was written\./);
      expect(readFileSync(file, "utf-8")).toBe(edited);
    }
    rmSync(file);
  }, 120_000);
});

/** `SELECT risk_tier, count(*)` over the published risk_scores table, from the warehouse itself. */
async function tierCounts(where = ""): Promise<string[][]> {
  const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
  const c = await instance.connect();
  try {
    const rows = (
      await c.runAndReadAll(
        `SELECT risk_tier, count(*)::INTEGER AS accounts FROM (${siteTableQuery("risk_scores")}) ${where} GROUP BY ALL ORDER BY risk_tier`,
      )
    ).getRows();
    return rows.map((r) => [String(r[0]), String(r[1])]);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** The rows of the Inputs.table whose header names `column` (Framework's display of a ```sql block). */
async function tableRows(page: Page, column: string): Promise<string[][]> {
  return page.$$eval(
    "table",
    (tables, column) => {
      const t = tables.find((t) => [...t.querySelectorAll("thead th")].some((th) => th.textContent?.trim() === column));
      if (!t) return [];
      return [...t.querySelectorAll("tbody tr")].map((tr) =>
        [...tr.querySelectorAll("td")]
          .map((td) => (td.textContent ?? "").trim().replace(/,/g, ""))
          .filter((s) => s !== ""),
      );
    },
    column,
  );
}

describe("a new report, previewed live by npm run dev with no network", () => {
  let preview: ChildProcess | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    if (preview?.pid)
      try {
        process.kill(-preview.pid, "SIGTERM"); // unshare → npm → sh → observable preview
      } catch {
        // already gone
      }
  });

  test("report:new → sql block → npm run dev offline → Chromium shows the result, then the edit, live; a broken block is named", async () => {
    // 1. the report, from the template, with a sql block over a published table
    const made = await npm(["run", "report:new", "--", "Churn by plan"]);
    expect(made.code, made.out).toBe(0);
    expect(made.out).toContain("report:new: wrote src/reports/churn-by-plan.md");
    const printed = /open (http:\/\/127\.0\.0\.1:3000\/reports\/churn-by-plan)\b/.exec(made.out)?.[1];
    expect(printed, made.out).toBeDefined();
    const file = path.join(dir, "src/reports/churn-by-plan.md");
    const query = "SELECT risk_tier, count(*)::INTEGER AS accounts FROM risk GROUP BY ALL ORDER BY risk_tier";
    writeFileSync(file, readFileSync(file, "utf-8") + `\n## Accounts by tier\n\n\`\`\`sql\n${query}\n\`\`\`\n`);
    const source = readFileSync(file, "utf-8");
    expect(source).toMatch(/^title: "Churn by plan"$/m);
    expect(source).toMatch(/^# Churn by plan$/m);
    expect(source).toContain("risk: ../data/risk_scores.arrow");
    expect(source).toContain('from "../components/ui.js"');

    // 2. npm run dev in a network namespace of its own (see the comment at the top)
    const probe = spawnSync("unshare", ["-n", "true"]);
    expect(probe.status, `unshare -n is not permitted here: ${probe.stderr}`).toBe(0);
    preview = spawn(
      "unshare",
      ["-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", "npm", "--silent", "run", "dev", "--", "--no-open"],
      {cwd: dir, env: {...process.env, SAASGUARD_WAREHOUSE: warehouse}, detached: true},
    );
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run dev did not start:\n${log}`)), 90_000);
      const onData = (d: Buffer) => {
        log += d.toString().replace(/\x1b\[[0-9;]*m/g, "");
        if (/↳ http:\/\/127\.0\.0\.1:3000\//.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      preview!.stdout!.on("data", onData);
      preview!.stderr!.on("data", onData);
      preview!.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`npm run dev exited with ${code}:\n${log}`));
      });
    });
    const pid = preview.pid!;
    // the preview's namespace: loopback only, no route to anywhere
    const interfaces = readFileSync(`/proc/${pid}/net/dev`, "utf-8")
      .split("\n")
      .slice(2)
      .map((l) => l.split(":")[0]!.trim())
      .filter(Boolean);
    expect(interfaces).toEqual(["lo"]);
    expect(readFileSync(`/proc/${pid}/net/route`, "utf-8").trim().split("\n")).toHaveLength(1); // the header only
    const previewNs = readlinkSync(`/proc/${pid}/ns/net`);
    expect(previewNs).not.toBe(readlinkSync("/proc/self/ns/net"));

    // 3. Chromium in the same namespace
    const nsFile = path.join(dir, "chromium-netns");
    const wrapper = path.join(dir, "chromium-in-preview-netns.sh");
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexec nsenter --net=/proc/${pid}/ns/net sh -c 'readlink /proc/self/ns/net > "$0"; exec "$@"' ${JSON.stringify(nsFile)} ${JSON.stringify(CHROMIUM_PATH)} "$@"\n`,
      {mode: 0o755},
    );
    browser = await chromium.launch({executablePath: wrapper, args: [...CHROMIUM_ARGS]});
    expect(readFileSync(nsFile, "utf-8").trim()).toBe(previewNs);

    const blocks = await pageBlocks(source, "/reports/churn-by-plan.md");
    const visit = await checkPage(
      browser,
      printed!,
      {file: "src/reports/churn-by-plan.md", pagePath: "/reports/churn-by-plan.md", markdown: source},
      {
        name: "authoring-churn-by-plan",
        ready: (p) => p.waitForSelector("table thead th", {timeout: 90_000}).then(() => {}),
      },
    );
    try {
      const page = visit.page;
      expect(visit.problems).toEqual([]);
      expect(visit.requests.length).toBeGreaterThan(0);
      expect(
        visit.requests.filter((r) => !r.url.startsWith("http://127.0.0.1:3000/") && !/^(data|blob):/.test(r.url)),
      ).toEqual([]);
      expect(await page.textContent("h1")).toBe("Churn by plan");
      // the sidebar lists it under Reports
      expect(
        await page.$$eval("#observablehq-sidebar a", (a) =>
          a.map((x) => `${x.textContent?.trim()} ${x.getAttribute("href")}`),
        ),
      ).toContain("Churn by plan ./churn-by-plan");
      // the template's own blocks ran (KPIs and chart from ../data/risk_scores.arrow) …
      expect(await page.$$eval("[data-kpi] .big", (n) => n.length)).toBe(2);
      expect(await page.$$eval("#report-chart svg [aria-label=bar] rect", (n) => n.length)).toBeGreaterThan(0);
      // … and the author's sql block shows what DuckDB says of the same table
      const want = await tierCounts();
      expect(want.length).toBeGreaterThan(1);
      expect(await tableRows(page, "accounts")).toEqual(want);

      // 4. an edit shows up live: no reload (the marker survives), the query re-runs
      await page.evaluate(() => ((window as unknown as {authoringMarker: number}).authoringMarker = 19));
      const tier = want[0]![0]!;
      writeFileSync(
        file,
        source
          .replace("## Accounts by tier", "## Accounts in one tier")
          .replace(query, query.replace("FROM risk", `FROM risk WHERE risk_tier = '${tier}'`)),
      );
      await page.waitForFunction(
        () => [...document.querySelectorAll("h2")].some((h) => h.textContent === "Accounts in one tier"),
        undefined,
        {
          timeout: 30_000,
        },
      );
      await page.waitForFunction(
        () => [...document.querySelectorAll("table")].some((t) => t.querySelectorAll("tbody tr").length === 1),
        undefined,
        {timeout: 30_000},
      );
      expect(await tableRows(page, "accounts")).toEqual(await tierCounts(`WHERE risk_tier = '${tier}'`));
      expect(await page.evaluate(() => (window as unknown as {authoringMarker?: number}).authoringMarker)).toBe(19);
      // the blocks of the edited file still explain the page: no errors
      const edited = await pageBlocks(readFileSync(file, "utf-8"), "/reports/churn-by-plan.md");
      expect(edited.map((b) => b.id)).not.toEqual(blocks.map((b) => b.id));
      expect(withProblems(visit, "src/reports/churn-by-plan.md", edited, await displayedErrors(page)).problems).toEqual(
        [],
      );
    } finally {
      await visit.close();
    }

    // 5. a report made while the preview runs, with a failing sql block and a block that uses it
    const broken = await npm(["run", "report:new", "--", "Broken report"]);
    expect(broken.code, broken.out).toBe(0);
    const brokenFile = path.join(dir, "src/reports/broken-report.md");
    const head = readFileSync(brokenFile, "utf-8");
    const brokenSource =
      head + "\n## Broken\n\n```sql id=broken\nSELECT * FROM riskk\n```\n\n```js\ndisplay(broken.length)\n```\n";
    writeFileSync(brokenFile, brokenSource);
    // the lines as an editor numbers them
    const sqlLine = brokenSource.split("\n").indexOf("```sql id=broken") + 1;
    const jsBlocks = brokenSource.split("\n").flatMap((l, i) => (l === "```js" ? [i + 1] : []));
    const check = await checkPage(
      browser,
      "http://127.0.0.1:3000/reports/broken-report",
      {file: "src/reports/broken-report.md", pagePath: "/reports/broken-report.md", markdown: brokenSource},
      {name: "authoring-broken-report"},
    );
    try {
      expect(check.blockErrors).toEqual([
        `src/reports/broken-report.md: sql block 2 (line ${sqlLine}) failed: Catalog Error: Table with name riskk does not exist!`,
        `src/reports/broken-report.md: js block ${jsBlocks.length} (line ${jsBlocks.at(-1)}) did not run: it uses broken from sql block 2 (line ${sqlLine}), which failed`,
      ]);
      // nothing else is wrong with the page (the console carries the same DuckDB error), and it is
      // in the running preview's sidebar
      expect(check.problems.filter((p) => !check.blockErrors.includes(p) && !p.includes("riskk"))).toEqual([]);
      expect(check.consoleErrors.some((e) => e.includes("riskk"))).toBe(true);
      expect(check.foreign).toEqual([]);
      expect(await check.page.$$eval("#observablehq-sidebar a", (a) => a.map((x) => x.textContent?.trim()))).toEqual(
        expect.arrayContaining(["Broken report", "Churn by plan"]),
      );
    } finally {
      await check.close();
    }
  }, 240_000);
});
