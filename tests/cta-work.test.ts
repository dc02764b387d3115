/**
 * The nightly build honours what CSMs did with their CTAs (loaders/sql/mart_cta_history.sql):
 * done and dismissed close, a snooze keeps a CTA out of the queue until its date unless the
 * account gets worse, closed keys stay quiet while their trigger keeps firing, and holdouts are
 * drawn per stratum at raise and never redrawn. Hand-made nights on a real DuckDB run the real
 * SQL file; the last test runs two real builds with a real SQLite store between them.
 */
import {cpSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {DuckDBConnection} from "@duckdb/node-api";
import {config} from "../src/rules/config.ts";
import {build} from "../loaders/build.ts";
import {all, openWarehouse, run, setVariables, writeTable} from "../loaders/duckdb.ts";
import {loadRules, runSteps} from "../loaders/marts.ts";
import {openStore} from "../loaders/store/index.ts";
import type {Actor} from "../loaders/store/types.ts";

type Row = Record<string, string | number | boolean | null>;
const lead: Actor = {name: "Test Lead", role: "lead", via: "cli"};

let conn: DuckDBConnection;
let closeDb: () => void;
beforeAll(async () => {
  const w = await openWarehouse(":memory:");
  conn = w.conn;
  closeDb = () => w.close();
});
afterAll(() => closeDb());

interface Candidate {
  customer_id: string;
  reason: string;
  priority: "critical" | "high" | "medium" | "low";
  play_tier?: string;
  segment?: string;
}
interface State {
  cta_id: string;
  status: string;
  snoozed_until?: string;
  reason?: string;
  rank?: number;
  on: string;
}

/** One night: last night's history, tonight's triggers and the people's states → tonight's history. */
async function night(asOf: string, prevAsOf: string | null, prev: Row[], fired: Candidate[], states: State[] = []) {
  await loadRules(conn, asOf);
  await run(
    conn,
    `CREATE OR REPLACE TEMP TABLE prev_cta_history (cta_id VARCHAR, customer_id VARCHAR, company_name VARCHAR, csm_owner VARCHAR, assignee VARCHAR,
       cta_type VARCHAR, reason VARCHAR, playbook_id VARCHAR, priority VARCHAR, play_tier VARCHAR, segment VARCHAR, created_date DATE, due_date DATE,
       last_seen_date DATE, status VARCHAR, closed_date DATE, detail VARCHAR, arr_at_risk DOUBLE, arr_at_raise DOUBLE, holdout BOOLEAN,
       first_action_date DATE, snoozed_until DATE, status_reason VARCHAR)`,
  );
  if (prev.length) {
    for (const r of prev) {
      const cols = Object.keys(r);
      await conn.run(
        `INSERT INTO prev_cta_history (${cols.join(", ")}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(", ")})`,
        cols.map((c) => r[c] ?? null) as never,
      );
    }
  }
  await writeTable(
    conn,
    "tmp.fired",
    {customer_id: "VARCHAR", reason: "VARCHAR", priority: "VARCHAR", play_tier: "VARCHAR", segment: "VARCHAR"},
    fired.map((f) => [f.customer_id, f.reason, f.priority, f.play_tier ?? "High", f.segment ?? "Growth"]),
  );
  await run(
    conn,
    `CREATE OR REPLACE TEMP TABLE int_cta_candidates AS
     SELECT f.customer_id, 'Co ' || f.customer_id AS company_name, 'Ana Owner' AS csm_owner, r.cta_type, f.reason, r.reason_label, r.playbook_id, r.step_id,
            f.priority, pr.priority_rank, pr.due_hours, NULL::DATE AS stage_deadline, 'fired' AS detail, f.play_tier, f.segment,
            50.0 AS health_score, 50.0 AS risk_score, 10000.0 AS arr, 5000.0 AS arr_at_risk, NULL::DATE AS renewal_date, 200 AS days_to_renewal
     FROM tmp.fired f JOIN cfg.cta_rules r USING (reason) JOIN cfg.priorities pr USING (priority)`,
  );
  await writeTable(
    conn,
    "tmp.states",
    {
      cta_id: "VARCHAR",
      status: "VARCHAR",
      snoozed_until: "VARCHAR",
      status_reason: "VARCHAR",
      rank: "INTEGER",
      on: "VARCHAR",
    },
    states.map((s) => [s.cta_id, s.status, s.snoozed_until ?? null, s.reason ?? null, s.rank ?? null, s.on]),
  );
  await run(
    conn,
    `CREATE OR REPLACE TEMP VIEW ops_cta_state AS
     SELECT cta_id, status, CAST(snoozed_until AS DATE) AS snoozed_until, status_reason, NULL::VARCHAR AS assignee, rank AS priority_rank_at_change,
            CAST("on" AS DATE) AS first_action_date, CAST("on" AS DATE) AS changed_on FROM tmp.states`,
  );
  await setVariables(conn, {previous_as_of: {date: prevAsOf}, done_quiet_days: config.ctaWork.doneQuietDays});
  await runSteps(conn, ["mart_cta_history"]);
  return all<Row>(
    conn,
    `SELECT cta_id, customer_id, cta_type, reason, playbook_id, priority, play_tier, segment, CAST(created_date AS VARCHAR) AS created_date,
            CAST(due_date AS VARCHAR) AS due_date, CAST(last_seen_date AS VARCHAR) AS last_seen_date, status, CAST(closed_date AS VARCHAR) AS closed_date,
            holdout, CAST(first_action_date AS VARCHAR) AS first_action_date, CAST(snoozed_until AS VARCHAR) AS snoozed_until, status_reason
     FROM marts.mart_cta_history ORDER BY customer_id, created_date, cta_id`,
  );
}

/** An account's low-engagement trigger firing at medium priority. */
const lowEvents = (customer_id: string): Candidate => ({customer_id, reason: "low_events", priority: "medium"});
const live = (rows: Row[], customer: string) =>
  rows.filter((r) => r.customer_id === customer && r.closed_date === null);
const D = (n: number) => new Date(Date.UTC(2026, 5, 1 + n)).toISOString().slice(0, 10);

describe("the nightly build honours the CSMs' work", () => {
  it("done and dismissed close the CTA on the day they were set; in progress and notes keep it open", async () => {
    const n1 = await night(
      D(0),
      null,
      [],
      [
        {customer_id: "A", reason: "low_events", priority: "medium"},
        {customer_id: "B", reason: "low_events", priority: "medium"},
        {customer_id: "C", reason: "low_events", priority: "medium"},
      ],
    );
    const id = (c: string) => n1.find((r) => r.customer_id === c)!.cta_id as string;
    const fired = ["A", "B", "C"].map((c) => ({customer_id: c, reason: "low_events", priority: "medium" as const}));
    const n2 = await night(D(1), D(0), n1, fired, [
      {cta_id: id("A"), status: "done", on: D(1)},
      {cta_id: id("B"), status: "dismissed", reason: "not_relevant", on: D(1)},
      {cta_id: id("C"), status: "in_progress", on: D(1)},
    ]);
    const a = n2.find((r) => r.cta_id === id("A"))!;
    expect([a.status, a.closed_date, a.first_action_date]).toEqual(["done", D(1), D(1)]);
    const b = n2.find((r) => r.cta_id === id("B"))!;
    expect([b.status, b.closed_date, b.status_reason]).toEqual(["dismissed", D(1), "not_relevant"]);
    const c = n2.find((r) => r.cta_id === id("C"))!;
    expect([c.status, c.closed_date, c.created_date]).toEqual(["in_progress", null, D(0)]);
    // the closed keys do not fire a new CTA the same night
    expect(live(n2, "A")).toEqual([]);
    expect(live(n2, "B")).toEqual([]);
  });

  it("a closed key stays quiet while its trigger keeps firing: dismissed until it clears, done for the quiet days; worse re-raises at once", async () => {
    let prev = await night(D(0), null, [], [lowEvents("A"), lowEvents("B")]);
    const [idA, idB] = ["A", "B"].map((c) => prev.find((r) => r.customer_id === c)!.cta_id as string);
    const states = [
      {cta_id: idA, status: "done", on: D(1)},
      {cta_id: idB, status: "dismissed", reason: "already_handled", on: D(1)},
    ];
    const both = [
      {customer_id: "A", reason: "low_events", priority: "medium" as const},
      {customer_id: "B", reason: "low_events", priority: "medium" as const},
    ];
    const quiet = config.ctaWork.doneQuietDays;
    let day = 1;
    prev = await night(D(day), D(day - 1), prev, both, states);
    // firing every night: no new CTA for either, until the done key's quiet days run out
    let prevDay = day;
    for (day = 8; day < 1 + quiet; day += 7) {
      prev = await night(D(day), D(prevDay), prev, both, states);
      expect(live(prev, "A"), `night ${day}`).toEqual([]);
      expect(live(prev, "B"), `night ${day}`).toEqual([]);
      prevDay = day;
    }
    day = 1 + quiet;
    prev = await night(D(day), D(prevDay), prev, both, states);
    expect(live(prev, "A")).toHaveLength(1); // done, the quiet days are over: raised again
    expect(live(prev, "B")).toEqual([]); // dismissed: quiet while it keeps firing
    // B's trigger clears one night, then fires again: a new situation, a new CTA
    prev = await night(D(day + 1), D(day), prev, [both[0]!], states);
    prev = await night(D(day + 2), D(day + 1), prev, both, states);
    expect(live(prev, "B")).toHaveLength(1);
    expect(new Set(prev.filter((r) => r.customer_id === "B").map((r) => r.cta_id)).size).toBe(2);
  });

  it("a dismissed key fires again at once when the account gets worse (a higher priority)", async () => {
    let prev = await night(D(0), null, [], [{customer_id: "A", reason: "risk_tier_high", priority: "high"}]);
    const id = prev[0]!.cta_id as string;
    const states = [{cta_id: id, status: "dismissed", reason: "customer_declined", on: D(1), rank: 2}];
    prev = await night(D(1), D(0), prev, [{customer_id: "A", reason: "risk_tier_high", priority: "high"}], states);
    prev = await night(D(2), D(1), prev, [{customer_id: "A", reason: "risk_tier_high", priority: "high"}], states);
    expect(live(prev, "A")).toEqual([]);
    prev = await night(D(3), D(2), prev, [{customer_id: "A", reason: "risk_tier_high", priority: "critical"}], states);
    expect(live(prev, "A").map((r) => [r.status, r.priority])).toEqual([["open", "critical"]]);
  });

  it("a snooze keeps the CTA (same id) out of the queue until its date, or until the account gets worse", async () => {
    let prev = await night(D(0), null, [], [lowEvents("A"), lowEvents("B")]);
    const [idA, idB] = ["A", "B"].map((c) => prev.find((r) => r.customer_id === c)!.cta_id as string);
    const states = [
      {cta_id: idA, status: "snoozed", snoozed_until: D(5), reason: "on leave", rank: 3, on: D(1)},
      {cta_id: idB, status: "snoozed", snoozed_until: D(5), reason: "on leave", rank: 3, on: D(1)},
    ];
    const fire = (pB: "medium" | "high") => [
      {customer_id: "A", reason: "low_events", priority: "medium" as const},
      {customer_id: "B", reason: "low_events", priority: pB},
    ];
    prev = await night(D(1), D(0), prev, fire("medium"), states);
    expect(prev.find((r) => r.cta_id === idA)!.status).toBe("snoozed");
    expect(prev.find((r) => r.cta_id === idA)!.snoozed_until).toBe(D(5));
    prev = await night(D(2), D(1), prev, fire("high"), states);
    expect(prev.find((r) => r.cta_id === idB)!.status).toBe("open"); // worse: back in the queue
    expect(prev.find((r) => r.cta_id === idA)!.status).toBe("snoozed");
    prev = await night(D(5), D(2), prev, fire("high"), states);
    expect(prev.find((r) => r.cta_id === idA)!.status).toBe("open"); // the snooze has ended
    expect(live(prev, "A")).toHaveLength(1);
  });

  it("holdouts are drawn per stratum at the configured share when a CTA is raised, and never redrawn", async () => {
    const share = config.playbooks.measurement.holdoutShare.medium_risk;
    const fired: Candidate[] = [];
    for (let i = 0; i < 400; i++)
      fired.push({
        customer_id: `K${String(i).padStart(4, "0")}`,
        reason: "low_events",
        priority: "medium",
        play_tier: i % 2 ? "Medium" : "High",
        segment: i % 4 < 2 ? "Growth" : "Starter",
      });
    fired.push({customer_id: "Z", reason: "risk_tier_critical", priority: "critical", play_tier: "Critical"});
    const n1 = await night(D(0), null, [], fired);
    const strata = new Map<string, {n: number; held: number}>();
    for (const r of n1.filter((x) => x.playbook_id === "medium_risk")) {
      const k = `${r.play_tier}|${r.segment}`;
      const s = strata.get(k) ?? {n: 0, held: 0};
      s.n++;
      if (r.holdout) s.held++;
      strata.set(k, s);
    }
    expect(strata.size).toBe(4);
    for (const [k, s] of strata) expect(Math.abs(s.held - share * s.n), k).toBeLessThanOrEqual(1);
    expect(n1.find((r) => r.customer_id === "Z")!.holdout).toBe(false);
    // the next night carries the same draw
    const n2 = await night(D(1), D(0), n1, fired);
    const before = new Map(n1.map((r) => [r.cta_id, r.holdout]));
    for (const r of n2) expect(r.holdout).toBe(before.get(r.cta_id as string));
  });
});

describe("two real nights with a SQLite store between them", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "saasguard-cta-work-"));
  });
  afterAll(() => rmSync(root, {recursive: true, force: true}));

  it("the next build closes what was done, keeps snoozed CTAs out of the queue and moves reassigned ones", async () => {
    const store = `sqlite:${join(root, "ops.sqlite")}`;
    const wh = join(root, "warehouse.duckdb");
    const quiet = {customers: 400, seed: 7, source: "synthetic" as const, site: false, log: () => {}, store};
    await build({...quiet, asOf: "2026-06-23", warehousePath: wh});
    cpSync(wh, join(root, "night1.duckdb"));
    const w1 = await openWarehouse(join(root, "night1.duckdb"), {readOnly: true});
    const queue = await all<Row>(
      w1.conn,
      "SELECT cta_id, customer_id, cta_type, reason, priority_rank FROM marts.mart_cta_queue WHERE cta_type = 'risk' ORDER BY cta_id LIMIT 3",
    );
    w1.close();
    expect(queue).toHaveLength(3);
    const [done, snoozed, moved] = queue as [Row, Row, Row];
    const s = await openStore(store);
    await s.applyCtaChange(done.cta_id as string, {status: "done", priority_rank: done.priority_rank as number}, lead);
    await s.applyCtaChange(
      snoozed.cta_id as string,
      {
        status: "snoozed",
        snoozed_until: "2026-07-20",
        status_reason: "customer on leave",
        priority_rank: snoozed.priority_rank as number,
      },
      lead,
      new Date("2026-06-24T10:00:00Z"),
    );
    await s.applyCtaChange(moved.cta_id as string, {assignee: "Backup Csm"}, lead);
    await s.close();

    await build({...quiet, asOf: "2026-06-24", warehousePath: wh});
    const w2 = await openWarehouse(wh, {readOnly: true});
    try {
      const h = new Map(
        (
          await all<Row>(
            w2.conn,
            "SELECT cta_id, status, CAST(closed_date AS VARCHAR) AS closed_date, assignee FROM marts.mart_cta_history",
          )
        ).map((r) => [r.cta_id as string, r]),
      );
      expect(h.get(done.cta_id as string)!.status).toBe("done");
      const q = new Map(
        (await all<Row>(w2.conn, "SELECT cta_id, owner, status FROM marts.mart_cta_queue")).map((r) => [
          r.cta_id as string,
          r,
        ]),
      );
      expect(q.has(done.cta_id as string)).toBe(false);
      expect(q.has(snoozed.cta_id as string)).toBe(false);
      if (h.get(snoozed.cta_id as string)!.closed_date === null)
        expect(h.get(snoozed.cta_id as string)!.status).toBe("snoozed");
      if (q.has(moved.cta_id as string)) expect(q.get(moved.cta_id as string)!.owner).toBe("Backup Csm");
      // no second CTA was raised for the done key while its trigger keeps firing
      const again = await all<Row>(
        w2.conn,
        "SELECT count(*)::INTEGER AS n FROM marts.mart_cta_history WHERE customer_id = $1 AND cta_type = $2 AND reason = $3 AND created_date >= '2026-06-23'",
        [done.customer_id as string, done.cta_type as string, done.reason as string],
      );
      expect(again[0]!.n).toBe(1);
      const info = await all<Row>(w2.conn, "SELECT store_read_at IS NOT NULL AS read FROM marts.build_info");
      expect(info[0]!.read).toBe(true);
    } finally {
      w2.close();
    }
  });
});
