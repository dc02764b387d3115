/**
 * The air-gapped promise, end to end: the whole site build runs with NO network at all
 * (`unshare -n`: an empty network namespace), and the built pages, served from 127.0.0.1 and
 * opened in headless Chromium, make zero requests to any other host and log no errors.
 */
import {spawn} from "node:child_process";
import {existsSync} from "node:fs";
import {mkdtemp, readFile, readdir, rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {serveSite, type SiteServer} from "../server/site.ts";
import {launchBrowser} from "./helpers/browser.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";
import {visitPage} from "./e2e/site-pages.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

function runOffline(args: string[]): Promise<{code: number | null; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", ["-n", ...args], {cwd: ROOT, stdio: ["ignore", "pipe", "pipe"]});
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({code, output}));
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

describe("static site, fully offline", () => {
  let work: string;
  let outDir: string;
  let warehouse: string;
  let server: SiteServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    warehouse = await ensureTestWarehouse();
    work = await mkdtemp(path.join(os.tmpdir(), "saasguard-site-test-"));
    outDir = path.join(work, "dist");
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (work) await rm(work, {recursive: true, force: true});
  });

  test("the site build succeeds with no network at all (unshare -n)", async () => {
    const probe = await runOffline(["true"]);
    expect(probe.code, `unshare -n is not permitted here (needs root or user namespaces): ${probe.output}`).toBe(0);

    const started = Date.now();
    const {code, output} = await runOffline([
      path.join(ROOT, "node_modules", ".bin", "tsx"),
      "loaders/site/build-site.ts",
      "--warehouse",
      warehouse,
      "--out",
      outDir,
    ]);
    expect(code, output).toBe(0);
    console.log(`offline site build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(output).not.toMatch(/cdn\.jsdelivr\.net|registry\.npmjs\.org|extensions\.duckdb\.org/);
    expect(existsSync(path.join(outDir, "index.html"))).toBe(true);

    const files = await listFiles(outDir);
    expect(files.some((f) => /\/_file\/data\/risk_scores\.[0-9a-f]+\.arrow$/.test(f))).toBe(true);
    // duckdb-wasm ships precompressed (brotli for browsers that take it, gzip for the rest)
    expect(files.some((f) => f.endsWith("duckdb-eh.wasm.gz"))).toBe(true);
    expect(files.some((f) => f.endsWith("duckdb-eh.wasm.br"))).toBe(true);
    // nothing in the published site references a third-party host or a web font
    for (const f of files.filter((f) => /\.(html|css)$/.test(f))) {
      const text = await readFile(f, "utf-8");
      expect(text, f).not.toMatch(
        /https?:\/\/(?!127\.0\.0\.1|localhost)[^"'\s)]*(fonts\.googleapis|jsdelivr|observablehq\.com|unpkg)/,
      );
    }
    // PII never reaches the site (the fixture's risk mart has a primary_contact_email column)
    for (const f of files.filter((f) => !/\.(gz|br)$/.test(f))) {
      const bytes = await readFile(f);
      expect(bytes.includes("@example.com"), `${f} contains an e-mail address`).toBe(false);
      expect(bytes.includes("primary_contact_email"), `${f} mentions primary_contact_email`).toBe(false);
    }
  }, 240_000);

  test("every built page loads in Chromium with zero off-origin requests and no errors", async () => {
    expect(existsSync(path.join(outDir, "index.html")), "site was not built").toBe(true);
    server = await serveSite({dir: outDir, port: 0});
    browser = await launchBrowser();
    const pages = (await listFiles(outDir))
      .filter((f) => f.endsWith(".html") && !f.endsWith("404.html"))
      .map((f) =>
        path
          .relative(outDir, f)
          .replace(/\\/g, "/")
          .replace(/(index)?\.html$/, ""),
      );
    expect(pages).toContain("");

    for (const page of pages) {
      const name = page === "" ? "home" : page.replace(/\//g, "_");
      const visit = await visitPage(browser, new URL(page, server.url).href, name, async (p) => {
        if (page !== "") return;
        await p.waitForSelector("[data-kpi=total-arr] .big", {timeout: 90_000});
        await p.waitForSelector("#tier-chart svg [aria-label='bar'] rect", {timeout: 90_000});
      });
      try {
        expect(
          visit.foreign.map((r) => r.url),
          `${page}: requests off the local server`,
        ).toEqual([]);
        expect(
          visit.failed.map((r) => `${r.status ?? r.failure} ${r.url}`),
          `${page}: failed requests`,
        ).toEqual([]);
        expect(visit.consoleErrors, `${page}: console errors`).toEqual([]);
        expect(visit.cellErrors, `${page}: cells that failed`).toEqual([]);
        // the site's tables travel as Arrow IPC, read as they are: no page downloads parquet-wasm
        expect(
          visit.requests.map((r) => r.url).filter((u) => /parquet/.test(u)),
          `${page}: loads parquet-wasm or Parquet`,
        ).toEqual([]);

        if (page === "") {
          const kpis = await visit.page.$$eval("[data-kpi]", (nodes) =>
            Object.fromEntries(
              nodes.map((n) => [n.getAttribute("data-kpi"), n.querySelector(".big")?.textContent ?? ""]),
            ),
          );
          expect(Object.keys(kpis)).toEqual(
            expect.arrayContaining([
              "active-customers",
              "arr-at-risk",
              "high-critical",
              "total-arr",
              "expected-churn",
              "grr",
              "nrr",
              "churn-rate",
            ]),
          );
          expect(kpis["active-customers"]).toMatch(/^\d[\d,]*$/);
          expect(Number(kpis["active-customers"]!.replace(/,/g, ""))).toBeGreaterThan(0);
          expect(kpis["total-arr"]).toMatch(/^\$\d+(\.\d)?[KMB]?$/);
          expect(kpis["arr-at-risk"]).toMatch(/^\$\d+(\.\d)?[KMB]?$/);
          expect(kpis["high-critical"]).toMatch(/^\d[\d,]*$/);
          const bars = await visit.page.$$eval("#tier-chart svg [aria-label='bar'] rect", (n) => n.length);
          expect(bars).toBeGreaterThanOrEqual(4);
          const buildInfo = await visit.page.textContent("#build-info");
          expect(buildInfo).toMatch(/data as of \d{1,2} \w{3} \d{4}/);

          // the executive overview needs no SQL: no DuckDB-WASM, and a small page (page budget: ≤ 1.5 MB)
          expect(
            visit.requests.some((r) => /duckdb-(eh|mvp)\.wasm$/.test(r.url)),
            "home page loads DuckDB-WASM",
          ).toBe(false);
          expect(visit.transferBytes).toBeLessThanOrEqual(1.5e6);
          console.log(
            `home page: ${visit.requests.length} requests, ${(visit.transferBytes / 1e6).toFixed(2)} MB transferred`,
          );
        }
        if (page === "report-template") {
          // Chromium offers brotli on localhost; brotli'd (5.3 MB) the wasm also fits the in-memory HTTP cache
          const wasm = visit.requests.find((r) => r.url.endsWith("/duckdb-eh.wasm"));
          expect(wasm?.contentEncoding, "duckdb-eh.wasm is served brotli-compressed").toBe("br");
        }
      } finally {
        await visit.close();
      }
    }
  }, 240_000);
});
