/**
 * CTA queue, carry-over across nightly builds, escalation messages and alert detection, on
 * real DuckDB warehouses built by the real pipeline.
 */
import {copyFileSync, cpSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {config, type RiskTier} from "../src/rules/config.ts";
import {actionTier} from "../src/rules/dashboard-math.ts";
import {escalationMatrix, escalationTemplate, renderTemplate} from "../src/rules/playbooks.ts";
import {drainOutbox} from "../loaders/alerts/deliver.ts";
import {enqueueWarehouseAlerts} from "../loaders/alerts/enqueue.ts";
import {newSecret} from "../loaders/alerts/targets.ts";
import {build} from "../loaders/build.ts";
import {carryOverCtas} from "../loaders/cta.ts";
import {checksOf, runQualityChecks} from "../loaders/quality.ts";
import {all, one, openWarehouse, run} from "../loaders/duckdb.ts";
import {startReceiver} from "./helpers/receiver.ts";

type Row = Record<string, string | number | boolean | null>;
const D1 = "2026-06-23";
const D2 = "2026-06-30";
let root: string;
const wA = () => join(root, "a.duckdb"); // night 1
const wB = () => join(root, "b.duckdb"); // night 2, a week later: different data

async function withWarehouse<T>(
  path: string,
  f: (conn: Awaited<ReturnType<typeof openWarehouse>>["conn"]) => Promise<T>,
): Promise<T> {
  const w = await openWarehouse(path);
  try {
    return await f(w.conn);
  } finally {
    w.close();
  }
}
const addDays = (d: string, n: number) =>
  new Date(Date.parse(d + "T00:00:00Z") + n * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "saasguard-cta-"));
  const quiet = {customers: 400, seed: 7, source: "synthetic" as const, site: false, log: () => {}};
  await build({...quiet, asOf: D1, warehousePath: wA()});
  await withWarehouse(wA(), (c) => carryOverCtas(c, {previousWarehouse: null, asOf: D1}));
  await build({...quiet, asOf: D2, warehousePath: wB()});
  await withWarehouse(wB(), (c) => carryOverCtas(c, {previousWarehouse: wA(), asOf: D2}));
});
afterAll(() => rmSync(root, {recursive: true, force: true}));

