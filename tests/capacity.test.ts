/**
 * A queue that respects capacity (marts.mart_csm_worklist, marts.mart_csm_capacity) on a real
 * DuckDB warehouse built by the real pipeline: each CSM's week holds what fits, the digest never
 * holds a CTA worth more per hour than one kept, Critical and in-progress CTAs are never
 * digested, the store's capacity overrides win over the config, the rebalancing suggestion never
 * offers a CSM more than their room, and a broken capacity config is refused with its path.
 */
import {spawn} from "node:child_process";
import {copyFileSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {tableFromIPC} from "apache-arrow";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {config, validateConfig, type CapacityRules} from "../src/rules/config.ts";
import {all, one, openWarehouse, run, type Warehouse} from "../loaders/duckdb.ts";
import {runSteps, writeCapacityRules} from "../loaders/marts.ts";
import {checksOf, runQualityChecks} from "../loaders/quality.ts";
import {CSM_CAPACITY_COLUMNS, CSM_WORKLIST_COLUMNS, PII_COLUMNS} from "../loaders/site/site-tables.ts";
import {SQL_STEPS} from "../loaders/sql/steps.ts";
import {ensureTestWarehouse, TEST_WAREHOUSE_AS_OF} from "./helpers/test-warehouse.ts";

interface WorkRow {
  cta_id: string;
  owner: string;
  playbook_id: string;
  priority: string;
  status: string;
  arr: number;
  churn_probability: number;
  effort_hours: number;
  effectiveness: number;
  effectiveness_source: "measured" | "config";
  expected_arr_saved: number;
  value_per_hour: number;
  capacity_hours: number;
  capacity_source: string;
  rank_in_queue: number;
  queued_hours_up_to: number | null;
  fits_this_week: boolean;
  lane: "this_week" | "next" | "digest";
  lane_reason: string;
}
interface CapacityRow {
  csm: string;
  capacity_hours: number;
  capacity_source: string;
  hours_this_week: number;
  hours_next: number;
  hours_queued: number;
  overload_hours: number;
  must_keep_hours: number;
  room_hours: number;
  move_out_hours: number;
  receive_hours: number;
  suggested_receiver: string | null;
  overload_after_hours: number;
}

/** The steps of this feature, in build order (loaders/sql/steps.ts). */
const CAPACITY_STEPS = ["int_csm_capacity", "mart_csm_worklist", "mart_csm_capacity"];
const CHECKS = checksOf("ctas").filter((c) => CAPACITY_STEPS.some((s) => c.table === `marts.${s}`));

let root: string;
let built: string;
let w: Warehouse;

/** Recomputes the feature on the warehouse with a capacity config and the store's overrides. */
async function recompute(
  cap: CapacityRules = config.capacity,
  overrides: Readonly<Record<string, number>> = {},
): Promise<{work: WorkRow[]; csms: CapacityRow[]}> {
  await writeCapacityRules(w.conn, cap);
  // what loaders/cta.ts reads from the operational store before the CTA phase
  await run(w.conn, "CREATE OR REPLACE TEMP TABLE ops_capacity (csm VARCHAR, hours_per_week DOUBLE)");
  for (const [csm, h] of Object.entries(overrides))
    await run(w.conn, "INSERT INTO ops_capacity VALUES ($1, $2)", [csm, h]);
  await runSteps(w.conn, CAPACITY_STEPS);
  await runQualityChecks(w.conn, TEST_WAREHOUSE_AS_OF, CHECKS);
  return {
    work: await all<WorkRow>(w.conn, "SELECT * FROM marts.mart_csm_worklist ORDER BY owner, rank_in_queue"),
    csms: await all<CapacityRow>(
      w.conn,
      "SELECT * EXCLUDE (rebalance_to, rebalance_from) FROM marts.mart_csm_capacity ORDER BY csm",
    ),
  };
}

function byOwner(rows: readonly WorkRow[]): Map<string, WorkRow[]> {
  const m = new Map<string, WorkRow[]>();
  for (const r of rows) m.set(r.owner, [...(m.get(r.owner) ?? []), r]);
  return m;
}
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
function variant(change: (c: CapacityRules) => void): CapacityRules {
  const c = structuredClone(config.capacity);
  change(c);
  return c;
}

/** The rules every result must keep, whatever the config. */
function expectInvariants(work: readonly WorkRow[]): void {
  for (const [owner, rows] of byOwner(work)) {
    const cap = rows[0]!.capacity_hours;
    // ranked by value per hour, 1..n
    expect(rows.map((r) => r.rank_in_queue)).toEqual(rows.map((_, i) => i + 1));
    for (let i = 1; i < rows.length; i++)
      expect(rows[i]!.value_per_hour, owner).toBeLessThanOrEqual(rows[i - 1]!.value_per_hour);
    // this week's CTAs fit the week
    const week = rows.filter((r) => r.lane === "this_week");
    expect(sum(week.map((r) => r.effort_hours)), `${owner}'s week`).toBeLessThanOrEqual(cap + 1e-9);
    for (const r of rows) expect(r.fits_this_week, r.cta_id).toBe(r.lane === "this_week");
    // no digested CTA is worth more per hour than any CTA the CSM keeps
    const kept = rows.filter((r) => r.lane !== "digest");
    const digest = rows.filter((r) => r.lane === "digest");
    if (kept.length && digest.length)
      expect(Math.max(...digest.map((r) => r.value_per_hour)), owner).toBeLessThanOrEqual(
        Math.min(...kept.map((r) => r.value_per_hour)),
      );
    // Critical and in-progress CTAs are never digested
    for (const r of digest) {
      expect(r.priority, r.cta_id).not.toBe("critical");
      expect(r.status, r.cta_id).not.toBe("in_progress");
    }
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "saasguard-capacity-"));
  // a copy: these tests rewrite the feature's tables with variants of the config
  built = await ensureTestWarehouse();
  copyFileSync(built, join(root, "w.duckdb"));
  w = await openWarehouse(join(root, "w.duckdb"));
}, 600_000);
afterAll(() => {
  w?.close();
  rmSync(root, {recursive: true, force: true});
});

