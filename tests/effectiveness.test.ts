/**
 * Measured playbook effectiveness (loaders/sql/int_cta_outcomes.sql, mart_playbook_effectiveness.sql):
 * the interval maths on known cases, honest answers for empty and odd inputs, and the coverage of
 * the intervals against the true effects of the synthetic portfolio's simulated CS team
 * (loaders/synthetic/cta-loop.ts) over several seeds — the build's own SQL, on real DuckDB.
 */
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import {createHash} from "node:crypto";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {coverage, covers, type EffectVsTruth} from "../bench/effectiveness.ts";
import {createTableSql, tableSpec} from "../loaders/contract.ts";
import {all, lit} from "../loaders/duckdb.ts";
import {loadRules, runSteps} from "../loaders/marts.ts";
import {generateSynthetic} from "../loaders/synthetic/generate.ts";
import {TRUE_EFFECT} from "../loaders/synthetic/cta-loop.ts";
import {config} from "../src/rules/config.ts";
import {normalQuantile} from "../src/rules/dashboard-math.ts";
import {playbooks, validatePlaybooks} from "../src/rules/playbooks.ts";
import {effectivenessAssumption, type MeasuredEffectiveness} from "../src/components/measured-effectiveness.ts";

const AS_OF = "2026-06-30";
const M = playbooks.measurement;
const Z = normalQuantile(0.5 + M.intervalLevel / 2);
const HORIZON = config.dataQuality.churnHorizonDays;

// ---------------------------------------------------------------- a hand-made CTA history

interface Cta {
  playbook?: string;
  tier?: string;
  holdout?: boolean;
  worked?: boolean;
  /** days before the as-of date it was raised (default: a matured 200) */
  age?: number;
  /** days after the raise the account churned; null = never */
  churnAfter?: number | null;
  /** the account (default: one of its own) */
  account?: string;
  arrAtRaise?: number;
}

let seq = 0;
/** `n` CTAs alike, the first `churned` of them on accounts that churn 30 days after the raise. */
function arm(n: number, churned: number, c: Cta = {}): Cta[] {
  return Array.from({length: n}, (_, i) => ({...c, churnAfter: i < churned ? 30 : (c.churnAfter ?? null)}));
}

/** An in-memory warehouse holding `ctas` as marts.mart_cta_history, with the mart built from it. */
async function martOf(ctas: Cta[], extra: (conn: DuckDBConnection) => Promise<void> = async () => {}) {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run("CREATE SCHEMA raw; CREATE SCHEMA marts");
  for (const t of ["customers", "churn_events", "subscription_changes"]) await conn.run(createTableSql(tableSpec(t)));
  await conn.run(`CREATE TABLE marts.mart_cta_history (cta_id VARCHAR, customer_id VARCHAR, playbook_id VARCHAR, play_tier VARCHAR,
    segment VARCHAR, created_date DATE, holdout BOOLEAN, first_action_date DATE, arr_at_raise DOUBLE)`);
  const accounts = new Map<string, number | null>();
  for (const c of ctas) {
    const id = `X${++seq}`;
    const account = c.account ?? `C${seq}`;
    const created = `DATE ${lit(AS_OF)} - ${c.age ?? 200}`;
    if (!accounts.has(account)) {
      accounts.set(account, null);
      await conn.run(`INSERT INTO raw.customers VALUES (${lit(account)}, 'Acme', NULL, 'Software', '51-200', 'Growth', 10000, 10,
        DATE '2024-01-01', DATE '2025-01-01', DATE '2026-12-31', NULL, 'Ann')`);
      if (c.churnAfter !== null && c.churnAfter !== undefined)
        await conn.run(
          `INSERT INTO raw.churn_events VALUES (${lit(account)}, ${created} + ${c.churnAfter}, NULL, 10000)`,
        );
    }
    await conn.run(`INSERT INTO marts.mart_cta_history VALUES (${lit(id)}, ${lit(account)}, ${lit(c.playbook ?? "high_risk")},
      ${lit(c.tier ?? "High")}, 'Growth', ${created}, ${c.holdout ?? false}, ${c.worked && !c.holdout ? `${created} + 2` : "NULL"}, ${c.arrAtRaise ?? 10000})`);
  }
  await extra(conn);
  await loadRules(conn, AS_OF);
  await runSteps(conn, [
    "int_active_customers_as_of",
    "int_contract_as_of",
    "int_cta_outcomes",
    "mart_playbook_effectiveness",
  ]);
  type Row = Record<string, number | string | boolean | null>;
  const rows = await all<Row>(conn, "SELECT * FROM marts.mart_playbook_effectiveness");
  const outcomes = await all<Row>(conn, "SELECT * FROM int_cta_outcomes");
  conn.closeSync();
  instance.closeSync();
  const row = (playbook: string, tier = "all") => {
    const r = rows.find((x) => x.playbook_id === playbook && x.play_tier === tier);
    if (!r)
      throw new Error(`no row ${playbook}/${tier} in ${JSON.stringify(rows.map((x) => [x.playbook_id, x.play_tier]))}`);
    return r as Record<string, number> & {note: string; enough_data: boolean};
  };
  return {rows, row, outcomes};
}

