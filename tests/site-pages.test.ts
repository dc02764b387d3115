/**
 * The dashboard pages end to end: a real warehouse from the real pipeline
 * (ensureTestWarehouse), the real site build, served from 127.0.0.1 and driven in headless
 * Chromium. Every page loads with no console errors and no off-origin request, every chart
 * draws marks, the inputs change what is shown, the Customer 360 picker and the in-browser
 * what-if work, and the measured findings match the warehouse. Screenshots land in
 * test-results/. The pure arithmetic behind the pages (rules/dashboard-math.ts) is unit-tested
 * at the top.
 */
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import type {Browser, Page} from "playwright-core";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {buildSite} from "../loaders/site/build-site.ts";
import {serveSite, type SiteServer} from "../server/site.ts";
import {startLlmStub} from "./helpers/llm-stub.ts";
import {piiColumns, SITE_TABLES, siteTableQuery} from "../loaders/site/site-tables.ts";
import {config} from "../src/rules/config.ts";
import {PRIORITIES} from "../src/rules/playbooks.ts";
import {asciiStrings, dictionaryStrings} from "../src/components/arrow-strings.ts";
import {formatInt} from "../src/components/format.ts";
import {
  actionTier,
  breakEvenAccounts,
  encodeRow,
  measureFinding,
  normalInterval,
  normalQuantile,
  priorityLabel,
  renewalStage,
  roiAt,
  upliftCurve,
  type SignalBucket,
} from "../src/rules/dashboard-math.ts";
import {launchBrowser, openRecordedPage} from "./helpers/browser.ts";
import {startTestApi} from "./helpers/test-api.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";
import {chartMarks, kpiValues, waitForCharts} from "./e2e/checks.ts";
import {visitPage} from "./e2e/site-pages.ts";
import {chartsSettled, checkPage, sourcePages} from "./e2e/page-check.ts";

describe("dashboard arithmetic (rules/dashboard-math.ts)", () => {
  test("normal quantiles and the expected-churn interval", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.05)).toBeCloseTo(-1.644854, 5);
    const i = normalInterval(1000, 100 ** 2, 0.9);
    expect(i.lo).toBeCloseTo(1000 - 164.4854, 3);
    expect(i.hi).toBeCloseTo(1000 + 164.4854, 3);
    expect(normalInterval(10, 1e6).lo).toBe(0); // clipped at zero
  });

  test("uplift curve, ROI at account counts and break-even", () => {
    const accounts = [100, 4000, 1000, 10000].map((expected) => ({expected}));
    const curve = upliftCurve(accounts, 0.15, 600);
    expect(curve.map((p) => p.atRisk)).toEqual([10000, 14000, 15000, 15100]);
    expect(curve[0]!.recoverable).toBeCloseTo(1500);
    expect(curve[0]!.roi).toBeCloseTo(2.5);
    expect(curve[1]!.net).toBeCloseTo(14000 * 0.15 - 1200);
    expect(roiAt(curve, [1, 10]).map((p) => p.n)).toEqual([1, 4]);
    expect(breakEvenAccounts(accounts, 0.15, 600)).toBe(2); // 10000·0.15 and 4000·0.15 ≥ 600; 1000·0.15 < 600
  });

  test("playbook tiers, CTA priorities and renewal stages come from the config", () => {
    expect(PRIORITIES.map(priorityLabel)).toEqual(config.riskTiers.map((t) => t.tier));
    expect(renewalStage(0)).toBe(30);
    expect(renewalStage(30)).toBe(30);
    expect(renewalStage(31)).toBe(60);
    expect(renewalStage(120)).toBe(120);
    expect(renewalStage(121)).toBeNull();
    expect(actionTier("Medium", "Critical")).toBe("Critical");
    expect(actionTier("High", "Low")).toBe("High");
    expect(actionTier("Low", "Low")).toBe("Low");
  });

  test("findings: multipliers against the rest or the base rate", () => {
    const rows: SignalBucket[] = [
      {analysis: "usage_decay", bucket_order: 0, bucket: "0", in_signal: true, observations: 100, churned: 30},
      {analysis: "usage_decay", bucket_order: 1, bucket: "5+", in_signal: false, observations: 900, churned: 90},
    ];
    const rest = measureFinding(rows, "usage_decay", "rest");
    expect(rest.multiplier).toBeCloseTo(3);
    const all = measureFinding(rows, "usage_decay", "all");
    expect(all.baseRate).toBeCloseTo(120 / 1000);
    expect(all.multiplier).toBeCloseTo(0.3 / 0.12);
  });

  test("ASCII string columns decode once per chunk, exactly as Arrow would; others are left to Arrow", async () => {
    const {vectorFromArray, Utf8} = await import("apache-arrow");
    const names = ["Acme Corp", "", "Zenith Partners Corp", "C000001"];
    const whole = vectorFromArray(names, new Utf8());
    expect(asciiStrings(whole)).toEqual(names);
    // several chunks, and a slice that starts inside one
    const chunked = whole.concat(vectorFromArray(["x", "yz"], new Utf8()));
    expect(asciiStrings(chunked)).toEqual([...names, "x", "yz"]);
    expect(asciiStrings(chunked.slice(2))).toEqual([...chunked.slice(2)]);
    expect(asciiStrings(vectorFromArray(["Société Générale", "Acme"], new Utf8()))).toBeNull();
    expect(asciiStrings(vectorFromArray(["a", null], new Utf8()))).toBeNull();
  });

  test("dictionary-encoded string columns decode each dictionary once, exactly as Arrow would", async () => {
    const {vectorFromArray, Dictionary, Int8, Int16, Utf8} = await import("apache-arrow");
    const tiers = vectorFromArray(["Low", null, "Critical", "Low"], new Dictionary(new Utf8(), new Int8()));
    expect(dictionaryStrings(tiers)).toEqual(["Low", null, "Critical", "Low"]);
    // chunks with their own dictionaries, a slice starting inside one, non-ASCII words, Int16 indices
    const chunked = tiers.concat(vectorFromArray(["Société", "Low", null], new Dictionary(new Utf8(), new Int8())));
    expect(dictionaryStrings(chunked)).toEqual([...chunked]);
    expect(dictionaryStrings(chunked.slice(1, 6))).toEqual([...chunked.slice(1, 6)]);
    const owners = vectorFromArray(
      Array.from({length: 500}, (_, i) => (i % 11 === 0 ? null : `csm-${i % 200}`)),
      new Dictionary(new Utf8(), new Int16()),
    );
    expect(dictionaryStrings(owners)).toEqual([...owners]);
    expect(dictionaryStrings(vectorFromArray(["a", "b"], new Utf8()))).toBeNull();
  });

  test("what-if rows are encoded as the model card says", () => {
    const features = [
      {name: "plan_tier", kind: "categorical" as const, categories: ["Enterprise", "Growth", "Starter"]},
      {name: "arr", kind: "numeric" as const},
      {name: "has_open_expansion_opp", kind: "numeric" as const},
      {name: "latest_nps", kind: "numeric" as const},
    ];
    const x = encodeRow(features, {plan_tier: "Starter", arr: 1234.5, has_open_expansion_opp: true, latest_nps: null});
    expect(x[0]).toBe(2);
    expect(x[1]).toBeCloseTo(1234.5);
    expect(x[2]).toBe(1);
    expect(Number.isNaN(x[3])).toBe(true);
    expect(Number.isNaN(encodeRow(features, {plan_tier: "Unknown"})[0])).toBe(true);
  });
});