describe("the build", () => {
  it("runs the capacity steps in the CTA phase after the queue, and its warehouse holds both marts", async () => {
    const ctas = SQL_STEPS.filter((s) => s.phase === "ctas").map((s) => s.name);
    const at = (n: string) => ctas.indexOf(n);
    expect(at("mart_cta_queue")).toBeGreaterThanOrEqual(0);
    expect(at("int_csm_capacity")).toBeGreaterThan(at("mart_cta_queue"));
    expect(at("mart_csm_worklist")).toBeGreaterThan(at("int_csm_capacity"));
    expect(at("mart_csm_capacity")).toBeGreaterThan(at("mart_csm_worklist"));
    // as the nightly build left it (no store overrides): one row per queued CTA, every CSM listed
    const r = await one<{work: number; queue: number; csms: number; owners: number}>(
      w.conn,
      `SELECT (SELECT count(*) FROM marts.mart_csm_worklist) AS work, (SELECT count(*) FROM marts.mart_cta_queue) AS queue,
              (SELECT count(*) FROM marts.mart_csm_capacity) AS csms,
              (SELECT count(DISTINCT csm_owner) FROM marts.mart_customer_risk_scores) AS owners`,
    );
    expect(r.work).toBe(r.queue);
    expect(r.work).toBeGreaterThan(50);
    expect(r.csms).toBeGreaterThanOrEqual(r.owners);
    await runQualityChecks(w.conn, TEST_WAREHOUSE_AS_OF, CHECKS);
  });
});