/** Agresti–Caffo: x + 1 churned of n + 2, and the variance of that rate. */
const ac = (x: number, n: number) => ({
  a: (x + 1) / (n + 2),
  v: (((x + 1) / (n + 2)) * (1 - (x + 1) / (n + 2))) / (n + 2),
});

describe("the interval maths on known cases", () => {
  it("worked vs held out: Agresti–Caffo difference, log risk ratio, intention to treat, ARR retention", async () => {
    const {row} = await martOf([
      ...arm(200, 20, {worked: true}),
      ...arm(100, 20, {holdout: true}),
      ...arm(50, 10, {}), // raised, shown, never worked
    ]);
    const r = row("high_risk", "High");
    expect([r.n_worked, r.churned_worked, r.n_holdout, r.churned_holdout, r.n_not_held_out]).toEqual([
      200, 20, 100, 20, 250,
    ]);
    expect(r.churn_rate_worked).toBeCloseTo(0.1, 12);
    expect(r.churn_rate_holdout).toBeCloseTo(0.2, 12);
    expect(r.churn_reduction).toBeCloseTo(0.1, 12);
    const w = ac(20, 200);
    const h = ac(20, 100);
    const se = Math.sqrt(w.v + h.v);
    expect(r.churn_reduction_lo).toBeCloseTo(h.a - w.a - Z * se, 12);
    expect(r.churn_reduction_hi).toBeCloseTo(h.a - w.a + Z * se, 12);
    // by hand: a_w = 21/202, a_h = 21/102, z = 1.6449 → [0.0272, 0.1767] (the raw 0.1 is inside)
    expect(r.churn_reduction_lo).toBeCloseTo(0.0272, 4);
    expect(r.churn_reduction_hi).toBeCloseTo(0.1767, 4);
    expect(r.effectiveness).toBeCloseTo(0.5, 12);
    const lrr = Math.log(w.a / h.a);
    const lse = Math.sqrt(w.v / w.a ** 2 + h.v / h.a ** 2);
    expect(r.effectiveness_lo).toBeCloseTo(1 - Math.exp(lrr + Z * lse), 12);
    expect(r.effectiveness_hi).toBeCloseTo(1 - Math.exp(lrr - Z * lse), 12);
    const t = ac(30, 250);
    expect(r.itt_churn_reduction).toBeCloseTo(0.2 - 30 / 250, 12);
    expect(r.itt_churn_reduction_lo).toBeCloseTo(h.a - t.a - Z * Math.sqrt(t.v + h.v), 12);
    // retention: 0 when churned, 1 when the ARR stayed; the variance of a mean over 200 accounts
    expect(r.arr_retention_worked).toBeCloseTo(0.9, 12);
    expect(r.arr_retention_holdout).toBeCloseTo(0.8, 12);
    const rse = Math.sqrt((0.9 * 0.1) / 199 + (0.8 * 0.2) / 99);
    expect(r.arr_retention_gain_lo).toBeCloseTo(0.1 - Z * rse, 12);
    expect(r.interval_level).toBe(M.intervalLevel);
    expect(r.enough_data).toBe(true);
    expect(r.note).toBe(`measured on 200 worked and 100 held-out CTAs whose ${HORIZON}-day horizon has passed`);
    // one tier: the playbook's row over every tier is the same figure
    expect(row("high_risk").churn_reduction_lo).toBeCloseTo(r.churn_reduction_lo, 12);
  });

  it("a row over several tiers weights each tier's rates by its CTAs (a mix of tiers cannot fake an effect)", async () => {
    // the same 10-point effect in both tiers; CSMs worked the riskier tier's CTAs more
    const {row} = await martOf([
      ...arm(100, 10, {playbook: "medium_risk", tier: "Low", worked: true}),
      ...arm(20, 4, {playbook: "medium_risk", tier: "Low", holdout: true}),
      ...arm(100, 30, {playbook: "medium_risk", tier: "High", worked: true}),
      ...arm(80, 32, {playbook: "medium_risk", tier: "High", holdout: true}),
    ]);
    const r = row("medium_risk");
    // pooled naively: 40/200 worked vs 36/100 held out — a 16-point "effect"
    expect(r.churn_rate_worked).toBeCloseTo((120 * 0.1 + 180 * 0.3) / 300, 12);
    expect(r.churn_rate_holdout).toBeCloseTo((120 * 0.2 + 180 * 0.4) / 300, 12);
    expect(r.churn_reduction).toBeCloseTo(0.1, 12);
    const [lw, lh, hw, hh] = [ac(10, 100), ac(4, 20), ac(30, 100), ac(32, 80)];
    const centre = (120 * (lh.a - lw.a) + 180 * (hh.a - hw.a)) / 300;
    const se = Math.sqrt(120 ** 2 * (lw.v + lh.v) + 180 ** 2 * (hw.v + hh.v)) / 300;
    expect(r.churn_reduction_lo).toBeCloseTo(centre - Z * se, 12);
    expect(r.churn_reduction_hi).toBeCloseTo(centre + Z * se, 12);
    expect([r.n_worked, r.n_holdout, r.ctas_matured]).toEqual([200, 100, 300]);
    // every playbook together
    expect(row("all").churn_reduction).toBeCloseTo(0.1, 12);
  });

  it("several CTAs of one account count less than as many independent ones (design effect)", async () => {
    const shared: Cta[] = [];
    for (let a = 0; a < 50; a++)
      for (let k = 0; k < 4; k++) shared.push({worked: true, account: `S${a}`, churnAfter: a < 10 ? 30 : null});
    const clustered = (await martOf([...shared, ...arm(100, 20, {holdout: true})])).row("high_risk");
    const independent = (await martOf([...arm(200, 40, {worked: true}), ...arm(100, 20, {holdout: true})])).row(
      "high_risk",
    );
    expect(clustered.churn_reduction).toBeCloseTo(independent.churn_reduction, 12);
    const width = (r: Record<string, number>) => r.churn_reduction_hi - r.churn_reduction_lo;
    expect(width(clustered)).toBeGreaterThan(width(independent) * 1.1);
  });
});

