/**
 * Shared end-to-end checks for the built dashboard site: load a page in Chromium, wait until
 * every Framework cell has settled, and report what the page requested and logged.
 */
import {mkdir} from "node:fs/promises";
import path from "node:path";
import type {Browser} from "playwright-core";
import {openRecordedPage, type RecordedRequest} from "../helpers/browser.ts";

export const SCREENSHOT_DIR = path.resolve("test-results");

export interface PageVisit {
  url: string;
  requests: RecordedRequest[];
  foreign: RecordedRequest[];
  failed: RecordedRequest[];
  consoleErrors: string[];
  /** texts of Framework cells that rendered an error */
  cellErrors: string[];
  /** sum of transferred bytes over all requests (compressed sizes) */
  transferBytes: number;
  screenshot: string;
}

/**
 * Opens `url`, waits for the page to load and all its cells to finish (no `observablehq-loading`
 * placeholders left), optionally runs `ready` for page-specific waits, then screenshots it.
 */
export async function visitPage(
  browser: Browser,
  url: string,
  name: string,
  ready?: (page: import("playwright-core").Page) => Promise<void>,
): Promise<PageVisit & {page: import("playwright-core").Page; close: () => Promise<void>}> {
  const rec = await openRecordedPage(browser);
  const origin = new URL(url).origin;
  await rec.page.goto(url, {waitUntil: "load", timeout: 60_000});
  await rec.page.waitForFunction(() => document.querySelectorAll("observablehq-loading").length === 0, undefined, {
    timeout: 90_000,
  });
  if (ready) await ready(rec.page);
  await rec.page.waitForLoadState("networkidle", {timeout: 60_000});
  const cellErrors = await rec.page.$$eval(".observablehq--error", (nodes) => nodes.map((n) => n.textContent ?? ""));
  await mkdir(SCREENSHOT_DIR, {recursive: true});
  const screenshot = path.join(SCREENSHOT_DIR, `site-${name}.png`);
  await rec.page.screenshot({path: screenshot, fullPage: true});
  // let the requestfinished handlers collect sizes
  await rec.page.waitForTimeout(200);
  return {
    url,
    page: rec.page,
    requests: rec.requests,
    foreign: rec.foreignRequests([origin]),
    failed: rec.requests.filter((r) => r.failure !== undefined || (r.status !== undefined && r.status >= 400)),
    consoleErrors: rec.consoleErrors,
    cellErrors,
    transferBytes: rec.requests.reduce((s, r) => s + Math.max(0, r.transferBytes ?? 0), 0),
    screenshot,
    close: () => rec.context.close(),
  };
}
