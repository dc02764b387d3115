/**
 * Dashboard page timings in headless Chromium, for `npm run bench` (wired in bench/run.ts).
 *
 * For every built page: navigation start → "all charts drawn" (no Framework cell still
 * loading, every chart card holds an SVG, a table or an empty-state message), on a cold cache
 * (fresh browser context) and a warm one (same context, the median of WARM_VISITS more visits), plus the bytes
 * transferred on the cold visit and whether the page loaded DuckDB-WASM. For Customer 360 it
 * also measures switching accounts through the picker (selection → new account drawn).
 *
 * DuckDB pages also report when src/components/db.ts started DuckDB-WASM and when it was
 * instantiated and open (its `saasguard:*` performance marks): start-up, not SQL, is what those
 * pages wait for. The load average is printed because the figures are CPU-bound: on a 2-core
 * machine another busy process stretches DuckDB-WASM's start-up by as much as its own length.
 *
 * Usage: `const r = await benchPages("dist")`, or `tsx bench/pages.ts [dist]` to print a table.
 */
import {isMainModule} from "../loaders/cli/command.ts";
import {readdir} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type {Browser, Page} from "playwright-core";
import {serveSite} from "../server/site.ts";
import {launchBrowser, openRecordedPage} from "../tests/helpers/browser.ts";

/** Warm visits per page; the median is reported. */
export const WARM_VISITS = 5;
/** Pause before each warm visit, so the visit before it has finished and settled. */
const SETTLE_MS = 500;

export interface PageTiming {
  /** route, "" for the home page */
  page: string;
  coldMs: number;
  /** median of WARM_VISITS visits with the HTTP cache filled */
  warmMs: number;
  /** bytes over the wire on the cold visit (compressed bodies + headers) */
  transferBytes: number;
  requests: number;
  /** the page fetched duckdb-wasm */
  duckdb: boolean;
  /** navigation → db.ts started DuckDB-WASM, and → it was instantiated and opened, cold / warm (DuckDB pages only) */
  duckdbMs?: {cold: {start: number; ready: number}; warm: {start: number; ready: number}};
}

export interface SwitchTiming {
  /** selection → new account drawn, per switch (ms) */
  samplesMs: number[];
  medianMs: number;
  maxMs: number;
}

export interface PagesBench {
  pages: PageTiming[];
  customerSwitch: SwitchTiming | null;
  /** page budgets, checked against the figures above */
  checks: {name: string; value: number; limit: number; unit: string; pass: boolean}[];
}

/** True once every cell settled and every chart card drew something. Runs in the page. */
export const ALL_DRAWN = `(() => {
  if (document.querySelector("observablehq-loading")) return false;
  const main = document.querySelector("#observablehq-main");
  if (!main || !main.querySelector("h1")) return false;
  // a page whose cards come from a cell that waits on SQL has none yet (no loading placeholder either)
  if (!main.querySelector(".sg-chart, .sg-kpi")) return false;
  for (const card of main.querySelectorAll(".sg-chart")) {
    if (!card.querySelector("svg, table, .sg-empty, [data-state], .sg-callout")) return false;
  }
  return true;
})()`;

async function timeToDrawn(page: Page, url: string, timeoutMs: number): Promise<number> {
  await page.goto(url, {waitUntil: "commit", timeout: timeoutMs});
  await page.waitForFunction(ALL_DRAWN, undefined, {timeout: timeoutMs, polling: "raf"});
  // performance.now() counts from navigation start
  return page.evaluate(() => performance.now());
}

/** When db.ts started DuckDB-WASM and when it was ready on the current page (ms from navigation), if it did. */
async function duckdbMarks(page: Page): Promise<{start: number; ready: number} | undefined> {
  const [start, ready] = await page.evaluate(() =>
    ["saasguard:duckdb-start", "saasguard:duckdb-ready"].map(
      (name) => performance.getEntriesByName(name)[0]?.startTime,
    ),
  );
  return start !== undefined && ready !== undefined ? {start: Math.round(start), ready: Math.round(ready)} : undefined;
}