describe("CTA queue", () => {
  it("raises the configured triggers with playbook, step, priority, due date from the tier timelines, and ARR at risk", async () => {
    await withWarehouse(wA(), async (c) => {
      const q = await all<Row>(
        c,
        "SELECT q.*, s.low_events, s.support_overload, s.onboarding_at_risk, s.risk_tier, s.model_tier FROM marts.mart_cta_queue q JOIN marts.mart_customer_risk_scores s USING (customer_id)",
      );
      expect(q.length).toBeGreaterThan(20);
      expect(new Set(q.map((r) => r.cta_type))).toEqual(
        new Set(["risk", "onboarding", "support", "engagement", "renewal"]),
      );
      const hours = Object.fromEntries(config.riskTiers.map((t) => [t.tier.toLowerCase(), t.actWithinHours]));
      for (const r of q) {
        expect(r.created_date).toBe(D1);
        expect(r.csm_owner).toBeTruthy();
        expect(r.arr_at_risk).toBeGreaterThanOrEqual(0);
        const window = hours[r.priority as string] ?? 30 * 24;
        if (r.cta_type !== "renewal") expect(r.due_date, `${r.cta_id}`).toBe(addDays(D1, window / 24));
        else expect(r.due_date! <= addDays(D1, window / 24)).toBe(true);
        // the plays follow the more severe of the health and model tiers, as the dashboards do
        expect(r.play_tier).toBe(actionTier(r.risk_tier as RiskTier, r.model_tier as RiskTier));
        if (r.cta_type === "risk") expect(r.reason).toBe(`risk_tier_${(r.play_tier as string).toLowerCase()}`);
        if (r.reason === "low_events") expect(r.low_events).toBe(true);
        if (r.reason === "support_overload") expect(r.step).toBe("Support Fast-Track");
        if (r.reason === "onboarding_at_risk") expect(r.onboarding_at_risk).toBe(true);
      }
      // every High/Critical account has its risk CTA, first step of the tier's playbook
      const atRisk = await one<{n: number}>(
        c,
        "SELECT count(*) AS n FROM marts.mart_customer_risk_scores WHERE risk_tier IN ('High', 'Critical') OR model_tier IN ('High', 'Critical')",
      );
      // …in the queue, or held out to measure its play (drawn at raise, never shown to a CSM)
      const risk = q.filter((r) => r.cta_type === "risk");
      const held = await one<{n: number}>(
        c,
        "SELECT count(*)::INTEGER AS n FROM marts.mart_cta_history WHERE cta_type = 'risk' AND holdout AND closed_date IS NULL",
      );
      expect(risk.length + held.n).toBe(atRisk.n);
      for (const r of risk)
        expect(r.step).toBe(r.play_tier === "Critical" ? "Executive Escalation" : "Root Cause Analysis");
      // renewal CTAs carry the stage the account is in
      for (const r of q.filter((x) => x.cta_type === "renewal" && x.reason !== "renewal_post")) {
        const stage = Math.min(...config.renewalStagesDays.filter((d) => d >= (r.days_to_renewal as number)));
        expect(r.reason).toBe(`renewal_${stage}d`);
        expect(r.step).toBe(`${stage} Days Before Renewal`);
      }
      // most urgent first
      const ranks = q.map((r) => r.priority_rank as number);
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      await runQualityChecks(c, D1, checksOf("ctas"));
    });
  });

  it("carries CTAs across two builds: open ones keep their id and creation date, cleared ones close with the date, new ones appear", async () => {
    const before = await withWarehouse(wA(), (c) => all<Row>(c, "SELECT * FROM marts.mart_cta_history"));
    await withWarehouse(wB(), async (c) => {
      const after = new Map(
        (await all<Row>(c, "SELECT * FROM marts.mart_cta_history")).map((r) => [r.cta_id as string, r]),
      );
      const queue = await all<Row>(c, "SELECT * FROM marts.mart_cta_queue");
      const key = (r: Row) => `${r.customer_id}|${r.cta_type}|${r.reason}`;
      // what fires on D2: the queue, plus the held-out CTAs that are still open
      const firing = new Set([
        ...queue.map(key),
        ...[...after.values()].filter((r) => r.holdout && r.status === "open").map(key),
      ]);
      let kept = 0;
      let closed = 0;
      // (the history also starts with the demo's imported months of worked CTAs, all closed before D1)
      for (const b of before.filter((x) => x.created_date === D1)) {
        const a = after.get(b.cta_id as string)!;
        expect(a, "history is kept").toBeDefined();
        expect(a.created_date).toBe(D1);
        if (firing.has(`${b.customer_id}|${b.cta_type}|${b.reason}`)) {
          kept++;
          expect(a).toMatchObject({status: "open", closed_date: null, last_seen_date: D2});
          expect(a.due_date! <= b.due_date!).toBe(true); // never later than first promised
        } else {
          closed++;
          expect(a).toMatchObject({status: "closed", closed_date: D2, last_seen_date: D1});
        }
      }
      const fresh = [...after.values()].filter((r) => r.created_date === D2);
      expect(kept).toBeGreaterThan(0);
      expect(closed).toBeGreaterThan(0);
      expect(fresh.length).toBeGreaterThan(0);
      expect(after.size).toBe(before.length + fresh.length);
      // the queue is exactly the open part of the history, one CTA per account + type + reason
      // (holdouts are open in the history but never in the queue)
      expect(queue.length).toBe([...after.values()].filter((r) => r.status === "open" && !r.holdout).length);
      expect(new Set(queue.map((r) => `${r.customer_id}|${r.cta_type}|${r.reason}`)).size).toBe(queue.length);
      // a carried risk CTA moved on to the step for its age (7 days: Critical → Execution and Monitoring… High → Re-Engage Executive Sponsor is day 8)
      for (const r of queue.filter((x) => x.cta_type === "risk" && x.created_date === D1)) {
        expect(r.days_open).toBe(7);
        expect(r.step).toBe(r.reason === "risk_tier_critical" ? "Rescue Team Assignment" : "30-Day Recovery Plan");
      }
      await runQualityChecks(c, D2, checksOf("ctas"));
    });
  });

  it("upgrading keeps the history: a previous build whose tables still carry the old names (cta_history, alert_history) is read", async () => {
    const old = join(root, "old-names.duckdb");
    cpSync(wA(), old);
    await withWarehouse(old, async (c) => {
      await c.run("ALTER TABLE marts.mart_cta_history RENAME TO cta_history");
      await c.run("ALTER TABLE marts.mart_alert_history RENAME TO alert_history");
    });
    const next = join(root, "after-upgrade.duckdb");
    cpSync(wB(), next);
    const expected = await withWarehouse(wB(), (c) =>
      all<Row>(c, "SELECT * FROM marts.mart_cta_history ORDER BY cta_id"),
    );
    await withWarehouse(next, async (c) => {
      const r = await carryOverCtas(c, {previousWarehouse: old, asOf: D2});
      expect(r.previousAsOf).toBe(D1);
      expect(await all<Row>(c, "SELECT * FROM marts.mart_cta_history ORDER BY cta_id")).toEqual(expected);
    });
  });

  it("a controlled change: a cleared trigger closes, a new one opens, the rest stay, and a re-run is idempotent", async () => {
    const prev = join(root, "prev-ctl.duckdb");
    const next = join(root, "next-ctl.duckdb");
    copyFileSync(wA(), prev);
    copyFileSync(wA(), next);
    const D = addDays(D1, 1);
    await withWarehouse(next, async (c) => {
      const [cleared] = await all<Row>(
        c,
        "SELECT customer_id FROM marts.mart_cta_queue WHERE reason = 'low_events' ORDER BY customer_id LIMIT 1",
      );
      const [fresh] = await all<Row>(
        c,
        "SELECT customer_id FROM marts.mart_customer_risk_scores WHERE NOT support_overload AND risk_tier = 'Low' ORDER BY customer_id LIMIT 1",
      );
      await run(
        c,
        `UPDATE marts.mart_customer_risk_scores SET low_events = false WHERE customer_id = '${cleared!.customer_id}'`,
      );
      await run(
        c,
        `UPDATE marts.mart_customer_risk_scores SET support_overload = true WHERE customer_id = '${fresh!.customer_id}'`,
      );
      await run(c, `UPDATE marts.build_info SET as_of = DATE '${D}'`);
      const r1 = await carryOverCtas(c, {previousWarehouse: prev, asOf: D});
      expect(r1.previousAsOf).toBe(D1);
      const h = await all<Row>(c, "SELECT * FROM marts.mart_cta_history");
      expect(
        h.find((x) => x.customer_id === cleared!.customer_id && x.reason === "low_events" && x.created_date === D1),
      ).toMatchObject({
        status: "closed",
        closed_date: D,
        created_date: D1,
      });
      expect(
        h.find((x) => x.customer_id === fresh!.customer_id && x.reason === "support_overload" && x.created_date === D),
      ).toMatchObject({
        status: "open",
        created_date: D,
        priority: "high",
        due_date: addDays(D, 7),
      });
      expect(r1.closedCtas).toBe(1);
      expect(r1.newCtas).toBe(1);
      // the rest (dates move on by one day, so renewal stages may not change overnight) stay open with their first date
      const prevOpen = await withWarehouse(prev, (p) => all<Row>(p, "SELECT cta_id FROM marts.mart_cta_queue"));
      const open = new Map(h.filter((x) => x.status === "open").map((x) => [x.cta_id, x]));
      expect(prevOpen.filter((x) => open.get(x.cta_id)?.created_date === D1)).toHaveLength(prevOpen.length - 1);
      // running the same night again against the same previous build gives the same history
      await carryOverCtas(c, {previousWarehouse: prev, asOf: D});
      expect(await all<Row>(c, "SELECT * FROM marts.mart_cta_history ORDER BY cta_id")).toEqual(
        [...h].sort((x, y) => String(x.cta_id).localeCompare(String(y.cta_id))),
      );
    });
    // a backfill older than the previous build starts afresh instead of inheriting the future
    await withWarehouse(next, async (c) => {
      const r = await carryOverCtas(c, {previousWarehouse: wB(), asOf: D});
      expect(r.previousAsOf).toBeNull();
      expect(
        (
          await one<{n: number}>(
            c,
            `SELECT count(*) AS n FROM marts.mart_cta_history WHERE closed_date >= DATE '${D1}'`,
          )
        ).n,
      ).toBe(0);
    });
  });
});