/** Every page of the site and what must be on it. */
const PAGES: {path: string; name: string; charts: string[]}[] = [
  {path: "", name: "home", charts: ["tier-mix", "tier-chart", "churn-trend", "top-risk"]},
  {
    path: "customer-360",
    name: "customer-360",
    charts: ["c360-action-card", "c360-flags-card", "c360-usage", "c360-drivers", "c360-gtm-card", "c360-tickets-card"],
  },
  {
    path: "churn-heatmap",
    name: "churn-heatmap",
    charts: ["heatmap", "tier-donut", "arr-at-risk-plan", "churn-industry", "score-histogram"],
  },
  {
    path: "risk-drill-down",
    name: "risk-drill-down",
    charts: ["at-risk-table", "usage-scatter", "usage-funnel", "support-churn", "activation-gate", "disagreements"],
  },
  {
    path: "uplift-simulator",
    name: "uplift-simulator",
    charts: ["recovery-curve", "roi", "segment-uplift", "early-stage"],
  },
  {
    path: "propensity-quadrant",
    name: "propensity-quadrant",
    charts: ["quadrant-scatter", "quadrant-table", "quadrant-agreement-card", "quadrant-priority"],
  },
  {path: "renewals", name: "renewals", charts: ["renewals-by-week", "renewal-stages-card", "renewal-list"]},
  {path: "csm-queue", name: "csm-queue", charts: ["csm-queue-table", "csm-workload"]},
  {
    path: "model-quality",
    name: "model-quality",
    charts: ["calibration", "lift", "healthy-churn", "auc-cutoff", "drift", "metrics", "backtest", "tier-stability"],
  },
  {path: "report-template", name: "report-template", charts: ["report-chart"]},
  {path: "playbook-results", name: "playbook-results", charts: ["effectiveness", "completion", "completion-by-csm"]},
];