/** The built pages' paths ("" for the home page), reports in src/reports/ as "reports/<name>". */
async function builtPages(siteDir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(siteDir, {withFileTypes: true})) {
    if (e.isFile() && e.name.endsWith(".html") && e.name !== "404.html")
      out.push(e.name === "index.html" && !prefix ? "" : prefix + e.name.replace(/\.html$/, ""));
    // Framework's own folders start with "_"; any other folder holds pages (src/reports/)
    else if (e.isDirectory() && !e.name.startsWith("_"))
      out.push(...(await builtPages(path.join(siteDir, e.name), `${prefix}${e.name}/`)));
  }
  return out.sort();
}

/** Picks `n` customers spread over the index (different shards) and times switching to each. */
async function customerSwitch(browser: Browser, base: string, n: number, timeoutMs: number): Promise<SwitchTiming> {
  const rec = await openRecordedPage(browser);
  try {
    await timeToDrawn(rec.page, new URL("customer-360", base).href, timeoutMs);
    const ids = await rec.page.evaluate((count) => {
      const opts = [...document.querySelectorAll<HTMLOptionElement>("#c360-results option")].map((o) => o.value);
      return opts.slice(1, 1 + count);
    }, n);
    const samples: number[] = [];
    for (const id of ids) {
      const ms = await rec.page.evaluate(async (target) => {
        const select = document.querySelector<HTMLSelectElement>("#c360-results")!;
        const t0 = performance.now();
        select.value = target;
        select.dispatchEvent(new Event("change", {bubbles: true}));
        for (;;) {
          await new Promise((r) => requestAnimationFrame(r));
          const acct = document.querySelector("#c360-account");
          if (acct?.getAttribute("data-customer") === target && !document.querySelector("observablehq-loading"))
            return performance.now() - t0;
          if (performance.now() - t0 > 10_000) return Infinity;
        }
      }, id);
      samples.push(ms);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    return {samplesMs: samples, medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, maxMs: sorted.at(-1) ?? NaN};
  } finally {
    await rec.context.close();
  }
}

/** Serves `siteDir` on 127.0.0.1 and measures every page (see the module comment). */
export async function benchPages(
  siteDir: string,
  options: {switches?: number; timeoutMs?: number; browser?: Browser} = {},
): Promise<PagesBench> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const server = await serveSite({dir: path.resolve(siteDir), port: 0});
  const browser = options.browser ?? (await launchBrowser());
  try {
    const pages: PageTiming[] = [];
    // warm-up: the first navigation of a fresh browser pays for process and renderer start-up,
    // which is no page's cost
    const warm = await openRecordedPage(browser);
    await timeToDrawn(warm.page, server.url, timeoutMs).catch(() => undefined);
    await warm.context.close();
    for (const p of await builtPages(siteDir)) {
      const url = new URL(p, server.url).href;
      const rec = await openRecordedPage(browser);
      try {
        const coldMs = await timeToDrawn(rec.page, url, timeoutMs);
        const coldDuckdb = await duckdbMarks(rec.page);
        await rec.page.waitForLoadState("networkidle", {timeout: timeoutMs}).catch(() => undefined);
        await rec.page.waitForTimeout(150); // let size accounting finish
        const transferBytes = rec.requests.reduce((s, r) => s + Math.max(0, r.transferBytes ?? 0), 0);
        const requests = rec.requests.length;
        const duckdb = rec.requests.some((r) => /duckdb-(eh|mvp)\.wasm$/.test(r.url));
        // warm: the median of several visits — one visit on a 2-core machine varies by ±20%
        const visits: {ms: number; marks?: {start: number; ready: number}}[] = [];
        for (let i = 0; i < WARM_VISITS; ++i) {
          // a revisit, not a reload racing the previous visit's teardown (its DuckDB worker and
          // wasm heap are freed as the next page starts, on the same two cores)
          await rec.page.waitForTimeout(SETTLE_MS);
          visits.push({ms: await timeToDrawn(rec.page, url, timeoutMs), marks: await duckdbMarks(rec.page)});
        }
        const median = visits.sort((a, b) => a.ms - b.ms)[Math.floor(visits.length / 2)]!;
        const warmMs = median.ms;
        const warmDuckdb = median.marks;
        const duckdbMs = coldDuckdb && warmDuckdb ? {cold: coldDuckdb, warm: warmDuckdb} : undefined;
        pages.push({
          page: p,
          coldMs: Math.round(coldMs),
          warmMs: Math.round(warmMs),
          transferBytes,
          requests,
          duckdb,
          ...(duckdbMs ? {duckdbMs} : {}),
        });
      } finally {
        await rec.context.close();
      }
    }
    const has360 = pages.some((p) => p.page === "customer-360");
    const sw = has360 ? await customerSwitch(browser, server.url, options.switches ?? 12, timeoutMs) : null;
    const checks: PagesBench["checks"] = [];
    const home = pages.find((p) => p.page === "");
    if (home) {
      checks.push({
        name: "executive overview transferred",
        value: home.transferBytes / 1e6,
        limit: 1.5,
        unit: "MB",
        pass: home.transferBytes <= 1.5e6,
      });
      checks.push({
        name: "executive overview draw (cold)",
        value: home.coldMs / 1000,
        limit: 1.5,
        unit: "s",
        pass: home.coldMs <= 1500,
      });
    }
    for (const p of pages.filter((x) => x.duckdb)) {
      checks.push({
        name: `${p.page} draw (cold, DuckDB)`,
        value: p.coldMs / 1000,
        limit: 4,
        unit: "s",
        pass: p.coldMs <= 4000,
      });
      checks.push({
        name: `${p.page} draw (warm, DuckDB)`,
        value: p.warmMs / 1000,
        limit: 1.5,
        unit: "s",
        pass: p.warmMs <= 1500,
      });
    }
    if (sw)
      checks.push({name: "Customer 360 switch (max)", value: sw.maxMs, limit: 300, unit: "ms", pass: sw.maxMs <= 300});
    return {pages, customerSwitch: sw, checks};
  } finally {
    if (!options.browser) await browser.close();
    await server.close();
  }
}