describe("empty and odd inputs", () => {
  it("no matured CTA: a row per playbook and for all of them, counts 0, no estimate, 'not enough data yet'", async () => {
    for (const ctas of [[], arm(300, 30, {worked: true, age: HORIZON - 1}), arm(50, 5, {holdout: true, age: 10})]) {
      const {rows} = await martOf(ctas);
      const expected = [...new Set(playbooks.ctaRules.map((r) => r.playbook)), "all"].sort();
      expect(rows.map((r) => r.playbook_id).sort()).toEqual(expected);
      for (const r of rows) {
        expect([r.play_tier, r.ctas_matured, r.n_worked, r.n_holdout, r.enough_data]).toEqual(["all", 0, 0, 0, false]);
        expect([r.churn_reduction, r.churn_reduction_lo, r.effectiveness, r.arr_retention_gain]).toEqual([
          null,
          null,
          null,
          null,
        ]);
        expect(r.note).toBe(
          r.playbook_id === "critical_risk"
            ? "not measured: this playbook holds no CTAs out (config.playbooks.measurement.holdoutShare)"
            : `not enough data yet: 0 of ${M.minPerArm} held-out and 0 of ${M.minPerArm} worked CTAs with a matured ${HORIZON}-day outcome`,
        );
      }
    }
  });

  it("below the minimum: the estimate is there, flagged, and the note says how far along it is", async () => {
    const {row} = await martOf([...arm(150, 15, {worked: true}), ...arm(37, 8, {holdout: true})]);
    const r = row("high_risk");
    expect(r.enough_data).toBe(false);
    expect(r.note).toBe(
      `not enough data yet: 37 of ${M.minPerArm} held-out CTAs with a matured ${HORIZON}-day outcome`,
    );
    expect(r.churn_reduction_lo).toBeLessThan(r.churn_reduction_hi);
  });

  it("counts what the labels count: churn inside the horizon of an active account, the assignment as drawn", async () => {
    const {row, outcomes} = await martOf(
      [
        {worked: true, churnAfter: HORIZON, account: "EDGE_IN"}, // last day of the horizon: churned
        {worked: true, churnAfter: HORIZON + 1, account: "EDGE_OUT"}, // a day later: not this CTA's churn
        {worked: true, churnAfter: 0, account: "SAME_DAY"}, // left the day it was raised: no outcome of it
        {worked: true, churnAfter: -5, account: "GONE"}, // raised for an ex-customer: ignored
        {holdout: true, worked: true, account: "HELD"}, // a "first action" on a held-out CTA: still held out
        {holdout: true, arrAtRaise: 0, account: "FREE"}, // paid nothing, stayed: kept all it had
        {worked: true, account: "GREW"},
        {worked: true, account: "GREW_LATER"},
      ],
      async (conn) => {
        // a change inside the horizon counts; one after its end does not (ARR rolled back to the horizon's end)
        await conn.run(`UPDATE raw.customers SET arr = 11000 WHERE customer_id IN ('GREW', 'GREW_LATER')`);
        await conn.run(`INSERT INTO raw.subscription_changes VALUES
          ('S1', 'GREW', DATE ${lit(AS_OF)} - 150, 'seat_add', 1000, 1),
          ('S2', 'GREW_LATER', DATE ${lit(AS_OF)} - 50, 'seat_add', 1000, 1)`);
        // a CTA of an account the customer table does not know
        await conn.run(`INSERT INTO marts.mart_cta_history VALUES ('ORPHAN', 'NOBODY', 'high_risk', 'High', 'Growth',
          DATE ${lit(AS_OF)} - 200, false, NULL, 100)`);
      },
    );
    const by = new Map(outcomes.map((o) => [o.customer_id, o]));
    expect([...by.keys()].sort()).toEqual(["EDGE_IN", "EDGE_OUT", "FREE", "GREW", "GREW_LATER", "HELD"]);
    expect(by.get("EDGE_IN")!.churned).toBe(true);
    expect(by.get("EDGE_OUT")!.churned).toBe(false);
    expect([by.get("HELD")!.holdout, by.get("HELD")!.worked]).toEqual([true, false]);
    expect(by.get("FREE")!.arr_retention).toBe(1);
    expect(by.get("GREW")!.arr_retention).toBeCloseTo(1.1, 12);
    expect(by.get("GREW_LATER")!.arr_retention).toBeCloseTo(1, 12);
    expect([row("high_risk").n_worked, row("high_risk").n_holdout]).toEqual([4, 2]);
  });

  it("the holdout shares reach SQL as cfg.playbooks.holdout_share; a bad share is refused", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await loadRules(conn, AS_OF);
      const shares = await all<{playbook_id: string; holdout_share: number}>(
        conn,
        "SELECT playbook_id, holdout_share FROM cfg.playbooks ORDER BY playbook_id",
      );
      for (const s of shares)
        expect(s.holdout_share, s.playbook_id).toBe((M.holdoutShare as Record<string, number>)[s.playbook_id] ?? 0);
      expect(shares.find((s) => s.playbook_id === "critical_risk")!.holdout_share).toBe(0);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    const bad = {
      ...playbooks,
      measurement: {
        ...M,
        holdoutShare: {...M.holdoutShare, high_risk: 1.2, nosuch: 0.1},
        minPerArm: 0,
        intervalLevel: 1,
      },
    };
    expect(validatePlaybooks(bad as unknown as typeof playbooks, config)).toEqual([
      "playbooks.measurement.holdoutShare.high_risk: must be a share in [0, 1) (got 1.2)",
      "playbooks.measurement.holdoutShare.nosuch: unknown playbook",
      "playbooks.measurement.minPerArm: must be a whole number ≥ 1 (got 0)",
      "playbooks.measurement.intervalLevel: must be between 0.5 and 1 (got 1)",
    ]);
  });
});

