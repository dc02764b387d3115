/**
 * The worked reports (src/reports/): cohort retention, churn timing and reasons, CSM portfolio
 * review. Their tables are checked against a direct computation from the raw tables of the test
 * warehouse (a real build); the published files carry exactly the registry's columns and no
 * personal data; and on one real site build, in headless Chromium, each report loads with no
 * cell error, no console error and no off-origin request, and shows the warehouse's figures.
 */
import {mkdtemp, readdir, readFile, rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type {Browser, Page} from "playwright-core";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {all, one, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";
import {buildSite} from "../loaders/site/build-site.ts";
import {columnMeaning} from "../loaders/site/column-meanings.ts";
import {piiColumns, SITE_TABLES} from "../loaders/site/site-tables.ts";
import {serveSite, type SiteServer} from "../server/site.ts";
import {formatInt, formatPercent, formatUsdCompact} from "../src/components/format.ts";
import {config} from "../src/rules/config.ts";
import {DEFAULT_VOCABULARY} from "../src/rules/vocabulary.ts";
import {launchBrowser} from "./helpers/browser.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";
import {kpiValues, waitForCharts} from "./e2e/checks.ts";
import {visitPage} from "./e2e/site-pages.ts";

const REPORT_TABLES = ["cohort_retention", "churn_events"] as const;

/** "2025-04-01" for any day of 2025 Q2 */
function quarterStart(day: string): string {
  const [y, m] = day.split("-").map(Number) as [number, number];
  return `${y}-${String(3 * Math.floor((m - 1) / 3) + 1).padStart(2, "0")}-01`;
}

/** The last day of the `k`-th quarter after the quarter starting on `start` (k = 0: that quarter). */
function quarterEnd(start: string, k: number): string {
  const [y, m] = start.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 + 3 * (k + 1), 0)).toISOString().slice(0, 10);
}

const days = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 86_400_000;

/** Whole months from `from` to `to`; a month ending on its last day is whole (31 Jan → 28 Feb is one). */
function wholeMonths(from: string, to: string): number {
  const [y1, m1, d1] = from.split("-").map(Number) as [number, number, number];
  const [y2, m2, d2] = to.split("-").map(Number) as [number, number, number];
  const lastDay = new Date(Date.UTC(y2, m2, 0)).getUTCDate();
  return (y2 - y1) * 12 + (m2 - m1) - (d2 < d1 && d2 < lastDay ? 1 : 0);
}

interface CohortRow {
  cohort_quarter: string;
  cohort: string;
  full_history: boolean;
  quarters_since_signup: number;
  quarter_end: string;
  logos_start: number;
  logos_retained: number;
  arr_start: number;
  arr_retained: number;
  arr_retained_gross: number;
}

/**
 * Cohort retention computed straight from raw.customers, raw.churn_events and
 * raw.subscription_changes, forwards: an account's ARR at a date is its ARR before any change
 * (today's minus all its changes) plus the changes up to that date.
 */
async function cohortsFromRaw(w: Warehouse, asOf: string): Promise<Map<string, CohortRow>> {
  const accounts = await all<{id: string; signup: string; churn: string | null; arr: number}>(
    w.conn,
    `SELECT c.customer_id AS id, c.signup_date AS signup, e.churn_date AS churn, c.arr
     FROM raw.customers c LEFT JOIN raw.churn_events e USING (customer_id)`,
  );
  const changes = await all<{id: string; day: string; delta: number}>(
    w.conn,
    "SELECT customer_id AS id, change_date AS day, arr_delta AS delta FROM raw.subscription_changes",
  );
  const byAccount = new Map<string, {day: string; delta: number}[]>();
  for (const c of changes) byAccount.set(c.id, [...(byAccount.get(c.id) ?? []), c]);
  const firstChurn = accounts
    .map((a) => a.churn)
    .filter((d): d is string => d !== null && d <= asOf)
    .sort()[0];
  const out = new Map<string, CohortRow>();
  for (const a of accounts) {
    if (a.signup > asOf) continue;
    const own = byAccount.get(a.id) ?? [];
    const before = a.arr - own.reduce((s, c) => s + c.delta, 0);
    const arrAt = (day: string) =>
      Math.max(before + own.filter((c) => c.day <= day).reduce((s, c) => s + c.delta, 0), 0);
    const start = arrAt(a.signup);
    const cohort = quarterStart(a.signup);
    for (let k = 0; quarterEnd(cohort, k) <= asOf; k++) {
      const end = quarterEnd(cohort, k);
      const active = a.signup <= end && (a.churn === null || a.churn > end);
      const key = `${cohort}/${k}`;
      const row = out.get(key) ?? {
        cohort_quarter: cohort,
        cohort: `${cohort.slice(0, 4)} Q${(Number(cohort.slice(5, 7)) + 2) / 3}`,
        full_history: firstChurn === undefined || cohort >= quarterStart(firstChurn),
        quarters_since_signup: k,
        quarter_end: end,
        logos_start: 0,
        logos_retained: 0,
        arr_start: 0,
        arr_retained: 0,
        arr_retained_gross: 0,
      };
      const now = active ? arrAt(end) : 0;
      row.logos_start++;
      row.logos_retained += active ? 1 : 0;
      row.arr_start += start;
      row.arr_retained += now;
      row.arr_retained_gross += Math.min(now, start);
      out.set(key, row);
    }
  }
  return out;
}