describe("escalation messages", () => {
  it("fill the playbooks' escalation template for every detectable matrix trigger that fires, and only those", async () => {
    await withWarehouse(wB(), async (c) => {
      const e = await all<Row>(
        c,
        "SELECT e.*, s.plan_tier, s.health_colour, s.days_to_renewal AS d, s.risk_tier AS tier FROM marts.mart_escalations e JOIN marts.mart_customer_risk_scores s USING (customer_id)",
      );
      expect(e.length).toBeGreaterThan(0);
      const detectable = new Set(escalationMatrix.filter((m) => m.detectedBy !== null).map((m) => m.id));
      expect(detectable).toEqual(new Set(["health_red", "renewal_at_risk", "critical_bug"]));
      for (const r of e) {
        expect(detectable.has(r.trigger_id as never)).toBe(true);
        const m = escalationMatrix.find((x) => x.id === r.trigger_id)!;
        expect(r).toMatchObject({level: m.level, response_hours: m.responseHours});
        // the message is the playbooks' escalation template with this account's values, rendered the same way in TypeScript
        expect(r.subject).toBe(`[ESCALATION] ${r.customer_name} -- ${m.brief}`);
        expect(r.body).toBe(
          renderTemplate(escalationTemplate.body, {
            customer_name: r.customer_name as string,
            segment: r.plan_tier as string,
            arr: Math.round(r.arr as number).toLocaleString("en-US"),
            health_score: (r.health_score as number).toFixed(1),
            classification: r.health_colour as string,
            renewal_date: r.renewal_date as string,
            issue_summary: r.issue_summary as string,
            warning_signals: r.warning_signals as string,
            recommended_action: m.recommendedAction,
            urgency: r.urgency as string,
            brief_description: m.brief,
          }),
        );
        expect(r.body).not.toContain("@");
        if (r.trigger_id === "health_red") expect(r.health_colour).toBe("Red");
        if (r.trigger_id === "renewal_at_risk")
          expect((r.d as number) <= 60 && ["High", "Critical"].includes(r.tier as string)).toBe(true);
        expect(r.urgency).toBe(m.urgency === "tier" ? (r.tier === "Critical" ? "critical" : "high") : m.urgency);
      }
      const red = await one<{n: number}>(
        c,
        "SELECT count(*) AS n FROM marts.mart_customer_risk_scores WHERE health_colour = 'Red'",
      );
      expect(e.filter((r) => r.trigger_id === "health_red")).toHaveLength(red.n);
    });
  });

  it("an open urgent bug raises a 4-hour critical escalation to VP Engineering + VP CS", async () => {
    const path = join(root, "bug.duckdb");
    copyFileSync(wB(), path);
    await withWarehouse(path, async (c) => {
      const [acct] = await all<Row>(
        c,
        "SELECT customer_id, company_name FROM marts.mart_customer_risk_scores WHERE risk_tier = 'Low' ORDER BY customer_id LIMIT 1",
      );
      await run(
        c,
        `INSERT INTO raw.support_tickets (ticket_id, customer_id, opened_at, resolved_at, priority, category, csat_score, subject)
                    VALUES ('T-BUG-1', '${acct!.customer_id}', TIMESTAMP '${D2} 09:00:00', NULL, 'urgent', 'outage', NULL, 'Everything is down')`,
      );
      await carryOverCtas(c, {previousWarehouse: wA(), asOf: D2});
      const e = await one<Row>(
        c,
        `SELECT * FROM marts.mart_escalations WHERE customer_id = '${acct!.customer_id}' AND trigger_id = 'critical_bug'`,
      );
      expect(e).toMatchObject({
        level: "VP Engineering + VP CS",
        response_hours: 4,
        urgency: "critical",
        subject: `[ESCALATION] ${acct!.company_name} -- Critical bug affecting the customer`,
      });
      expect(e.body).toContain(
        "- Issue Summary: 1 open outage ticket(s) of priority urgent, the oldest opened on 2026-06-30.",
      );
      expect(e.body).toContain("- Urgency: critical");
      expect(e.body).not.toContain("Everything is down"); // ticket text never goes into messages
    });
  });
});