describe("the Uplift Simulator's effectiveness", () => {
  const overall = (o: Partial<MeasuredEffectiveness>): MeasuredEffectiveness => ({
    playbook_id: "all",
    playbook: "All playbooks",
    play_tier: "all",
    n_worked: 800,
    n_holdout: 150,
    effectiveness: 0.3,
    effectiveness_lo: 0.1,
    effectiveness_hi: 0.45,
    interval_level: 0.9,
    enough_data: true,
    note: "measured on 800 worked and 150 held-out CTAs whose 90-day horizon has passed",
    ...o,
  });

  it("uses the measured figure with its interval once it has enough data, and says so", () => {
    const a = effectivenessAssumption([overall({})]);
    expect([a.source, a.value, a.scenarios]).toEqual(["measured", 0.3, [0.1, 0.3, 0.45]]);
    expect(a.text).toMatch(/^Effectiveness: measured — 30% \(90% interval 10% to 45%\)/);
    // an interval reaching below zero: the low scenario is no effect, and the page says the plays may not help
    const b = effectivenessAssumption([overall({effectiveness_lo: -0.2})]);
    expect(b.scenarios[0]).toBe(0);
    expect(b.text).toContain("may not help at all");
  });

  it("keeps the configured default until then, and says why", () => {
    for (const rows of [[], [overall({enough_data: false, note: "not enough data yet: 37 of 100 held-out CTAs"})]]) {
      const a = effectivenessAssumption(rows);
      expect([a.source, a.value, a.scenarios]).toEqual([
        "default",
        config.uplift.effectiveness,
        config.uplift.scenarios,
      ]);
      expect(a.text).toContain("industry benchmark");
    }
    expect(effectivenessAssumption([overall({enough_data: false, note: "not enough data yet: 37"})]).text).toContain(
      "not enough data yet: 37",
    );
  });
});