describe("worked reports", () => {
  let warehouse: string;
  let w: Warehouse;
  let asOf: string;
  let direct: Map<string, CohortRow>;
  let work: string;
  let server: SiteServer;
  let browser: Browser;

  beforeAll(async () => {
    warehouse = await ensureTestWarehouse();
    w = await openWarehouse(warehouse, {readOnly: true});
    asOf = (await one<{as_of: string}>(w.conn, "SELECT CAST(as_of AS VARCHAR) AS as_of FROM marts.build_info")).as_of;
    direct = await cohortsFromRaw(w, asOf);
    work = await mkdtemp(path.join(os.tmpdir(), "saasguard-reports-test-"));
    await buildSite({warehouse, outDir: path.join(work, "dist"), precompress: false, log: () => {}});
    server = await serveSite({dir: path.join(work, "dist"), port: 0});
    browser = await launchBrowser();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    w?.close();
    if (work) await rm(work, {recursive: true, force: true});
  });

  test("a churned account's ARR in raw.customers is the ARR it lost (what the ARR roll-back relies on)", async () => {
    const r = await one<{churned: number; differ: number}>(
      w.conn,
      `SELECT count(*) AS churned, count(*) FILTER (WHERE abs(c.arr - e.arr_lost) > 0.005) AS differ
       FROM raw.churn_events e JOIN raw.customers c USING (customer_id)`,
    );
    expect(r.churned).toBeGreaterThan(0);
    expect(r.differ).toBe(0);
  });

  test("marts.mart_cohort_retention equals cohort retention computed from the raw tables", async () => {
    const mart = await all<CohortRow>(
      w.conn,
      "SELECT * FROM marts.mart_cohort_retention ORDER BY cohort_quarter, quarters_since_signup",
    );
    expect(mart.length).toBe(direct.size);
    // the test portfolio has cohorts that churn and expand, both sides of the churn record's start
    expect(mart.some((r) => r.logos_retained < r.logos_start)).toBe(true);
    expect(mart.some((r) => r.arr_retained > r.arr_retained_gross)).toBe(true);
    expect(new Set(mart.map((r) => r.full_history))).toEqual(new Set([true, false]));
    for (const row of mart) {
      const expected = direct.get(`${row.cohort_quarter}/${row.quarters_since_signup}`);
      expect(expected, `${row.cohort} +${row.quarters_since_signup}`).toBeDefined();
      const {arr_start, arr_retained, arr_retained_gross, ...counts} = expected!;
      expect(row).toMatchObject(counts);
      expect(row.arr_start).toBeCloseTo(arr_start, 1);
      expect(row.arr_retained).toBeCloseTo(arr_retained, 1);
      expect(row.arr_retained_gross).toBeCloseTo(arr_retained_gross, 1);
      expect(row.quarter_end <= asOf).toBe(true);
    }
  });

  test("marts.mart_churn_events is raw.churn_events with the account's segment, tenure and reason label", async () => {
    const raw = await all<{
      customer_id: string;
      churn_date: string;
      reason: string | null;
      arr_lost: number;
      signup_date: string;
      renewal_date: string;
      plan_tier: string;
      csm_owner: string;
    }>(
      w.conn,
      `SELECT e.customer_id, e.churn_date, e.reason, e.arr_lost, c.signup_date, c.renewal_date, c.plan_tier, c.csm_owner
       FROM raw.churn_events e JOIN raw.customers c USING (customer_id) WHERE e.churn_date <= DATE '${asOf}'`,
    );
    const mart = new Map(
      (await all<Record<string, unknown>>(w.conn, "SELECT * FROM marts.mart_churn_events")).map((r) => [
        r.customer_id as string,
        r,
      ]),
    );
    expect(mart.size).toBe(raw.length);
    expect(raw.some((r) => r.reason === null)).toBe(true);
    const reasons = DEFAULT_VOCABULARY.churnReasons;
    for (const e of raw) {
      const m = mart.get(e.customer_id)!;
      // the synthetic contracts end on or after the churn date: days to the renewal date is the plain difference
      expect(days(e.churn_date, e.renewal_date)).toBeGreaterThanOrEqual(0);
      expect(m).toMatchObject({
        churn_date: e.churn_date,
        signup_date: e.signup_date,
        plan_tier: e.plan_tier,
        csm_owner: e.csm_owner,
        arr_lost: e.arr_lost,
        reason: e.reason ?? "not recorded",
        reason_order: e.reason === null ? reasons.length + 2 : reasons.indexOf(e.reason) + 1,
        tenure_days: days(e.signup_date, e.churn_date),
        tenure_months: wholeMonths(e.signup_date, e.churn_date),
        days_to_renewal_at_churn: days(e.churn_date, e.renewal_date),
      });
    }
  });

  test("the published files carry exactly SITE_TABLES' columns, each with a meaning, and no personal data", async () => {
    const {tableFromIPC} = await import("apache-arrow");
    const dir = path.join(work, "dist", "_file", "data");
    const files = await readdir(dir);
    for (const name of REPORT_TABLES) {
      const file = files.find((f) => new RegExp(`^${name}\\.[0-9a-f]+\\.arrow$`).test(f));
      expect(file, name).toBeDefined();
      const table = tableFromIPC(await readFile(path.join(dir, file!)));
      const columns = table.schema.fields.map((f) => f.name);
      expect(columns).toEqual([...SITE_TABLES[name].columns]);
      expect(piiColumns(columns)).toEqual([]);
      expect(columns).not.toContain("company_name");
      for (const c of columns) expect(columnMeaning(name, c), `${name}.${c}`).toBeTruthy();
      const rows = await one<{n: number}>(w.conn, `SELECT count(*) AS n FROM ${SITE_TABLES[name].from}`);
      expect(table.numRows).toBe(rows.n);
    }
  });

  /** Opens a report, waits for its charts, checks it loaded cleanly, runs `f`, closes it. */
  async function onReport(name: string, f: (page: Page) => Promise<void>): Promise<void> {
    const visit = await visitPage(browser, new URL(`reports/${name}`, server.url).href, `report-${name}`, (page) =>
      waitForCharts(page),
    );
    try {
      expect(visit.cellErrors, "cell errors").toEqual([]);
      expect(visit.consoleErrors, "console errors").toEqual([]);
      expect(
        visit.foreign.map((r) => r.url),
        "off-origin requests",
      ).toEqual([]);
      expect(
        visit.failed.map((r) => r.url),
        "failed requests",
      ).toEqual([]);
      await f(visit.page);
    } finally {
      await visit.close();
    }
  }

  const sub = (page: Page, kpi: string) => page.locator(`[data-kpi="${kpi}"] .sub`).innerText();
  const marks = (page: Page, card: string, mark: string) =>
    page.locator(`#${card} svg g[aria-label="${mark}"] > *`).count();

  test("Cohort retention shows the pooled 4-quarter retention and one curve per cohort", async () => {
    const rows = [...direct.values()];
    const year = rows.filter((r) => r.full_history && r.quarters_since_signup === 4);
    expect(year.length).toBeGreaterThan(0);
    const total = (k: keyof CohortRow) => year.reduce((s, r) => s + (r[k] as number), 0);
    const drawn = (older: boolean) =>
      new Set(rows.filter((r) => (r.full_history || older) && r.logos_start >= 20).map((r) => r.cohort)).size;
    expect(drawn(true)).toBeGreaterThan(drawn(false));
    await onReport("cohort-retention", async (page) => {
      expect(await kpiValues(page)).toEqual({
        "cohorts-4q": formatInt(year.length),
        "logo-4q": formatPercent(total("logos_retained") / total("logos_start")),
        "net-arr-4q": formatPercent(total("arr_retained") / total("arr_start")),
        "gross-arr-4q": formatPercent(total("arr_retained_gross") / total("arr_start")),
      });
      expect(await marks(page, "logo-retention", "line")).toBe(drawn(false));
      expect(await marks(page, "arr-retention", "line")).toBe(drawn(false));
      await page.getByLabel("Include cohorts from before the churn record began").check();
      await expect.poll(() => marks(page, "logo-retention", "line")).toBe(drawn(true));
    });
  });

  test("Churn timing and reasons shows the last 12 months' churn and every quarter × reason", async () => {
    const since = `DATE '${asOf}' - INTERVAL 1 YEAR`;
    const year = await one<{accounts: number; arr_lost: number; at_renewal: number; median_months: number}>(
      w.conn,
      `SELECT count(*) AS accounts, sum(e.arr_lost) AS arr_lost, avg(CAST(c.renewal_date = e.churn_date AS INTEGER)) AS at_renewal,
              median(date_sub('month', c.signup_date, e.churn_date)) AS median_months
       FROM raw.churn_events e JOIN raw.customers c USING (customer_id)
       WHERE e.churn_date > ${since} AND e.churn_date <= DATE '${asOf}'`,
    );
    expect(year.accounts).toBeGreaterThan(0);
    const stacks = await one<{n: number}>(
      w.conn,
      `SELECT count(DISTINCT (date_trunc('quarter', churn_date), coalesce(reason, ''))) AS n
       FROM raw.churn_events WHERE churn_date <= DATE '${asOf}'`,
    );
    await onReport("churn-timing", async (page) => {
      expect(await kpiValues(page)).toEqual({
        "churned-12m": formatInt(year.accounts),
        "arr-lost-12m": formatUsdCompact(year.arr_lost),
        "median-tenure-12m": `${formatInt(year.median_months)} months`,
        "at-renewal-12m": formatPercent(year.at_renewal),
      });
      expect(await marks(page, "churn-by-quarter", "bar")).toBe(stacks.n);
      expect(await page.locator("#churn-by-quarter h2").innerText()).toBe("ARR lost by quarter");
      await page.getByLabel("Accounts", {exact: true}).check();
      await expect.poll(() => page.locator("#churn-by-quarter h2").innerText()).toBe("Accounts churned by quarter");
    });
  });

  test("CSM portfolio review shows each book's accounts, ARR, renewals due and open CTAs", async () => {
    const window = config.playbooks.renewal.stages.find((s) => s.id === "renewal_90d")!.daysBefore!;
    const book = (where: string) =>
      one<{accounts: number; arr: number; renewals: number; renewal_arr: number; ctas: number; overdue: number}>(
        w.conn,
        `SELECT count(*) AS accounts, sum(arr) AS arr, count(*) FILTER (WHERE days_to_renewal <= ${window}) AS renewals,
                coalesce(sum(arr) FILTER (WHERE days_to_renewal <= ${window}), 0) AS renewal_arr,
                (SELECT count(*) FROM marts.mart_cta_queue WHERE ${where}) AS ctas,
                (SELECT count(*) FROM marts.mart_cta_queue WHERE ${where} AND due_date < DATE '${asOf}') AS overdue
         FROM marts.mart_customer_risk_scores WHERE ${where}`,
      );
    const kpis = (b: Awaited<ReturnType<typeof book>>) => ({
      accounts: formatInt(b.accounts),
      arr: formatUsdCompact(b.arr),
      "renewals-due": formatInt(b.renewals),
      "open-ctas": formatInt(b.ctas),
    });
    const team = await book("true");
    expect(team.renewals).toBeGreaterThan(0);
    const {owner} = await one<{owner: string}>(
      w.conn,
      "SELECT csm_owner AS owner FROM marts.mart_customer_risk_scores GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    );
    const mine = await book(`csm_owner = '${owner.replaceAll("'", "''")}'`);
    await onReport("csm-portfolio", async (page) => {
      expect(await kpiValues(page)).toEqual(kpis(team));
      expect(await sub(page, "renewals-due")).toBe(`${formatUsdCompact(team.renewal_arr)} ARR`);
      expect(await sub(page, "open-ctas")).toBe(`${formatInt(team.overdue)} overdue`);
      expect(await marks(page, "risk-mix", "bar")).toBeGreaterThan(0);
      await page.getByLabel("CSM").selectOption(owner);
      await expect.poll(() => kpiValues(page)).toEqual(kpis(mine));
      expect(await page.locator("#risk-mix h2").innerText()).toBe(`Risk mix of ${owner}'s book`);
    });
  });
});

describe("report pages stay short and readable (the issue's ≤ 40 lines, no line over 120 characters)", () => {
  const src = path.resolve(import.meta.dirname, "../src");

  /** The problems of one page's markdown: too many lines, or lines too long. */
  function problems(markdown: string): string[] {
    const lines = markdown.replace(/\n$/, "").split("\n");
    return [
      ...(lines.length > 40 ? [`${lines.length} lines (at most 40)`] : []),
      ...lines.flatMap((l, i) => (l.length > 120 ? [`line ${i + 1} has ${l.length} characters (at most 120)`] : [])),
    ];
  }

  test("the check fails on a long page and on a long line", () => {
    expect(problems("x\n".repeat(40))).toEqual([]);
    expect(problems("x\n".repeat(41))).toEqual(["41 lines (at most 40)"]);
    expect(problems(`${"y".repeat(120)}\n${"z".repeat(121)}\n`)).toEqual(["line 2 has 121 characters (at most 120)"]);
  });

  test("every page under src/reports/ and src/report-template.md", async () => {
    const reports = (await readdir(path.join(src, "reports"))).filter((f) => f.endsWith(".md"));
    expect(reports.length).toBeGreaterThanOrEqual(3);
    for (const file of [...reports.map((f) => `reports/${f}`), "report-template.md"])
      expect(problems(await readFile(path.join(src, file), "utf-8")), `src/${file}`).toEqual([]);
  });
});
