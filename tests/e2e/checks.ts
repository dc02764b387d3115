/**
 * In-page checks shared by the dashboard e2e tests and the page benchmark: whether every chart
 * card drew marks, and helpers to read KPI values.
 */
import type {Page} from "playwright-core";
import {ALL_DRAWN} from "../../bench/pages.ts";

export {ALL_DRAWN};

/** Waits until every cell settled and every chart card drew something. */
export async function waitForCharts(page: Page, timeout = 90_000): Promise<void> {
  await page.waitForFunction(ALL_DRAWN, undefined, {timeout, polling: 200});
}

/** For every `.sg-chart` card: its id and how many marks it drew (SVG shapes, table rows, or empty state). */
export async function chartMarks(page: Page): Promise<{id: string; marks: number; empty: boolean}[]> {
  return page.$$eval(".sg-chart", (cards) =>
    cards.map((card) => {
      const shapes = card.querySelectorAll(
        "svg [aria-label] rect, svg [aria-label] path, svg [aria-label] circle, svg [aria-label] line, svg path",
      ).length;
      const rows = card.querySelectorAll("table tbody tr, table tr").length;
      return {
        id: card.id,
        marks: shapes + rows + card.querySelectorAll(".sg-callout, [data-state]").length,
        empty: card.querySelector(".sg-empty") !== null,
      };
    }),
  );
}

/** `{kpi id: big value text}` of the KPI cards on the page. */
export async function kpiValues(page: Page): Promise<Record<string, string>> {
  return page.$$eval("[data-kpi]", (nodes) =>
    Object.fromEntries(
      nodes.map((n) => [n.getAttribute("data-kpi"), (n.querySelector(".big")?.textContent ?? "").trim()]),
    ),
  );
}