describe("a queue that respects capacity", () => {
  it("values each CTA as P(churn) × ARR × effectiveness ÷ the play's effort: measured effectiveness once it has enough data, else the config's", async () => {
    const check = async (want: ReadonlyMap<string, {effectiveness: number; source: string}>) => {
      const {work} = await recompute();
      expectInvariants(work);
      const queue = await all<{cta_id: string; playbook_id: string; arr: number; p: number}>(
        w.conn,
        "SELECT q.cta_id, q.playbook_id, q.arr, r.churn_probability AS p FROM marts.mart_cta_queue q JOIN marts.mart_customer_risk_scores r USING (customer_id)",
      );
      const byId = new Map(work.map((r) => [r.cta_id, r]));
      for (const q of queue) {
        const r = byId.get(q.cta_id)!;
        const effort = config.capacity.effortHoursByPlaybook[q.playbook_id]!;
        const eff = want.get(q.playbook_id) ?? {effectiveness: config.uplift.effectiveness, source: "config"};
        expect(r.effort_hours, q.playbook_id).toBe(effort);
        expect([r.effectiveness, r.effectiveness_source], q.playbook_id).toEqual([eff.effectiveness, eff.source]);
        expect(r.expected_arr_saved).toBeCloseTo(q.p * q.arr * eff.effectiveness, 6);
        expect(r.value_per_hour).toBeCloseTo((q.p * q.arr * eff.effectiveness) / effort, 6);
        expect(r.capacity_hours).toBe(config.capacity.defaultHoursPerWeek);
        expect(r.capacity_source).toBe("default");
      }
      return work;
    };
    // as built: each playbook's measured figure where the mart has enough data for it
    const measured = await all<{playbook_id: string; effectiveness: number}>(
      w.conn,
      "SELECT playbook_id, effectiveness FROM marts.mart_playbook_effectiveness WHERE play_tier = 'all' AND enough_data AND effectiveness IS NOT NULL",
    );
    await check(
      new Map(measured.map((m) => [m.playbook_id, {effectiveness: Math.max(m.effectiveness, 0), source: "measured"}])),
    );
    // a measurement with enough data replaces the config's figure; one that says the play does
    // harm counts as no effect; one without enough data, or per tier only, is not used
    await run(w.conn, "CREATE OR REPLACE TEMP TABLE effectiveness_as_built AS FROM marts.mart_playbook_effectiveness");
    try {
      await run(
        w.conn,
        `UPDATE marts.mart_playbook_effectiveness SET enough_data = false;
         UPDATE marts.mart_playbook_effectiveness SET enough_data = true, effectiveness = 0.4 WHERE playbook_id = 'renewal' AND play_tier = 'all';
         UPDATE marts.mart_playbook_effectiveness SET enough_data = true, effectiveness = -0.2 WHERE playbook_id = 'high_risk' AND play_tier = 'all';
         UPDATE marts.mart_playbook_effectiveness SET enough_data = false, effectiveness = 0.9 WHERE playbook_id = 'onboarding' AND play_tier = 'all';
         UPDATE marts.mart_playbook_effectiveness SET enough_data = true, effectiveness = 0.9 WHERE playbook_id = 'medium_risk' AND play_tier <> 'all'`,
      );
      const work = await check(
        new Map([
          ["renewal", {effectiveness: 0.4, source: "measured"}],
          ["high_risk", {effectiveness: 0, source: "measured"}],
        ]),
      );
      // worth nothing: never in this week's queue unless Critical or started
      for (const r of work.filter((x) => x.playbook_id === "high_risk" && x.priority !== "critical"))
        expect(r.lane).toBe("digest");
    } finally {
      await run(
        w.conn,
        "DELETE FROM marts.mart_playbook_effectiveness; INSERT INTO marts.mart_playbook_effectiveness FROM effectiveness_as_built",
      );
    }
  });

  it("fills each CSM's week in order of value per hour and never beyond it", async () => {
    const {work, csms} = await recompute();
    expectInvariants(work);
    for (const [owner, rows] of byOwner(work)) {
      const cap = rows[0]!.capacity_hours;
      // this week's CTAs are the first kept ones, and the next kept one would not have fitted
      const kept = rows.filter((r) => r.lane !== "digest");
      const week = kept.filter((r) => r.lane === "this_week");
      expect(kept.slice(0, week.length), owner).toEqual(week);
      const hours = sum(week.map((r) => r.effort_hours));
      if (kept.length > week.length) expect(hours + kept[week.length]!.effort_hours, owner).toBeGreaterThan(cap);
    }
    // the default portfolio is over capacity: every lane is used
    const lanes = new Set(work.map((r) => r.lane));
    expect(lanes).toEqual(new Set(["this_week", "next", "digest"]));
    for (const c of csms) {
      expect(c.hours_this_week).toBeLessThanOrEqual(c.capacity_hours);
      expect(c.hours_queued).toBeCloseTo(c.hours_this_week + c.hours_next, 9);
      expect(c.overload_hours).toBeCloseTo(Math.max(0, c.hours_queued - c.capacity_hours), 9);
    }
  });

  it("digests what will never fit, and nothing worth more per hour than a CTA kept in the queue", async () => {
    const {work} = await recompute();
    const digest = work.filter((r) => r.lane === "digest");
    expect(digest.length).toBeGreaterThan(10);
    for (const [owner, rows] of byOwner(work)) {
      const cap = rows[0]!.capacity_hours;
      let upTo = 0;
      for (const r of rows) {
        upTo += r.effort_hours;
        // digested: ranked beyond the digest horizon, or below the value floor
        if (r.lane === "digest")
          expect(
            upTo > cap * config.capacity.digestBeyondWeeks ||
              r.value_per_hour < config.capacity.digestBelowValuePerHour,
            `${owner} ${r.cta_id}`,
          ).toBe(true);
      }
    }
    // kept beyond the week only by the rules: Critical, in progress, or worth more than a kept one
    for (const r of work.filter((x) => x.lane === "next"))
      expect(["critical", "in_progress", "outvalues_kept", "within_horizon"]).toContain(r.lane_reason);
    expectInvariants(work);

    // a value floor above some CTAs that fit the week sends those to the digest too
    const floor = 150;
    const floored = await recompute(variant((c) => (c.digestBelowValuePerHour = floor)));
    expectInvariants(floored.work);
    const below = floored.work.filter((r) => r.lane_reason === "below_value_floor");
    expect(below.length).toBeGreaterThan(0);
    for (const r of below) expect(r.value_per_hour).toBeLessThan(floor);
    // a CTA below the floor stays only when its CSM keeps a Critical CTA worth even less (the digest rule wins)
    const owners = byOwner(floored.work);
    for (const r of floored.work.filter((x) => x.lane !== "digest" && x.priority !== "critical")) {
      if (r.value_per_hour >= floor) continue;
      const critical = owners.get(r.owner)!.filter((x) => x.priority === "critical" || x.status === "in_progress");
      expect(Math.min(...critical.map((x) => x.value_per_hour)), r.cta_id).toBeLessThan(r.value_per_hour);
    }

    // a longer horizon keeps two weeks of work as individual CTAs
    const twoWeeks = await recompute(variant((c) => (c.digestBeyondWeeks = 2)));
    expectInvariants(twoWeeks.work);
    expect(twoWeeks.work.filter((r) => r.lane === "digest").length).toBeLessThan(digest.length);
    expect(twoWeeks.work.some((r) => r.lane_reason === "within_horizon")).toBe(true);
  });

  it("never digests Critical CTAs or CTAs a CSM has started, even with no hours at all", async () => {
    const {work} = await recompute();
    const critical = work.filter((r) => r.priority === "critical");
    expect(critical.length).toBeGreaterThan(0);
    for (const r of critical) expect(r.lane).not.toBe("digest");

    // the lowest-value digested CTA is started; a CSM with no hours this week keeps the rest
    const started = work.filter((r) => r.lane === "digest").sort((a, b) => a.value_per_hour - b.value_per_hour)[0]!;
    await run(w.conn, "UPDATE marts.mart_cta_queue SET status = 'in_progress' WHERE cta_id = $1", [started.cta_id]);
    try {
      const busiest = [...byOwner(work)].sort((a, b) => b[1].length - a[1].length)[0]![0];
      const away = await recompute(config.capacity, {[busiest]: 0});
      expectInvariants(away.work);
      const s = away.work.find((r) => r.cta_id === started.cta_id)!;
      expect(s.lane).toBe("next");
      expect(s.lane_reason).toBe("in_progress");
      // with no hours: nothing fits, Critical CTAs wait in "next", the rest is digested unless it
      // is worth more per hour than a kept Critical CTA
      const mine = away.work.filter((r) => r.owner === busiest);
      expect(mine.some((r) => r.lane === "this_week")).toBe(false);
      for (const r of mine.filter((x) => x.priority === "critical")) expect(r.lane).toBe("next");
      const c = away.csms.find((x) => x.csm === busiest)!;
      expect(c.capacity_hours).toBe(0);
      expect(c.overload_hours).toBeCloseTo(c.hours_next, 9);
    } finally {
      await run(w.conn, "UPDATE marts.mart_cta_queue SET status = 'open' WHERE cta_id = $1", [started.cta_id]);
    }
  });

  it("takes each CSM's hours from the store's override, else the config's per-CSM hours, else the default", async () => {
    const owners = [...byOwner((await recompute()).work).keys()].sort();
    expect(owners.length).toBeGreaterThanOrEqual(3);
    const [a, b, c] = owners as [string, string, string];
    const {work, csms} = await recompute(
      variant((x) => (x.perCsm = {[a]: 3, [c]: 20, "Nobody Here": 40})),
      {[a]: 25, [b]: 4.5},
    );
    expectInvariants(work);
    const cap = new Map(csms.map((x) => [x.csm, x]));
    expect(cap.get(a)).toMatchObject({capacity_hours: 25, capacity_source: "override"}); // the store wins over the config
    expect(cap.get(b)).toMatchObject({capacity_hours: 4.5, capacity_source: "override"});
    expect(cap.get(c)).toMatchObject({capacity_hours: 20, capacity_source: "config"});
    expect(cap.get(owners[3] ?? a)?.capacity_source).toBe(owners[3] ? "default" : "override");
    // a name only the config knows owns nothing and is not offered work
    expect(cap.has("Nobody Here")).toBe(false);
    for (const r of work.filter((x) => x.owner === b)) expect(r.capacity_hours).toBe(4.5);
    expect(cap.get(b)!.hours_this_week).toBeLessThanOrEqual(4.5);
    expect(cap.get(a)!.hours_this_week).toBeGreaterThan(12); // more than the default week
  });

  it("suggests moving overflow to CSMs with room, never beyond a receiver's room", async () => {
    // one CSM away this week: their Critical CTAs have to go somewhere
    const owners = [...byOwner((await recompute()).work).entries()].sort((x, y) => y[1].length - x[1].length);
    const away = owners[0]![0];
    const {csms} = await recompute(config.capacity, {[away]: 0});
    const rebalance = await all<{giver: string; receiver: string; hours: number}>(
      w.conn,
      "SELECT csm AS giver, m.csm AS receiver, m.hours FROM (SELECT csm, unnest(rebalance_to) AS m FROM marts.mart_csm_capacity)",
    );
    const c = new Map(csms.map((x) => [x.csm, x]));
    expect(c.get(away)!.overload_hours).toBeGreaterThan(0);
    expect(rebalance.length).toBeGreaterThan(0);
    for (const x of csms) {
      const out = sum(rebalance.filter((m) => m.giver === x.csm).map((m) => m.hours));
      const into = sum(rebalance.filter((m) => m.receiver === x.csm).map((m) => m.hours));
      expect(x.move_out_hours).toBeCloseTo(out, 9);
      expect(x.receive_hours).toBeCloseTo(into, 9);
      // givers are overloaded, receivers are not; nobody gets more than their room or gives more than their overflow
      if (out > 0) expect(x.overload_hours).toBeGreaterThan(0);
      if (into > 0) expect(x.overload_hours).toBe(0);
      expect(into).toBeLessThanOrEqual(x.room_hours + 1e-9);
      expect(out).toBeLessThanOrEqual(x.overload_hours + 1e-9);
      expect(x.room_hours).toBeCloseTo(x.overload_hours > 0 ? 0 : Math.max(0, x.capacity_hours - x.must_keep_hours), 9);
      expect(x.overload_after_hours).toBeCloseTo(x.overload_hours - out, 9);
      if (out > 0) {
        const biggest = rebalance
          .filter((m) => m.giver === x.csm)
          .sort((p, q) => q.hours - p.hours || p.receiver.localeCompare(q.receiver))[0]!;
        expect(x.suggested_receiver).toBe(biggest.receiver);
      }
    }
    // the greedy: overflow is placed until the team's room runs out
    const overflow = sum(csms.map((x) => x.overload_hours));
    const room = sum(csms.map((x) => x.room_hours));
    expect(sum(rebalance.map((m) => m.hours))).toBeCloseTo(Math.min(overflow, room), 6);
    // the most overloaded CSM's overflow goes first to the CSM with the most room
    const most = [...csms].sort((p, q) => q.overload_hours - p.overload_hours || p.csm.localeCompare(q.csm))[0]!;
    const roomiest = [...csms].sort((p, q) => q.room_hours - p.room_hours || p.csm.localeCompare(q.csm))[0]!;
    expect(rebalance.some((m) => m.giver === most.csm && m.receiver === roomiest.csm)).toBe(true);
  });
});