describe("the simulated CS team's history (loaders/synthetic/cta-loop.ts)", () => {
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(":memory:");
    conn = await instance.connect();
    await generateSynthetic(conn, {customers: 1500, seed: 3, asOf: AS_OF, usage: false});
  }, 60_000);
  afterAll(() => {
    conn.closeSync();
    instance.closeSync();
  });

  it("writes closed CTAs by the CTA rules, with the nightly build's ids, holdouts never worked", async () => {
    const bad = await all<{problem: string; n: number}>(
      conn,
      `SELECT 'not closed before the as-of date' AS problem, count(*) AS n FROM raw.cta_history WHERE NOT closed_date < DATE ${lit(AS_OF)}
       UNION ALL SELECT 'closed before raised', count(*) FROM raw.cta_history WHERE closed_date < created_date
       UNION ALL SELECT 'held out yet worked', count(*) FROM raw.cta_history WHERE holdout AND (first_action_date IS NOT NULL OR status = 'done')
       UNION ALL SELECT 'worked but not done', count(*) FROM raw.cta_history WHERE (first_action_date IS NOT NULL) <> (status = 'done')
       UNION ALL SELECT 'acted before raised', count(*) FROM raw.cta_history WHERE first_action_date < created_date
       UNION ALL SELECT 'duplicate id', count(*) - count(DISTINCT cta_id) FROM raw.cta_history
       UNION ALL SELECT 'critical held out', count(*) FROM raw.cta_history WHERE playbook_id = 'critical_risk' AND holdout
       UNION ALL SELECT 'no truth', count(*) FROM raw.cta_history ANTI JOIN truth.cta_effects USING (cta_id)
       UNION ALL SELECT 'two plays at once', count(*) FROM raw.cta_history a JOIN raw.cta_history b
         ON a.customer_id = b.customer_id AND a.cta_id < b.cta_id AND a.created_date < b.closed_date AND b.created_date < a.closed_date
       UNION ALL SELECT 'no ARR at raise', count(*) FROM raw.cta_history WHERE arr_at_raise <= 0`,
    );
    expect(bad.filter((b) => b.n > 0)).toEqual([]);
    const rules = new Map(playbooks.ctaRules.map((r) => [r.reason, r]));
    const kinds = await all<{cta_type: string; reason: string; playbook_id: string; n: number}>(
      conn,
      "SELECT cta_type, reason, playbook_id, count(*) AS n FROM raw.cta_history GROUP BY ALL",
    );
    for (const k of kinds)
      expect([k.cta_type, k.playbook_id]).toEqual([rules.get(k.reason)!.type, rules.get(k.reason)!.playbook]);
    // the id the nightly build would give the first CTA of its account + type + reason
    const first = await all<{cta_id: string; customer_id: string; cta_type: string; reason: string}>(
      conn,
      "SELECT cta_id, customer_id, cta_type, reason FROM raw.cta_history QUALIFY row_number() OVER (PARTITION BY customer_id, cta_type, reason ORDER BY created_date) = 1 LIMIT 20",
    );
    for (const f of first)
      expect(f.cta_id).toBe(createHash("md5").update(`${f.customer_id}|${f.cta_type}|${f.reason}|1`).digest("hex"));
    // about the configured share held out, within each playbook's permuted blocks
    const held = await all<{playbook_id: string; share: number; n: number}>(
      conn,
      "SELECT playbook_id, avg(holdout::INT) AS share, count(*) AS n FROM raw.cta_history GROUP BY 1",
    );
    for (const h of held)
      expect(
        Math.abs(h.share - ((M.holdoutShare as Record<string, number>)[h.playbook_id] ?? 0)),
        h.playbook_id,
      ).toBeLessThan(0.03);
  });

  it("holds the true effects: per playbook, and per CTA a churn probability with the play worked and without", async () => {
    const effects = await all<{playbook_id: string; churn_logit: number}>(
      conn,
      "SELECT playbook_id, churn_logit FROM truth.playbook_effects ORDER BY 1",
    );
    expect(effects).toEqual(
      Object.entries(TRUE_EFFECT).map(([playbook_id, churn_logit]) => ({playbook_id, churn_logit})),
    );
    const r = await all<{bad: number; helps: number}>(
      conn,
      `SELECT count(*) FILTER (NOT (p_churn_if_worked BETWEEN 0 AND 1 AND p_churn_if_not_worked BETWEEN 0 AND 1
                                    AND p_churn_if_worked <= p_churn_if_not_worked + 1e-12)) AS bad,
              avg(p_churn_if_not_worked - p_churn_if_worked) AS helps
       FROM truth.cta_effects`,
    );
    expect(r[0]!.bad).toBe(0);
    expect(r[0]!.helps).toBeGreaterThan(0);
  });
});

