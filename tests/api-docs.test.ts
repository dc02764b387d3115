/**
 * GET /docs in headless Chromium: Swagger UI renders every operation from /openapi.json, with
 * no request to any host but the API server and no console errors — the docs work offline.
 */
import {startTestApi} from "./helpers/test-api.ts";
import {dirname, join} from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, expect, it} from "vitest";
import type {ApiServer} from "../server/serve-api.ts";
import {launchBrowser, openRecordedPage} from "./helpers/browser.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

let srv: ApiServer;
let browser: Browser;

beforeAll(async () => {
  const wh = await ensureTestWarehouse();
  srv = await startTestApi({
    warehousePath: wh,
    modelsDir: join(dirname(wh), "models"),
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

it("renders the API docs from local assets only", async () => {
  const rec = await openRecordedPage(browser);
  try {
    await rec.page.goto(`${srv.url}/docs`);
    await rec.page.waitForSelector(".opblock-summary-path", {timeout: 30_000});
    const paths = await rec.page.$$eval(".opblock-summary-path", (els) =>
      els.map((e) => e.getAttribute("data-path") ?? e.textContent ?? ""),
    );
    for (const p of [
      "/health",
      "/ready",
      "/customers",
      "/customers/{id}",
      "/predictions/batch",
      "/predictions/churn",
      "/predictions/customers/{id}/360",
      "/summaries/customer",
    ])
      expect(paths.map((x) => x.replace(/\u200b/g, ""))).toContain(p);
    expect(rec.foreignRequests([new URL(srv.url).origin])).toEqual([]);
    expect(rec.requests.some((r) => r.url.endsWith("/openapi.json") && r.status === 200)).toBe(true);
    expect(rec.consoleErrors).toEqual([]);
  } finally {
    await rec.context.close();
  }
}, 60_000);