/** Runs a site data loader (src/data/) on the built warehouse; its stdout. */
function runLoader(loader: string): Promise<Buffer> {
  const ROOT = resolve(import.meta.dirname, "..");
  return new Promise((ok, fail) => {
    const child = spawn(join(ROOT, "node_modules/.bin/tsx"), [loader], {
      cwd: ROOT,
      env: {...process.env, SAASGUARD_WAREHOUSE: built},
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", fail);
    child.on("close", (code) => (code === 0 ? ok(Buffer.concat(out)) : fail(new Error(`${loader}: ${err}`))));
  });
}

describe("the CSM queue page's data", () => {
  it("publishes each queued CTA's lane and each CSM's week, allow-listed columns only", async () => {
    const n = await one<{work: number; csms: number}>(
      w.conn,
      "SELECT (SELECT count(*) FROM marts.mart_cta_queue)::INTEGER AS work, (SELECT count(DISTINCT csm_owner) FROM marts.mart_customer_risk_scores)::INTEGER AS csms",
    );
    const work = tableFromIPC(await runLoader("src/data/csm_worklist.arrow.ts"));
    expect(work.schema.fields.map((f) => f.name)).toEqual([...CSM_WORKLIST_COLUMNS]);
    expect(work.numRows).toBe(n.work);
    const capacity = tableFromIPC(await runLoader("src/data/csm_capacity.arrow.ts"));
    expect(capacity.schema.fields.map((f) => f.name)).toEqual([...CSM_CAPACITY_COLUMNS]);
    expect(capacity.numRows).toBeGreaterThanOrEqual(n.csms);
    // the rebalancing suggestions stay lists of {csm, hours}
    for (const k of ["rebalance_to", "rebalance_from"])
      expect(String(capacity.getChild(k)!.type), k).toMatch(/^List<Struct</);
    const to = capacity.toArray().flatMap((r) => (r.rebalance_to ? [...r.rebalance_to].map((x) => x.toJSON()) : []));
    for (const x of to) expect(Object.keys(x).sort()).toEqual(["csm", "hours"]);
    for (const pii of PII_COLUMNS) expect([...CSM_WORKLIST_COLUMNS, ...CSM_CAPACITY_COLUMNS]).not.toContain(pii);
  });
});

describe("config.capacity", () => {
  it("is valid as shipped, and a broken edit is refused with the path of the bad value", async () => {
    expect(validateConfig()).toEqual([]);
    const broken = variant((c) => {
      c.defaultHoursPerWeek = 0;
      c.perCsm = {"Alex Smith": -2};
      c.effortHoursByPlaybook = {...c.effortHoursByPlaybook, renewal: Number.NaN, low_risk: 1};
      delete (c.effortHoursByPlaybook as Record<string, number>).onboarding;
      c.digestBeyondWeeks = 0.5;
      c.digestBelowValuePerHour = -1;
    });
    const problems = validateConfig({...config, capacity: broken}).join("\n");
    expect(problems).toMatch(/config\.capacity\.defaultHoursPerWeek: must be a number of hours > 0 .*\(got 0\)/);
    expect(problems).toMatch(/config\.capacity\.perCsm\["Alex Smith"\]: must be a number of hours ≥ 0 .*\(got -2\)/);
    expect(problems).toMatch(/config\.capacity\.effortHoursByPlaybook\.renewal: must be a number of hours > 0/);
    expect(problems).toMatch(/config\.capacity\.effortHoursByPlaybook: no effort for playbook "onboarding"/);
    expect(problems).toMatch(
      /config\.capacity\.effortHoursByPlaybook\.low_risk: no CTA rule raises playbook "low_risk"/,
    );
    expect(problems).toMatch(/config\.capacity\.digestBeyondWeeks: must be a whole number of weeks ≥ 1 \(got 0\.5\)/);
    expect(problems).toMatch(/config\.capacity\.digestBelowValuePerHour: must be .* ≥ 0 \(got -1\)/);
    // the rules loader refuses it too, so no variant reaches the SQL
    await expect(writeCapacityRules(w.conn, broken)).rejects.toThrow(
      /config\.capacity is invalid:\n {2}config\.capacity\.defaultHoursPerWeek/,
    );
  });
});