describe("coverage against the truth", () => {
  // 10 seeds of the default 5,000 customers (without daily usage): every seed has enough
  // matured high_risk holdouts; medium_risk's are fewer, its intervals wider
  const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  let rows: (EffectVsTruth & {seed: number})[];
  let figures: Awaited<ReturnType<typeof coverage>>["figures"];
  beforeAll(async () => {
    ({rows, figures} = await coverage({customers: 5000, seeds: SEEDS, asOf: AS_OF}));
  }, 300_000);

  it(`the ${Math.round(M.intervalLevel * 100)}% intervals cover the true effect in ≥ 85% of (seed, playbook) cases`, () => {
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    console.log(
      `effectiveness coverage over ${figures.cases} (seed, playbook) cases, ${SEEDS.length} seeds × ${figures.customers} customers: ` +
        `churn reduction ${pct(figures.churnReduction)}, relative effectiveness ${pct(figures.effectiveness)}, intention to treat ${pct(figures.itt)}`,
    );
    for (const r of rows)
      console.log(
        `  seed ${r.seed} ${r.playbook_id}: ${r.n_worked} worked, ${r.n_holdout} held out; churn reduction ${r.churn_reduction?.toFixed(3)} ` +
          `[${r.churn_reduction_lo?.toFixed(3)}, ${r.churn_reduction_hi?.toFixed(3)}] vs true ${r.true_churn_reduction.toFixed(3)}` +
          `${covers(r.churn_reduction_lo, r.churn_reduction_hi, r.true_churn_reduction) ? "" : "  ← missed"}`,
      );
    // the playbooks the team holds CTAs out of, every seed
    expect(figures.cases).toBe(SEEDS.length * 2);
    expect(figures.churnReduction).toBeGreaterThanOrEqual(0.85);
    expect(figures.effectiveness).toBeGreaterThanOrEqual(0.85);
    expect(figures.itt).toBeGreaterThanOrEqual(0.85);
  });

  it("with enough data where the portfolio has it, and no bias beyond the intervals' own uncertainty", () => {
    const high = rows.filter((r) => r.playbook_id === "high_risk");
    expect(high.every((r) => r.enough_data)).toBe(true);
    // the mean error over seeds, against the standard error the intervals imply
    const se = high.map((r) => (r.churn_reduction_hi! - r.churn_reduction_lo!) / (2 * Z));
    const meanError = high.reduce((s, r) => s + r.churn_reduction! - r.true_churn_reduction, 0) / high.length;
    const seOfMean = Math.sqrt(se.reduce((s, x) => s + x * x, 0)) / high.length;
    expect(Math.abs(meanError)).toBeLessThan(3 * seOfMean);
  });
});