if (isMainModule(import.meta.url)) {
  const dir = process.argv[2] ?? "dist";
  const load = () =>
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")} on ${os.availableParallelism()} cores`;
  console.log(`before: ${load()}`);
  const r = await benchPages(dir);
  console.table(
    r.pages.map((p) => ({
      page: p.page || "(home)",
      "cold ms": p.coldMs,
      [`warm ms (median of ${WARM_VISITS})`]: p.warmMs,
      MB: +(p.transferBytes / 1e6).toFixed(2),
      requests: p.requests,
      duckdb: p.duckdb,
      "duckdb start→ready ms (cold; warm)": p.duckdbMs
        ? `${p.duckdbMs.cold.start}→${p.duckdbMs.cold.ready}; ${p.duckdbMs.warm.start}→${p.duckdbMs.warm.ready}`
        : "",
    })),
  );
  if (r.customerSwitch)
    console.log(
      `Customer 360 switch: median ${r.customerSwitch.medianMs.toFixed(0)} ms, max ${r.customerSwitch.maxMs.toFixed(0)} ms (${r.customerSwitch.samplesMs.map((x) => x.toFixed(0)).join(", ")})`,
    );
  for (const c of r.checks)
    console.log(`${c.pass ? "PASS" : "FAIL"}  ${c.name}: ${c.value.toFixed(2)} ${c.unit} (limit ${c.limit} ${c.unit})`);
  console.log(`after: ${load()}`);
}