describe("alerts from two builds", () => {
  it("raises edge-triggered alerts only against a previous build, with stable ids", async () => {
    expect(
      await withWarehouse(wA(), (c) => one<{n: number}>(c, "SELECT count(*) AS n FROM marts.mart_alert_history")),
    ).toEqual({n: 0});
    await withWarehouse(wB(), async (c) => {
      const a = await all<Row>(
        c,
        "SELECT a.*, s.risk_tier AS tier_now FROM marts.mart_alert_history a JOIN marts.mart_customer_risk_scores s USING (customer_id)",
      );
      expect(a.length).toBeGreaterThan(0);
      const rank = (t: string | null) =>
        t === null ? -1 : config.riskTiers.length - config.riskTiers.findIndex((x) => x.tier === t);
      for (const r of a) {
        expect(r.raised_on).toBe(D2);
        if (r.kind === "tier_entered") {
          expect(["High", "Critical"]).toContain(r.risk_tier);
          expect(rank(r.previous_risk_tier as string | null)).toBeLessThan(rank(r.risk_tier as string));
        }
        if (r.kind === "health_drop")
          expect((r.previous_health_score as number) - (r.health_score as number)).toBeGreaterThanOrEqual(15);
        if (r.kind === "renewal_at_risk") expect(r.days_to_renewal as number).toBeLessThanOrEqual(60);
      }
    });
    // re-running the same night against the same previous build raises the same ids
    const copy = join(root, "b-again.duckdb");
    copyFileSync(wB(), copy);
    const ids = async (p: string) =>
      withWarehouse(p, (c) => all<Row>(c, "SELECT alert_id FROM marts.mart_alert_history ORDER BY 1"));
    await withWarehouse(copy, (c) => carryOverCtas(c, {previousWarehouse: wA(), asOf: D2}));
    expect(await ids(copy)).toEqual(await ids(wB()));
  });

  it("tonight's alerts go through the outbox to a receiver, signed, once, without contact e-mails", async () => {
    const secret = newSecret();
    const r = await startReceiver({secret});
    try {
      const outboxDir = join(root, "outbox");
      const targets = [{name: "cs", url: r.url, format: "generic" as const, secret, enabled: true}];
      const q = await enqueueWarehouseAlerts({warehouse: wB(), outboxDir, targets});
      expect(q.alerts).toBeGreaterThan(0);
      await enqueueWarehouseAlerts({warehouse: wB(), outboxDir, targets}); // again: no-op
      const report = await drainOutbox({outboxDir, targets});
      expect(report.delivered).toBe(q.alerts);
      expect(r.processed.size).toBe(q.alerts);
      const emails = await withWarehouse(wB(), (c) =>
        all<{e: string}>(
          c,
          "SELECT primary_contact_email AS e FROM raw.customers WHERE primary_contact_email IS NOT NULL",
        ),
      );
      expect(emails.length).toBeGreaterThan(0);
      const wire = JSON.stringify([...r.processed.values()]);
      expect(wire).not.toContain("@");
    } finally {
      await r.close();
    }
  });
});