describe("dashboard pages in headless Chromium", () => {
  let work: string;
  let warehouse: string;
  let server: SiteServer;
  let browser: Browser;
  let stub: Server | undefined;
  /** the real API beside the site, the one origin the site is built to call */
  let api: ApiServer;

  beforeAll(async () => {
    warehouse = await ensureTestWarehouse();
    work = await mkdtemp(path.join(os.tmpdir(), "saasguard-pages-test-"));
    // the API must know the site's origin (CORS) and the site the API's (built in): a free port for the site first
    const sitePort = await new Promise<number>((r) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const {port} = probe.address() as AddressInfo;
        probe.close(() => r(port));
      });
    });
    api = await startTestApi({
      warehousePath: warehouse,
      modelsDir: path.join(path.dirname(warehouse), "models"),
      allowedOrigins: [`http://127.0.0.1:${sitePort}`],
    });
    await buildSite({warehouse, outDir: path.join(work, "dist"), apiOrigins: [api.url], log: () => {}});
    // the API under /api on the site's origin too, as `npm start` serves it: pages work CTAs through it
    server = await serveSite({dir: path.join(work, "dist"), port: sitePort, api: api.app});
    browser = await launchBrowser();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await api?.close();
    await new Promise((r) => (stub ? stub.close(r) : r(undefined)));
    if (work) await rm(work, {recursive: true, force: true});
  });

  /** Opens a page, waits for its charts, checks the universal promises, runs `f`, closes it. */
  async function onPage(
    p: (typeof PAGES)[number],
    f: (page: Page, visit: Awaited<ReturnType<typeof visitPage>>) => Promise<void>,
    query = "",
  ): Promise<void> {
    const visit = await visitPage(
      browser,
      new URL(p.path + query, server.url).href,
      p.name + (query ? "-q" : ""),
      (page) => waitForCharts(page),
    );
    try {
      expect(
        visit.foreign.map((r) => r.url),
        `${p.path}: requests off the local server`,
      ).toEqual([]);
      expect(
        visit.failed.map((r) => `${r.status ?? r.failure} ${r.url}`),
        `${p.path}: failed requests`,
      ).toEqual([]);
      expect(visit.consoleErrors, `${p.path}: console errors`).toEqual([]);
      expect(visit.cellErrors, `${p.path}: cells that failed`).toEqual([]);
      expect(await visit.page.textContent("#build-info"), `${p.path}: build stamp`).toMatch(
        /data as of \d{1,2} \w{3} \d{4} · built \d{1,2} \w{3} \d{4}/,
      );
      const marks = await chartMarks(visit.page);
      for (const id of p.charts) {
        const c = marks.find((m) => m.id === id);
        expect(c, `${p.path}: chart #${id} missing`).toBeDefined();
        // a chart draws marks; a table may legitimately say it has nothing to list (no open tickets)
        expect(c!.marks > 0 || (c!.empty && id === "c360-tickets-card"), `${p.path}: chart #${id} drew nothing`).toBe(
          true,
        );
      }
      await f(visit.page, visit);
    } finally {
      await visit.close();
    }
  }

  /** URL of a built component module (Framework names it `<name>.<hash>.js`). */
  async function componentUrl(name: string): Promise<string> {
    const file = (await readdir(path.join(work, "dist/_import/components"))).find((f) =>
      new RegExp(`^${name}\\.\\w+\\.js$`).test(f),
    );
    if (!file) throw new Error(`no built component ${name}`);
    return `/_import/components/${file}`;
  }
  /** In-page expression: the URL the page fetched risk_scores.arrow from. */
  const RISK_ARROWS_URL = `performance.getEntriesByType("resource").map((e) => e.name).find((n) => /\\/_file\\/data\\/risk_scores\\.\\w+\\.arrow$/.test(n))`;

  test("every page loads cleanly, shows its build, and draws every chart", async () => {
    for (const p of PAGES) {
      await onPage(p, async (_page, visit) => {
        const duckdb = visit.requests.some((r) => /duckdb-(eh|mvp)\.wasm$/.test(r.url));
        // only the analyst's SQL template needs DuckDB-WASM
        expect(duckdb, `${p.path}: loads DuckDB-WASM`).toBe(p.path === "report-template");
      });
    }
  }, 600_000);

  test("every page under src/, reports an analyst adds included, loads with no failed block, console error or request off the site", async () => {
    // found by globbing src/ (tests/e2e/page-check.ts sourcePages), not from PAGES: a new page is covered the day it is added
    const pages = sourcePages(path.resolve(import.meta.dirname, ".."));
    const files = pages.map((p) => p.file);
    expect(files).toEqual(expect.arrayContaining(["src/index.md", "src/data-dictionary.md", "src/report-template.md"]));
    expect(files.filter((f) => f.startsWith("src/reports/")).length, "reports under src/reports/").toBeGreaterThan(0);
    const visited: string[] = [];
    const problems: string[] = [];
    for (const p of pages) {
      const check = await checkPage(
        browser,
        new URL(p.urlPath, server.url).href,
        {...p, markdown: await readFile(path.resolve(import.meta.dirname, "..", p.file), "utf-8")},
        {name: `all-${p.urlPath.replace(/\W+/g, "_") || "home"}`, ready: (page) => chartsSettled(page)},
      );
      try {
        visited.push(p.file);
        problems.push(...check.problems);
      } finally {
        await check.close();
      }
    }
    expect(visited).toEqual(files);
    // each problem names its page file, and a failed block its kind, number and line
    expect(problems).toEqual([]);
  }, 300_000);

  test("executive overview: headline figures, the 90-day interval, small and DuckDB-free", async () => {
    await onPage(PAGES[0]!, async (page, visit) => {
      const k = await kpiValues(page);
      for (const id of [
        "total-arr",
        "active-customers",
        "churn-rate",
        "grr",
        "nrr",
        "expected-churn",
        "arr-at-risk",
        "high-critical",
      ])
        expect(k[id], id).toBeTruthy();
      expect(k["total-arr"]).toMatch(/^\$\d+(\.\d)?[KMB]?$/);
      expect(Number(k["active-customers"]!.replace(/,/g, ""))).toBeGreaterThan(0);
      expect(k["grr"]).toMatch(/%$/);
      expect(k["expected-churn"]).toMatch(/^\$\d/);
      const interval = await page.textContent("[data-kpi=expected-churn] [data-interval]");
      const [lo, hi] = [...interval!.matchAll(/\$([\d.]+)([KMB]?)/g)].map(
        (m) => Number(m[1]) * ({"": 1, K: 1e3, M: 1e6, B: 1e9} as Record<string, number>)[m[2]!]!,
      );
      const mean =
        Number(k["expected-churn"]!.replace(/[$KMB]/g, "")) *
        ({K: 1e3, M: 1e6, B: 1e9} as Record<string, number>)[k["expected-churn"]!.slice(-1)]!;
      expect(lo).toBeLessThan(mean);
      expect(hi).toBeGreaterThan(mean);
      expect(await page.textContent("#since-previous")).toMatch(/first build|since the build of/);
      expect(visit.transferBytes, "home page bytes").toBeLessThanOrEqual(1.5e6);
    });
  }, 120_000);

  test("churn heatmap: the metric switch recolours the cells", async () => {
    await onPage(PAGES[2]!, async (page) => {
      const fills = () =>
        page.$$eval("#heatmap svg [aria-label=cell] rect", (r) => r.map((x) => x.getAttribute("fill")).join());
      const before = await fills();
      expect(before.split(",").length).toBeGreaterThanOrEqual(3 * 8);
      await page.getByLabel("12-month churn rate").check();
      await page.waitForFunction(
        (b) =>
          [...document.querySelectorAll("#heatmap svg [aria-label=cell] rect")]
            .map((x) => x.getAttribute("fill"))
            .join() !== b,
        before,
      );
    });
  }, 120_000);

  test("risk drill-down: the findings carry the multipliers measured in the warehouse; filters change the table", async () => {
    const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    const c = await instance.connect();
    const rows = (
      await c.runAndReadAll(
        `SELECT analysis, bucket_order, bucket, in_signal, observations, churned FROM marts.mart_risk_signals`,
      )
    ).getRowObjectsJson() as unknown as SignalBucket[];
    const [d] = (
      await c.runAndReadAll(
        `SELECT (SELECT count(*) FROM marts.mart_score_disagreements) AS n,
                (SELECT churn_rate FROM marts.mart_score_disagreement_backtest WHERE disagreement = 'watermelon') AS rate`,
      )
    ).getRowObjectsJson() as {n: string; rate: number | null}[];
    const disagreeing = Number(d!.n);
    const watermelonRate = d!.rate;
    c.closeSync();
    instance.closeSync();
    const usage = measureFinding(
      rows.map((r) => ({...r, observations: Number(r.observations), churned: Number(r.churned)})),
      "usage_decay",
    );
    await onPage(PAGES[3]!, async (page) => {
      expect(await page.textContent("[data-finding=usage-decay] .sg-finding-big")).toBe(
        `${usage.multiplier.toFixed(1)}×`,
      );
      expect(await page.textContent("[data-finding=support-overload] .sg-finding-big")).toMatch(/^\d+\.\d×$/);
      expect(await page.textContent("[data-finding=activation-gate] .sg-finding-big")).toMatch(/^-?\d+(\.\d)?%$/);
      const title = () => page.textContent("#at-risk-table h2");
      const before = await title();
      await page.getByRole("checkbox", {name: "Medium"}).check();
      await page.waitForFunction((b) => document.querySelector("#at-risk-table h2")?.textContent !== b, before);
      const n = (s: string | null) => Number(/\(([\d,]+)\)/.exec(s ?? "")![1]!.replace(/,/g, ""));
      expect(n(await title())).toBeGreaterThan(n(before));
      // the watermelon report: tonight's disagreeing accounts and the back-test's churn rate of each group
      expect(n(await page.textContent("#disagreements h2"))).toBe(disagreeing);
      // (no watermelon in the back-test of a small portfolio scored by the tuned score: the page says "—")
      expect(await page.textContent("[data-finding=watermelon] .sg-finding-big")).toBe(
        watermelonRate === null
          ? "—"
          : new Intl.NumberFormat("en-US", {style: "percent", maximumFractionDigits: 1}).format(Number(watermelonRate)),
      );
    });
  }, 120_000);

  test("uplift simulator: assumptions come from the config and the inputs move the figures", async () => {
    await onPage(PAGES[4]!, async (page) => {
      expect(await page.getByLabel("Cost per intervention ($)").inputValue()).toBe(
        String(config.uplift.costPerIntervention),
      );
      const before = (await kpiValues(page)).recoverable;
      const range = page.locator("input[type=range]").first();
      await range.evaluate((el: HTMLInputElement) => {
        el.value = "0.3";
        el.dispatchEvent(new Event("input", {bubbles: true}));
      });
      await page.waitForFunction(
        (b) => document.querySelector("[data-kpi=recoverable] .big")?.textContent !== b,
        before,
      );
      expect(await page.$$eval("#roi-table tbody tr", (r) => r.length)).toBe(config.uplift.accountCounts.length);
    });
  }, 120_000);

  test("propensity quadrant: the contacted filter changes the counts", async () => {
    await onPage(PAGES[5]!, async (page) => {
      const counts = () =>
        page.$$eval("#quadrant-summary tbody tr td:nth-child(2)", (t) => t.map((x) => x.textContent).join());
      const before = await counts();
      await page.getByLabel("Not contacted").check();
      await page.waitForFunction(
        (b) =>
          [...document.querySelectorAll("#quadrant-summary tbody tr td:nth-child(2)")]
            .map((x) => x.textContent)
            .join() !== b,
        before,
      );
      expect(await page.$$eval("#quadrant-scatter svg circle", (c) => c.length)).toBeGreaterThan(0);
    });
  }, 120_000);

  test("propensity quadrant: health-score and model axes, and the table of where they disagree", async () => {
    await onPage(PAGES[5]!, async (page) => {
      const num = (t: string | null) => Number((t ?? "").replace(/,/g, ""));
      const cells = (
        await page.$$eval("#quadrant-agreement tbody tr", (rows) =>
          rows.map((r) => [...r.querySelectorAll("td.num")].map((td) => td.textContent)),
        )
      ).map((r) => r.map(num));
      const healthCounts = cells.map((r) => r.reduce((a, b) => a + b, 0));
      const modelCounts = cells[0]!.map((_, j) => cells.reduce((a, r) => a + r[j]!, 0));
      const summary = async () =>
        (await page.$$eval("#quadrant-summary tbody tr td:nth-child(2)", (t) => t.map((x) => x.textContent))).map(num);
      // the default axis is the health score's: the summary counts are the agreement table's rows
      expect(await summary()).toEqual(healthCounts);
      await page.getByLabel("Churn model probability (90 days)").check();
      await page.waitForFunction(
        (want) =>
          [...document.querySelectorAll("#quadrant-summary tbody tr td:nth-child(2)")]
            .map((x) => Number((x.textContent ?? "").replace(/,/g, "")))
            .join() === want,
        modelCounts.join(),
      );
      // on the model axis they are its columns
      expect(await summary()).toEqual(modelCounts);
    });
  }, 120_000);

  test("renewals: stages 120/90/60/30 and the tier filter", async () => {
    await onPage(PAGES[6]!, async (page) => {
      expect(await page.$$eval("#renewal-stages tbody tr", (r) => r.map((x) => x.getAttribute("data-stage")))).toEqual([
        "120",
        "90",
        "60",
        "30",
      ]);
      const before = (await kpiValues(page)).renewals;
      await page.getByRole("checkbox", {name: "Low"}).uncheck();
      await page.waitForFunction((b) => document.querySelector("[data-kpi=renewals] .big")?.textContent !== b, before);
    });
  }, 120_000);

  test("CSM queue: each CSM's open CTAs from marts.mart_cta_queue, with their due dates", async () => {
    const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    const c = await instance.connect();
    const perOwner = new Map(
      (
        await c.runAndReadAll(
          `SELECT csm_owner, count(*)::INTEGER AS n, CAST(min(due_date) AS VARCHAR) AS first_due FROM marts.mart_cta_queue GROUP BY ALL`,
        )
      )
        .getRowObjectsJson()
        .map((r) => [String(r.csm_owner), {n: Number(r.n), firstDue: String(r.first_due)}]),
    );
    c.closeSync();
    instance.closeSync();
    await onPage(PAGES[7]!, async (page) => {
      const check = async (owner: string) => {
        const want = perOwner.get(owner)!;
        await page.waitForFunction(
          (t) => document.querySelector("#csm-queue-table h2")?.textContent === t,
          `${owner}'s queue (${want.n})`,
        );
        expect((await kpiValues(page))["queue-size"]).toBe(formatInt(want.n));
        // soonest due first: the first row carries the owner's earliest due date from the mart
        expect(await page.getAttribute("#csm-queue-table tbody tr:first-child [data-due]", "data-due")).toBe(
          want.firstDue,
        );
      };
      const title = (await page.textContent("#csm-queue-table h2"))!;
      const first = [...perOwner.keys()].find((o) => title.startsWith(`${o}'s`))!;
      expect(first, "opens on the CSM with the most open CTAs").toBe(
        [...perOwner].sort((x, y) => y[1].n - x[1].n || (x[0] < y[0] ? -1 : 1))[0]![0],
      );
      await check(first);
      const select = page.locator("select").first();
      const other = (await select.locator("option").allTextContents()).find((o) => o !== first)!;
      await select.selectOption({label: other});
      await check(other);
      // the priority filter narrows the queue
      const before = (await kpiValues(page))["queue-size"];
      await page.getByRole("checkbox", {name: "High"}).uncheck();
      await page.waitForFunction(
        (b) => document.querySelector("[data-kpi=queue-size] .big")?.textContent !== b,
        before,
      );
    });
  }, 120_000);

  test("CSM queue: the week that fits, what does not, the digest, rebalancing; the CSM works this week's CTAs live", async () => {
    const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    const c = await instance.connect();
    const [busy] = (
      await c.runAndReadAll(
        `SELECT owner, count(*) FILTER (WHERE lane = 'this_week')::INTEGER AS week, count(*) FILTER (WHERE lane = 'digest')::INTEGER AS digest
         FROM marts.mart_csm_worklist GROUP BY owner ORDER BY week DESC, owner LIMIT 1`,
      )
    ).getRowObjectsJson() as {owner: string; week: number; digest: number}[];
    c.closeSync();
    instance.closeSync();
    await onPage(
      PAGES[7]!,
      async (page) => {
        expect(await page.textContent("#csm-week h2")).toBe(`${busy!.owner}'s week: what fits (${busy!.week})`);
        for (const id of ["#csm-not-this-week", "#csm-digest", "#csm-rebalance"])
          expect(await page.$(id), id).not.toBeNull();
        // the live panel lists exactly this week's CTAs, in the plan's order
        await page.waitForSelector("#csm-work-card #cta-actions-state[data-state=live]");
        const rows = await page.$$eval("#csm-work-card tr[data-cta]", (r) => r.map((x) => x.getAttribute("data-cta")!));
        expect(rows.length).toBe(busy!.week);
        const id = rows[0]!;
        await page.click(`#csm-work-card tr[data-cta="${id}"] button[data-action=dismiss]`);
        await page.selectOption(`#csm-work-card tr[data-cta="${id}"] select`, "already_handled");
        await page.click(`#csm-work-card tr[data-cta="${id}"] button[data-action=save-dismiss]`);
        await page.waitForSelector(`#csm-work-card tr[data-cta="${id}"] .cta-status[data-status=dismissed]`);
        const t = (await (await fetch(`${api.url}/ctas/${id}/timeline`)).json()) as {
          entries: {kind: string; detail: Record<string, unknown>}[];
        };
        expect(t.entries.at(-1)).toMatchObject({
          kind: "status",
          detail: expect.objectContaining({to: "dismissed", reason: "already_handled"}),
        });
      },
      `?csm=${encodeURIComponent(busy!.owner)}`,
    );
  }, 120_000);

  test("model quality: calibration, lift, back-test and the monthly audit's red flag", async () => {
    await onPage(PAGES[8]!, async (page) => {
      const k = await kpiValues(page);
      expect(k["roc-auc"]).toMatch(/^0\.\d{3}$/);
      expect(k["healthy-churn"]).toMatch(/%$/);
      expect(await page.textContent("#healthy-churn")).toContain("red flag > 20%");
      expect(await page.$$eval("#backtest tbody tr", (r) => r.length)).toBeGreaterThan(0);
    });
  }, 120_000);

  test("report template: a sql block over the Arrow export (Framework's sql: front matter, DuckDB-WASM) gives the warehouse's figures", async () => {
    const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    const c = await instance.connect();
    const [expected] = (
      await c.runAndReadAll(
        `SELECT count(DISTINCT industry)::INTEGER AS industries, sum(arr)::DOUBLE AS arr FROM marts.mart_customer_risk_scores`,
      )
    ).getRowObjectsJson() as unknown as {industries: number; arr: number}[];
    c.closeSync();
    instance.closeSync();
    await onPage(PAGES[9]!, async (page, visit) => {
      const k = await kpiValues(page);
      expect(k["industries"]).toBe(formatInt(Number(expected!.industries)));
      // compare the value, not the text: Node's and Chromium's ICU differ ("$26.0M" / "$26M")
      const m = /^\$([\d.]+)([KMB]?)$/.exec(k["arr"] ?? "");
      expect(m, `ARR KPI ${k["arr"]}`).not.toBeNull();
      const unit = ({"": 1, K: 1e3, M: 1e6, B: 1e9} as Record<string, number>)[m![2]!]!;
      expect(Math.abs(Number(m![1]) * unit - Number(expected!.arr))).toBeLessThanOrEqual(0.05 * unit);
      // the ```sql block ran in DuckDB-WASM over the published file, the dashboards' own copy
      const files = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
      expect(
        files.filter((f) => /\/_file\/data\/[^/]+\.arrow$/.test(f)).map((f) => f.split("/").pop()!.split(".")[0]),
      ).toEqual(["risk_scores"]);
      // (the worker fetches the wasm: the context records it, the page's resource timings do not)
      const wasmAt = visit.requests.findIndex((r) => /duckdb-(eh|mvp)\.wasm$/.test(r.url));
      expect(wasmAt).toBeGreaterThanOrEqual(0);
      // Framework's client as the site patches it: the table is requested while DuckDB starts, not
      // after, and the worker runs from its own URL (a blob: worker is parsed anew on every visit)
      const arrowAt = visit.requests.findIndex((r) => /\/risk_scores\.\w+\.arrow$/.test(r.url));
      expect(arrowAt, "risk_scores.arrow is requested before DuckDB's wasm").toBeLessThan(wasmAt);
      expect(page.workers().map((w) => new URL(w.url()).pathname)).toEqual([
        expect.stringMatching(/\/duckdb-browser-(eh|mvp)\.worker\.\w+\.js$/),
      ]);
    });
  }, 120_000);

  test("a report over a table a dashboard already loaded downloads nothing again", async () => {
    // one browser session: the Renewals page reads risk_scores.arrow for its rows, then the report
    // template names the same file in its sql: front matter — same URL, served from the cache
    const rec = await openRecordedPage(browser);
    try {
      await rec.page.goto(new URL("/renewals", server.url).href, {waitUntil: "load"});
      await waitForCharts(rec.page);
      await rec.page.goto(new URL("/report-template", server.url).href, {waitUntil: "load"});
      await waitForCharts(rec.page);
      const arrow = (await rec.page.evaluate(() =>
        performance
          .getEntriesByType("resource")
          .filter((e) => /\/_file\/data\/risk_scores\.\w+\.arrow$/.test(e.name))
          .map((e) => ({
            transfer: (e as PerformanceResourceTiming).transferSize,
            body: (e as PerformanceResourceTiming).decodedBodySize,
          })),
      )) as {transfer: number; body: number}[];
      expect(arrow.length).toBeGreaterThanOrEqual(1);
      expect(
        arrow.every((e) => e.transfer === 0 && e.body > 0),
        JSON.stringify(arrow),
      ).toBe(true);
    } finally {
      await rec.context.close();
    }
  }, 120_000);

  test("data dictionary: a card per published table with the warehouse's columns and rows and working page links; no built data file has a PII column", async () => {
    const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    const c = await instance.connect();
    const counts: Record<string, number> = {};
    for (const name of Object.keys(SITE_TABLES))
      counts[name] = Number(
        (
          (
            await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM (${siteTableQuery(name)})`)
          ).getRowObjectsJson()[0] as {n: number}
        ).n,
      );
    c.closeSync();
    instance.closeSync();
    const visit = await visitPage(
      browser,
      new URL("data-dictionary", server.url).href,
      "data-dictionary",
      async (page) => {
        await page.waitForSelector("[data-table]");
      },
    );
    try {
      expect(visit.foreign.map((r) => r.url)).toEqual([]);
      expect(visit.failed.map((r) => `${r.status ?? r.failure} ${r.url}`)).toEqual([]);
      expect(visit.consoleErrors).toEqual([]);
      expect(visit.cellErrors).toEqual([]);
      const cards = await visit.page.$$eval("[data-table]", (nodes) =>
        nodes.map((card) => ({
          name: card.getAttribute("data-table")!,
          rows: Number(card.getAttribute("data-rows")),
          columns: [...card.querySelectorAll("tr[data-column]")].map((r) => r.getAttribute("data-column")),
          links: [...card.querySelectorAll("a[data-page]")].map((a) => (a as HTMLAnchorElement).href),
        })),
      );
      expect(cards.map((x) => x.name)).toEqual(Object.keys(SITE_TABLES));
      for (const card of cards) {
        expect(card.columns, card.name).toEqual([
          ...(SITE_TABLES as Record<string, {columns: readonly string[]}>)[card.name]!.columns,
        ]);
        expect(card.rows, card.name).toBe(counts[card.name]);
      }
      expect(cards.find((x) => x.name === "risk_scores")!.links.map((h) => new URL(h).pathname)).toEqual(
        expect.arrayContaining(["/renewals", "/report-template", "/risk-drill-down", "/uplift-simulator"]),
      );
      // every "used by" link opens a page of the built site
      for (const href of new Set(cards.flatMap((x) => x.links))) expect((await fetch(href)).status, href).toBe(200);
      // the column finder keeps the cards that have the column
      await visit.page.fill("#dictionary-find", "expected_arr_loss_90d");
      expect(
        await visit.page.$$eval("[data-table]:not([hidden])", (n) => n.map((x) => x.getAttribute("data-table"))),
      ).toEqual(["risk_scores"]);
      // "Try a query": DuckDB-WASM only once a query runs, over the tables it names, with native DuckDB's answer
      const wasm = () => visit.requests.filter((r) => /duckdb-(eh|mvp)\.wasm$/.test(r.url)).length;
      expect(wasm(), "DuckDB-WASM before any query").toBe(0);
      const query =
        "SELECT c.owner, count(*)::INTEGER AS ctas FROM cta_queue q JOIN csm_worklist c USING (cta_id) GROUP BY ALL ORDER BY ctas DESC, owner LIMIT 3";
      const native = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
      const nc = await native.connect();
      const expected = (
        await nc.runAndReadAll(
          `WITH cta_queue AS (${siteTableQuery("cta_queue")}), csm_worklist AS (${siteTableQuery("csm_worklist")}) ${query}`,
        )
      )
        .getRows()
        .map((r) => r.map(String));
      nc.closeSync();
      native.closeSync();
      const run = async (sql: string) => {
        await visit.page.fill("#sg-sql-input", sql);
        await visit.page.click("#sg-sql-run");
        await visit.page.waitForFunction(() =>
          /^(done|error)$/.test(document.querySelector("#sg-sql-output")!.getAttribute("data-state")!),
        );
        return visit.page.$eval("#sg-sql-output", (o) => ({
          state: o.getAttribute("data-state"),
          rows: [...o.querySelectorAll("tbody tr")].map((tr) =>
            [...tr.querySelectorAll("td")].map((td) => td.textContent),
          ),
          error: o.querySelector(".sg-error")?.textContent ?? null,
        }));
      };
      expect(await run(query)).toEqual({state: "done", rows: expected, error: null});
      expect(wasm(), "DuckDB-WASM once a query ran").toBeGreaterThan(0);
      const files = visit.requests
        .filter((r) => /\/_file\/data\/\w+\.\w+\.arrow$/.test(r.url))
        .map((r) => r.url.split("/").pop()!.split(".")[0]);
      expect(files.sort()).toEqual(["csm_worklist", "cta_queue"]);
      const bad = await run("SELECT no_such_column FROM risk_scores");
      expect(bad.state).toBe("error");
      expect(bad.error).toMatch(/no_such_column/);
    } finally {
      await visit.close();
    }
    // what the built site publishes carries no PII column: Arrow fields (nested too) and JSON keys
    // (site-offline.test.ts scans every built file for e-mail addresses)
    const {tableFromIPC} = await import("apache-arrow");
    const names = new Set<string>();
    const fieldNames = (fields: {name: string; type: {children?: unknown[]}}[]): void => {
      for (const f of fields) {
        names.add(f.name);
        if (f.type.children) fieldNames(f.type.children as {name: string; type: {children?: unknown[]}}[]);
      }
    };
    const keys = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(keys);
      else if (v && typeof v === "object")
        for (const [k, x] of Object.entries(v)) {
          names.add(k);
          keys(x);
        }
    };
    const dataDir = path.join(work, "dist", "_file", "data");
    const files = (await readdir(dataDir, {recursive: true})).filter((f) => /\.(arrow|json)$/.test(f));
    expect(files.filter((f) => f.endsWith(".arrow")).length).toBeGreaterThanOrEqual(Object.keys(SITE_TABLES).length);
    for (const f of files) {
      const bytes = await readFile(path.join(dataDir, f));
      if (f.endsWith(".arrow")) fieldNames(tableFromIPC(bytes).schema.fields as never);
      else keys(JSON.parse(bytes.toString("utf-8")));
    }
    expect(names.size).toBeGreaterThan(100);
    expect(piiColumns([...names])).toEqual([]);
  }, 120_000);

  test("the patched DuckDB-WASM workers (eh and mvp) give native DuckDB's answers to a battery of SQL", async () => {
    // the worker glue is patched at build time (DUCKDB_WORKER_PATCHES): run aggregation, window,
    // string, regex, date, list, parameter, large-memory and error queries through it and through
    // native DuckDB on the same rows, and require the same answers
    const battery: {sql: string; params?: unknown[]}[] = [
      // dictionary-encoded columns in the Arrow export arrive as plain VARCHAR, like the warehouse's
      {
        sql: "SELECT typeof(industry) AS industry, typeof(risk_tier) AS tier, typeof(customer_id) AS id, typeof(renewal_date) AS renewal, typeof(arr) AS arr FROM risk LIMIT 1",
      },
      {
        sql: "SELECT risk_tier, plan_tier, count(*)::INTEGER AS n, round(sum(arr))::DOUBLE AS arr, round(avg(churn_probability), 6)::DOUBLE AS p FROM risk GROUP BY ALL ORDER BY ALL",
      },
      {
        sql: "SELECT industry, customer_id, upper(company_name) AS name, rank() OVER (PARTITION BY industry ORDER BY churn_probability DESC, customer_id)::INTEGER AS r FROM risk QUALIFY r <= 3 ORDER BY industry, r",
      },
      {
        sql: "SELECT count(*) FILTER (WHERE regexp_matches(customer_id, '^C0*1'))::INTEGER AS a, string_agg(DISTINCT left(industry, 4), '|' ORDER BY left(industry, 4)) AS b, max(length(company_name))::INTEGER AS c FROM risk",
      },
      {
        sql: "SELECT strftime(min(renewal_date), '%Y-%m-%d') AS first, strftime(max(renewal_date), '%Y-%m-%d') AS last, count(*) FILTER (WHERE date_diff('day', DATE '2026-01-01', renewal_date) > 90)::INTEGER AS later FROM risk",
      },
      {
        sql: "SELECT array_to_string(list_sort(list(DISTINCT plan_tier)), ',') AS tiers, array_to_string(list_transform([1, 2, 3], x -> x * 2), ',') AS doubled FROM risk",
      },
      {sql: "SELECT count(*)::INTEGER AS n FROM risk WHERE arr > ? AND risk_tier = ?", params: [50_000, "Critical"]},
      {sql: "SELECT count(DISTINCT i)::INTEGER AS n, sum(i % 7)::INTEGER AS s FROM range(2000000) t(i)"},
      {sql: "SELECT * FROM no_such_table"},
      {sql: "SELECT CAST('twelve' AS INTEGER) AS x"},
      {sql: "SELECT 42::INTEGER AS still_working"},
    ];
    const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    const c = await instance.connect();
    const native: unknown[] = [];
    for (const q of battery) {
      try {
        native.push(
          (
            await c.runAndReadAll(`WITH risk AS (${siteTableQuery("risk_scores")}) ${q.sql}`, q.params as never)
          ).getRowObjectsJson(),
        );
      } catch (error) {
        native.push({error: /^(\w+ Error)/.exec((error as Error).message)?.[1] ?? (error as Error).message});
      }
    }
    c.closeSync();
    instance.closeSync();
    // the patches go into both workers: the `eh` one Chromium picks through db.ts, and the `mvp`
    // one (browsers without wasm exceptions), started here by hand
    const duckdbDir = path.join("_npm/@duckdb", (await readdir(path.join(work, "dist/_npm/@duckdb")))[0]!, "dist");
    const mvpWorker = (await readdir(path.join(work, "dist", duckdbDir))).find((f) =>
      /^duckdb-browser-mvp\.worker\.\w+\.js$/.test(f),
    )!;
    await onPage(PAGES[9]!, async (page) => {
      // a string, not a function: vitest would rewrite a function's import() for Node
      const [eh, mvp] = (await page.evaluate(`(async (queries) => {
        const arrows = ${RISK_ARROWS_URL};
        const run = async (query) => {
          const out = [];
          for (const q of queries) {
            try {
              out.push(await query(q.sql, q.params));
            } catch (error) {
              out.push({ error: /^(\\w+ Error)/.exec(error.message)?.[1] ?? error.message });
            }
          }
          return out;
        };
        const { loadTables, QUERY_CONFIG } = await import(${JSON.stringify(await componentUrl("db"))});
        const tables = await loadTables({ risk: { name: "risk_scores.arrow", arrayBuffer: () => fetch(arrows).then((r) => r.arrayBuffer()) } });
        const viaDbTs = await run((sql, params) => tables.query(sql, params));
        const duckdb = await import(document.querySelector('link[rel=modulepreload][href*="/@duckdb/duckdb-wasm@"]').href);
        const db = new duckdb.AsyncDuckDB(new duckdb.ConsoleLogger(duckdb.LogLevel.WARNING), new Worker("/${duckdbDir}/${mvpWorker}"));
        await db.instantiate("/${duckdbDir}/duckdb-mvp.wasm");
        await db.open({ query: QUERY_CONFIG });
        const c = await db.connect();
        await c.insertArrowFromIPCStream(new Uint8Array(await (await fetch(arrows)).arrayBuffer()), { name: "risk", create: true });
        const rows = (t) => t.toArray().map((r) => r.toJSON());
        const viaMvp = await run(async (sql, params) => rows(params ? await (await c.prepare(sql)).query(...params) : await c.query(sql)));
        await db.terminate();
        return [viaDbTs, viaMvp];
      })(${JSON.stringify(battery)})`)) as [unknown[], unknown[]];
      for (let i = 0; i < battery.length; ++i) {
        expect(eh[i], `eh worker: ${battery[i]!.sql}`).toEqual(native[i]);
        // duckdb-wasm 1.29's mvp glue never defines _setThrew, so a SQL error surfaces as
        // "_setThrew is not defined" there, patched or not (duckdb/duckdb-wasm#1966)
        const upstream = {error: "_setThrew is not defined"};
        expect(mvp[i], `mvp worker: ${battery[i]!.sql}`).toEqual(
          "error" in (native[i] as object) ? upstream : native[i],
        );
      }
      expect(native.every((r) => Array.isArray(r) || "error" in (r as object))).toBe(true);
      expect(native.filter((r) => !Array.isArray(r))).toEqual([{error: "Catalog Error"}, {error: "Conversion Error"}]);
      expect(native.at(-1)).toEqual([{still_working: 42}]);
    });
  }, 180_000);

  test("rows.ts and db.ts read a Parquet file exactly as the Arrow export, and name a file they cannot read", async () => {
    // the site ships .arrow only; a report author's own Parquet file goes through parquet-wasm
    const dist = path.join(work, "dist");
    await mkdir(path.join(dist, "_file/test"), {recursive: true});
    const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
    const c = await instance.connect();
    await c.run(
      `COPY (${siteTableQuery("risk_scores")}) TO '${path.join(dist, "_file/test/risk.parquet")}' (FORMAT parquet)`,
    );
    c.closeSync();
    instance.closeSync();
    await writeFile(path.join(dist, "_file/test/broken.arrows"), "not an Arrow stream");
    const real = (await readdir(path.join(dist, "_file/data"))).find((f) => /^risk_scores\.\w+\.arrow$/.test(f))!;
    const bytes = await readFile(path.join(dist, "_file/data", real));
    await writeFile(path.join(dist, "_file/test/truncated.arrows"), bytes.subarray(0, Math.floor(bytes.length / 2)));
    await onPage(PAGES[3]!, async (page) => {
      const r = (await page.evaluate(`(async () => {
        const { loadRows } = await import(${JSON.stringify(await componentUrl("rows"))});
        const { loadTables } = await import(${JSON.stringify(await componentUrl("db"))});
        const arrows = ${RISK_ARROWS_URL};
        const file = (name, url) => ({ name, arrayBuffer: () => fetch(url).then((res) => res.arrayBuffer()) });
        const fromArrows = await loadRows(file("risk_scores.arrow", arrows));
        const fromParquet = await loadRows(file("risk.parquet", "/_file/test/risk.parquet"));
        const db = await loadTables({ a: file("risk_scores.arrow", arrows), p: file("risk.parquet", "/_file/test/risk.parquet") });
        const [diff] = await db.query("SELECT count(*)::INTEGER AS n FROM (SELECT * FROM a EXCEPT SELECT * FROM p UNION ALL SELECT * FROM p EXCEPT SELECT * FROM a)");
        const errors = [];
        const attempt = (f) => f().then(() => "no error", (e) => e.message);
        // a failed loadTables stops the DuckDB worker it started
        let terminated = 0;
        const terminate = Worker.prototype.terminate;
        Worker.prototype.terminate = function () { terminated++; return terminate.call(this); };
        errors.push(await attempt(() => loadRows(file("broken.arrows", "/_file/test/broken.arrows"))));
        errors.push(await attempt(() => loadRows(file("risk.csv", "/_file/test/risk.parquet"))));
        errors.push(await attempt(() => loadTables({ x: file("broken.arrows", "/_file/test/broken.arrows") })));
        errors.push(await attempt(() => loadRows(file("truncated.arrows", "/_file/test/truncated.arrows"))));
        errors.push(await attempt(() => loadTables({ t: file("truncated.arrows", "/_file/test/truncated.arrows") })));
        for (let t = 0; terminated < 2 && t < 200; t++) await new Promise((r) => setTimeout(r, 50));
        return { n: fromArrows.length, same: JSON.stringify(fromArrows) === JSON.stringify(fromParquet), diff: diff.n, errors, terminated };
      })()`)) as {n: number; same: boolean; diff: number; errors: string[]; terminated: number};
      expect(r.n).toBeGreaterThan(0);
      expect(r.same, "loadRows: Parquet rows equal the Arrow export's rows").toBe(true);
      expect(r.diff, "DuckDB-WASM: rows in one table but not the other").toBe(0);
      expect(r.errors[0]).toMatch(/^loadRows: cannot read broken\.arrows: ./);
      expect(r.errors[1]).toBe(
        "loadRows: cannot read risk.csv: expected an .arrow or .arrows (Arrow IPC stream) or .parquet file",
      );
      expect(r.errors[2]).toBe(
        "loadTables: cannot load broken.arrows as table x: not an Arrow IPC stream (it does not start with the stream's continuation marker)",
      );
      expect(r.errors[3]).toMatch(/^loadRows: cannot read truncated\.arrows: ./);
      expect(r.terminated, "DuckDB workers stopped after the two failed loadTables").toBe(2);
      expect(r.errors[4]).toBe(
        "loadTables: cannot load truncated.arrows as table t: the Arrow IPC stream is incomplete (it does not end with the end-of-stream marker)",
      );
    });
  }, 180_000);

  test("customer 360: search, pick, switch, what-if in the browser, summary availability", async () => {
    await onPage(PAGES[1]!, async (page) => {
      const first = await page.getAttribute("#c360-account", "data-customer");
      expect(first).toMatch(/^C\d+/);
      // the action card lists the account's open CTAs from the mart, with their fixed due dates
      const instance = await DuckDBInstance.create(warehouse, {access_mode: "READ_ONLY"});
      const conn = await instance.connect();
      const ctas = (
        await conn.runAndReadAll(
          `SELECT CAST(due_date AS VARCHAR) AS due FROM marts.mart_cta_queue WHERE customer_id = '${first}' ORDER BY due_date, priority_rank, cta_id`,
        )
      ).getRowObjectsJson();
      conn.closeSync();
      instance.closeSync();
      expect(ctas.length, "the riskiest account has open CTAs").toBeGreaterThan(0);
      expect(await page.$$eval("#c360-ctas [data-due]", (t) => t.map((x) => x.getAttribute("data-due")))).toEqual(
        ctas.map((r) => String(r.due)),
      );
      // search by name: type part of another account's name and pick it with the keyboard
      const other = await page.$eval(
        "#c360-results",
        (s, id) => [...(s as HTMLSelectElement).options].find((o) => o.value !== id)!.textContent!.split(" · ")[0]!,
        first,
      );
      await page.fill("#c360-search", other!);
      await page.focus("#c360-search");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("Enter");
      await page.waitForFunction(
        (id) => document.querySelector("#c360-account")?.getAttribute("data-customer") !== id,
        first,
      );
      expect(await page.textContent("#c360-account h2")).toContain(other!);
      expect(page.url()).toMatch(/[?&]id=C\d+/);
      // search by id
      await page.fill("#c360-search", first!);
      await page.keyboard.press("Enter");
      await page.waitForFunction(
        (id) => document.querySelector("#c360-account")?.getAttribute("data-customer") === id,
        first,
      );
      await waitForCharts(page);
      // the what-if scores in the browser and reacts to its inputs
      await page.waitForSelector("#whatif-result[data-probability]", {timeout: 60_000});
      const p0 = Number(await page.getAttribute("#whatif-result", "data-probability"));
      expect(p0).toBeGreaterThan(0);
      expect(p0).toBeLessThan(1);
      const nightly = await page.textContent("#whatif-result .sg-meta");
      // the browser's score of the unchanged account equals the nightly build's
      const [inBrowser, build] = [...nightly!.matchAll(/([\d.]+)%/g)].map((m) => m[1]);
      expect(inBrowser).toBe(build);
      await page.locator("#whatif-events_last_30d").evaluate((el: HTMLInputElement) => {
        el.value = "0";
        el.dispatchEvent(new Event("input", {bubbles: true}));
      });
      await page.locator("#whatif-high_priority_tickets_30d").evaluate((el: HTMLInputElement) => {
        el.value = "6";
        el.dispatchEvent(new Event("input", {bubbles: true}));
      });
      await page.waitForFunction(
        (p) => Number(document.querySelector("#whatif-result")?.getAttribute("data-probability")) !== p,
        p0,
      );
      // the API the site's server mounts makes the assistant live with no ?api=
      await page.waitForSelector("#c360-summary button");
      expect(await page.isDisabled("#c360-summary button")).toBe(false);
      expect(await page.$("#c360-summary-note")).toBeNull();
      await page.screenshot({path: path.resolve("test-results", "site-customer-360-whatif.png"), fullPage: true});
    });
  }, 180_000);

  test("customer 360: with ?api= the summary button calls the API and shows the summary, not its JSON", async () => {
    const visit = await visitPage(
      browser,
      new URL(`customer-360?api=${encodeURIComponent(api.url)}`, server.url).href,
      "customer-360-api",
      (page) => waitForCharts(page),
    );
    try {
      expect(visit.consoleErrors).toEqual([]);
      await visit.page.click("#c360-summary button");
      await visit.page.waitForSelector("#c360-summary-output[data-state=done]");
      const shown = (await visit.page.textContent("#c360-summary-output"))!;
      expect(shown).toContain(config.governance.watermark);
      expect(shown).toContain("built-in summariser");
      expect(shown).not.toMatch(/account_token|"headline"|\{/);
      expect(await visit.page.$$eval("#c360-summary-output li", (li) => li.length)).toBeGreaterThanOrEqual(2);
      // the only request off the site's origin is the API it was built for
      expect(
        visit.requests.filter(
          (r) => !r.url.startsWith(server.url) && !r.url.startsWith(api.url) && !/^(data|blob):/.test(r.url),
        ),
      ).toEqual([]);
      await visit.page.screenshot({
        path: path.resolve("test-results", "site-customer-360-summary.png"),
        fullPage: true,
      });
    } finally {
      await visit.close();
    }
  }, 120_000);

  test("customer 360: a crafted ?api= link to another origin gets nothing, not even the key", async () => {
    const calls: string[] = [];
    stub = createServer((req, res) => {
      calls.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
      res.setHeader("access-control-allow-origin", "*");
      res.setHeader("access-control-allow-headers", "content-type, authorization");
      res.writeHead(req.method === "OPTIONS" ? 204 : 200, {"content-type": "application/json"}).end("{}");
    });
    await new Promise<void>((r) => stub!.listen(0, "127.0.0.1", r));
    const collector = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    const visit = await visitPage(
      browser,
      new URL(`customer-360?api=${encodeURIComponent(collector)}`, server.url).href,
      "customer-360-foreign-api",
      (page) => waitForCharts(page),
    );
    try {
      await visit.page.evaluate(() => sessionStorage.setItem("saasguard-api-key", "sg_secret_key_typed_before"));
      expect(await visit.page.getAttribute("#c360-summary-note", "data-state")).toBe("refused");
      expect(await visit.page.isDisabled("#c360-summary button")).toBe(true);
      expect(await visit.page.textContent("#c360-summary-note")).toContain(`not ${collector}`);
      expect(await visit.page.$("#c360-summary input[type=password]")).toBeNull();
      expect(calls).toEqual([]);
      expect(visit.requests.filter((r) => r.url.startsWith(collector))).toEqual([]);
    } finally {
      await visit.close();
    }
  }, 120_000);
  test("customer 360: a CSM works the account's CTAs on the page; the API (and so the next build) has every change", async () => {
    const visit = await visitPage(browser, new URL("customer-360", server.url).href, "customer-360-work", (page) =>
      waitForCharts(page),
    );
    try {
      const page = visit.page;
      await page.waitForSelector("#cta-actions-state");
      expect(await page.getAttribute("#cta-actions-state", "data-state")).toBe("live");
      const rows = await page.$$eval("#cta-work tr[data-cta]", (r) => r.map((x) => x.getAttribute("data-cta")!));
      expect(rows.length, "the riskiest account has CTAs to work").toBeGreaterThan(1);
      const [first, second] = rows as [string, string];
      const row = (id: string) => `#cta-work tr[data-cta="${id}"]`;
      await page.click(`${row(first)} button[data-action=start]`);
      await page.waitForSelector(`${row(first)} .cta-status[data-status=in_progress]`);
      await page.click(`${row(first)} button[data-action=note]`);
      await page.fill(`${row(first)} textarea`, "Booked an executive call for Thursday");
      await page.click(`${row(first)} button[data-action=save-note]`);
      await page.waitForSelector(`${row(first)} .cta-message[data-state=saved]`);
      await page.click(`${row(second)} button[data-action=snooze]`);
      await page.fill(`${row(second)} input[aria-label="Snooze reason"]`, "sponsor on holiday");
      await page.click(`${row(second)} button[data-action=save-snooze]`);
      await page.waitForSelector(`${row(second)} .cta-status[data-status=snoozed]`);
      await page.click(`${row(first)} button[data-action=done]`);
      await page.waitForSelector(`${row(first)} .cta-status[data-status=done]`);
      // what the page did is in the API: statuses, the note and who wrote it
      const get = async (p: string) => (await fetch(`${api.url}${p}`)).json() as Promise<Record<string, unknown>>;
      const listed = (await get("/ctas?status=done,snoozed&limit=500")).items as {cta_id: string; status: string}[];
      expect(listed.find((c) => c.cta_id === first)?.status).toBe("done");
      expect(listed.find((c) => c.cta_id === second)?.status).toBe("snoozed");
      const timeline = (await get(`/ctas/${first}/timeline`)).entries as {
        kind: string;
        detail: Record<string, unknown>;
      }[];
      expect(timeline.map((e) => e.kind)).toEqual(["raised", "status", "note", "status"]);
      expect(timeline[2]!.detail.text).toBe("Booked an executive call for Thursday");
      // a second click on a done CTA is refused and says so on the page
      await page.click(`${row(first)} button[data-action=start]`);
      await page.waitForSelector(`${row(first)} .cta-message[data-state=error]`);
      expect(await page.textContent(`${row(first)} .cta-message`)).toMatch(/Not saved: .*done/);
      // the browser logs the refused PATCH (409) as a failed resource; nothing else may fail
      expect(visit.consoleErrors.filter((e) => !/\b409\b/.test(e))).toEqual([]);
    } finally {
      await visit.close();
    }
  }, 120_000);

  test("customer 360: a CSM writes a CSM and an executive brief naming the account, asks a follow-up and rates both — built-in and through a language model", async () => {
    const llm = await startLlmStub();
    const llmApi = await startTestApi({
      warehousePath: warehouse,
      modelsDir: path.join(path.dirname(warehouse), "models"),
      llm: {baseURL: llm.url, apiKey: "stub-secret", model: "stub-model"},
      llmTimeoutMs: 2000,
    });
    const llmSite = await serveSite({dir: path.join(work, "dist"), port: 0, api: llmApi.app});
    const named: string[] = [];
    try {
      for (const [site, backend, generator] of [
        [server, api, "builtin"],
        [llmSite, llmApi, "llm"],
      ] as const) {
        const visit = await visitPage(
          browser,
          new URL("customer-360", site.url).href,
          `customer-360-assistant-${generator}`,
          (page) => waitForCharts(page),
        );
        try {
          const page = visit.page;
          const id = (await page.getAttribute("#c360-account", "data-customer"))!;
          const name = String(
            ((await (await fetch(`${backend.url}/customers/${id}`)).json()) as {profile: {company_name: string}})
              .profile.company_name,
          );
          named.push(name);
          await page.waitForSelector("#c360-summary button:not([disabled])");
          // the CSM brief, named, watermarked, then rated accurate
          await page.click("#c360-summary .sg-row button");
          await page.waitForSelector("#c360-summary-output[data-state=done]");
          const brief = (await page.textContent("#c360-summary-output"))!;
          expect(brief).toContain(name);
          expect(brief).toContain(config.governance.watermark);
          expect(brief).not.toMatch(/acct_[0-9a-f]{12}|[a-z]+_[a-z_]+/);
          expect(await page.getAttribute("#c360-summary-output .sg-callout", "data-generator")).toBe(generator);
          await page.click("#c360-summary-output [data-verdict=accurate]");
          await page.waitForSelector("#c360-summary-output .assistant-rating[data-rated=accurate]");
          // the executive brief
          await page.selectOption("#c360-summary select", "executive");
          await page.click("#c360-summary .sg-row button");
          await page.waitForFunction(() =>
            /The ask/.test(document.querySelector("#c360-summary-output")?.textContent ?? ""),
          );
          expect(await page.textContent("#c360-summary-output")).toContain(name);
          // a follow-up question, answered from the account's facts, cited, then rated not accurate with a reason
          await page.fill("#c360-ask input", "When is the renewal?");
          await page.click("#c360-ask button");
          await page.waitForSelector("#c360-answers .assistant-answer");
          const answer = (await page.textContent("#c360-answers .assistant-answer"))!;
          expect(answer).toContain(name);
          expect(answer).toMatch(/Based on: .*Days to renewal/);
          expect(await page.getAttribute("#c360-answers .assistant-answer", "data-generator")).toBe(generator);
          await page.click("#c360-answers [data-verdict=inaccurate]");
          await page.fill("#c360-answers input[aria-label='What was wrong']", "The renewal date is out of date");
          await page.click("#c360-answers [data-verdict=inaccurate]");
          await page.waitForSelector("#c360-answers .assistant-rating[data-rated=inaccurate]");
          // a question about something else is refused on the page, with nothing to rate
          await page.fill("#c360-ask input", "Which other accounts are at risk?");
          await page.click("#c360-ask button");
          await page.waitForSelector("#c360-answers .assistant-answer[data-refused=true]");
          expect(visit.consoleErrors).toEqual([]);
          expect(visit.foreign.map((r) => r.url)).toEqual([]);
          // both ratings are in the store, counted by generator and audience
          const quality = await backend.store.assistantQuality();
          const rated = quality.filter((q) => q.generator === generator).reduce((n, q) => n + q.rated, 0);
          expect(rated).toBeGreaterThanOrEqual(2);
          await page.screenshot({
            path: path.resolve("test-results", `site-customer-360-assistant-${generator}.png`),
            fullPage: true,
          });
        } finally {
          await visit.close();
        }
      }
      // the model behind the site never saw a name
      for (const r of llm.requests) {
        const prompt = r.body.messages!.map((m) => m.content).join("\n");
        for (const name of named) expect(prompt).not.toContain(name);
      }
      expect(llm.requests.length).toBeGreaterThanOrEqual(3);
    } finally {
      await llmSite.close();
      await llmApi.close();
      await llm.close();
    }
  }, 240_000);

  test("customer 360 on a static host with no API: the snapshot, and actions say they are unavailable", async () => {
    const bare = await serveSite({dir: path.join(work, "dist"), port: 0});
    const visit = await visitPage(browser, new URL("customer-360", bare.url).href, "customer-360-no-api", (page) =>
      waitForCharts(page),
    );
    try {
      await visit.page.waitForSelector("#cta-actions-state");
      expect(await visit.page.getAttribute("#cta-actions-state", "data-state")).toBe("unavailable");
      expect(await visit.page.textContent("#cta-actions-state")).toMatch(/Actions are unavailable: .*nightly snapshot/);
      expect(await visit.page.$("#cta-work")).toBeNull();
      // the assistant says why it cannot work here
      expect(await visit.page.getAttribute("#c360-summary-note", "data-state")).toBe("unavailable");
      expect(await visit.page.isDisabled("#c360-summary button")).toBe(true);
      // the nightly snapshot's CTAs are still on the action card
      expect((await visit.page.$$("#c360-ctas [data-due]")).length).toBeGreaterThan(0);
      // no API announced by the server: the page asks for none
      expect(visit.failed).toEqual([]);
      expect(visit.requests.filter((r) => new URL(r.url).pathname.startsWith("/api/"))).toEqual([]);
    } finally {
      await visit.close();
      await bare.close();
    }
  }, 120_000);
});
