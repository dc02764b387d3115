/**
 * Measured playbook effectiveness against the synthetic portfolio's truth: generate a portfolio
 * (its simulated CS team's year of CTAs, loaders/synthetic/cta-loop.ts), run the build's own SQL
 * (int_cta_outcomes, mart_playbook_effectiveness) on its CTA history, and put each estimate and
 * its interval beside the true effect from truth.cta_effects, averaged over the same CTAs with the
 * same tier weights. Only the bench and the tests read truth.*.
 */
import {DuckDBInstance} from "@duckdb/node-api";
import {all} from "../loaders/duckdb.ts";
import {loadRules, runSteps} from "../loaders/marts.ts";
import {generateSynthetic} from "../loaders/synthetic/generate.ts";
import {playbooks} from "../src/rules/playbooks.ts";

export interface EffectVsTruth {
  playbook_id: string;
  play_tier: string;
  n_worked: number;
  n_holdout: number;
  enough_data: boolean;
  /** churn reduction (held out − worked) measured, its interval, and the truth */
  churn_reduction: number | null;
  churn_reduction_lo: number | null;
  churn_reduction_hi: number | null;
  true_churn_reduction: number;
  /** 1 − worked ÷ held out */
  effectiveness: number | null;
  effectiveness_lo: number | null;
  effectiveness_hi: number | null;
  true_effectiveness: number;
  /** not held out − held out (intention to treat) */
  itt_churn_reduction: number | null;
  itt_churn_reduction_lo: number | null;
  itt_churn_reduction_hi: number | null;
  true_itt_churn_reduction: number;
}

/**
 * The per-CTA truth averaged like the mart: per playbook × play tier over every matured CTA the
 * mart counted, then over tiers weighted by their CTAs, among the tiers the mart compared.
 */
const TRUTH_SQL = `
WITH cta AS (
  SELECT o.playbook_id, o.play_tier, o.holdout, o.worked, e.p_churn_if_worked AS p1, e.p_churn_if_not_worked AS p0
  FROM int_cta_outcomes o JOIN truth.cta_effects e USING (cta_id)
),
strata AS (
  SELECT playbook_id, play_tier, count(*) AS n_all, avg(p0) AS p0, avg(p1) AS p1,
    count(*) FILTER (worked) > 0 AND count(*) FILTER (holdout) > 0 AS compared,
    count(*) FILTER (NOT holdout) > 0 AND count(*) FILTER (holdout) > 0 AS itt_compared,
    -- raising the CTA changes churn by the effect times the share of those not held out that were worked
    count(*) FILTER (worked) / nullif(count(*) FILTER (NOT holdout), 0) * avg(p0 - p1) AS itt
  FROM cta GROUP BY ALL
),
truth AS (
  SELECT CASE WHEN grouping(playbook_id) = 1 THEN 'all' ELSE playbook_id END AS playbook_id,
         CASE WHEN grouping(play_tier) = 1 THEN 'all' ELSE play_tier END AS play_tier,
         sum(n_all * (p0 - p1)) FILTER (compared) / sum(n_all) FILTER (compared) AS true_churn_reduction,
         1 - sum(n_all * p1) FILTER (compared) / sum(n_all * p0) FILTER (compared) AS true_effectiveness,
         sum(n_all * itt) FILTER (itt_compared) / sum(n_all) FILTER (itt_compared) AS true_itt_churn_reduction
  FROM strata GROUP BY GROUPING SETS ((playbook_id, play_tier), (playbook_id), ())
)
SELECT m.playbook_id, m.play_tier, m.n_worked, m.n_holdout, m.enough_data,
       m.churn_reduction, m.churn_reduction_lo, m.churn_reduction_hi, t.true_churn_reduction,
       m.effectiveness, m.effectiveness_lo, m.effectiveness_hi, t.true_effectiveness,
       m.itt_churn_reduction, m.itt_churn_reduction_lo, m.itt_churn_reduction_hi, t.true_itt_churn_reduction
FROM marts.mart_playbook_effectiveness m JOIN truth t USING (playbook_id, play_tier)
WHERE m.n_worked > 0 AND m.n_holdout > 0
ORDER BY m.playbook_id = 'all', m.playbook_id, m.play_tier = 'all' DESC, m.play_tier`;

/**
 * Generates a portfolio (without daily usage, which nothing here reads) and measures it. Until
 * the build seeds marts.mart_cta_history from raw.cta_history, the history is those rows as they are.
 */
export async function measureAgainstTruth(opts: {
  customers: number;
  seed: number;
  asOf: string;
}): Promise<EffectVsTruth[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await generateSynthetic(conn, {...opts, usage: false});
    await loadRules(conn, opts.asOf);
    await conn.run("CREATE OR REPLACE TABLE marts.mart_cta_history AS SELECT * FROM raw.cta_history");
    await runSteps(conn, [
      "int_active_customers_as_of",
      "int_contract_as_of",
      "int_cta_outcomes",
      "mart_playbook_effectiveness",
    ]);
    return await all<EffectVsTruth>(conn, TRUTH_SQL);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Whether the interval [lo, hi] holds the truth. */
export function covers(lo: number | null, hi: number | null, truth: number): boolean {
  return lo !== null && hi !== null && lo <= truth && truth <= hi;
}

export interface CoverageFigures {
  seeds: number[];
  customers: number;
  /** (seed, playbook) cases: each playbook's all-tier row that has both arms */
  cases: number;
  churnReduction: number;
  effectiveness: number;
  itt: number;
}

/** The share of (seed, playbook) cases whose intervals cover the true effect. */
export async function coverage(opts: {customers: number; seeds: number[]; asOf: string}): Promise<{
  figures: CoverageFigures;
  rows: (EffectVsTruth & {seed: number})[];
}> {
  const rows: (EffectVsTruth & {seed: number})[] = [];
  for (const seed of opts.seeds)
    for (const r of await measureAgainstTruth({customers: opts.customers, seed, asOf: opts.asOf}))
      if (r.play_tier === "all" && r.playbook_id !== "all") rows.push({...r, seed});
  const share = (f: (r: EffectVsTruth) => boolean) => rows.filter(f).length / rows.length;
  return {
    rows,
    figures: {
      seeds: opts.seeds,
      customers: opts.customers,
      cases: rows.length,
      churnReduction: share((r) => covers(r.churn_reduction_lo, r.churn_reduction_hi, r.true_churn_reduction)),
      effectiveness: share((r) => covers(r.effectiveness_lo, r.effectiveness_hi, r.true_effectiveness)),
      itt: share((r) => covers(r.itt_churn_reduction_lo, r.itt_churn_reduction_hi, r.true_itt_churn_reduction)),
    },
  };
}

export interface EffectivenessFigures {
  customers: number;
  seed: number;
  rows: EffectVsTruth[];
  coverage: CoverageFigures;
}

/**
 * The bench part: a portfolio's estimates against the truth (seed 42, the demo's), then the
 * coverage over ten seeds of as many customers (tests/effectiveness.test.ts checks the same).
 */
export async function benchEffectiveness(customers: number, asOf: string): Promise<EffectivenessFigures> {
  const rows = await measureAgainstTruth({customers, seed: 42, asOf});
  const {figures} = await coverage({customers, seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], asOf});
  return {customers, seed: 42, rows, coverage: figures};
}

/** One line per playbook and tier: estimate [interval] vs truth, for the bench's report. */
export function formatEffectiveness(f: EffectivenessFigures): string[] {
  const pp = (x: number | null) => (x === null ? "—" : `${(100 * x).toFixed(1)}`);
  const out = f.rows.map(
    (r) =>
      `effect ${`${r.playbook_id}/${r.play_tier}`.padEnd(22)} worked ${String(r.n_worked).padStart(5)} held out ${String(r.n_holdout).padStart(4)}${r.enough_data ? "" : " (not enough)"} | churn reduction ${pp(r.churn_reduction)} pp [${pp(r.churn_reduction_lo)}, ${pp(r.churn_reduction_hi)}] vs true ${pp(r.true_churn_reduction)} | effectiveness ${pp(r.effectiveness)}% [${pp(r.effectiveness_lo)}, ${pp(r.effectiveness_hi)}] vs true ${pp(r.true_effectiveness)}%`,
  );
  const c = f.coverage;
  out.push(
    `effect coverage of the ${Math.round(100 * playbooks.measurement.intervalLevel)}% intervals over ${c.cases} (seed, playbook) cases (${c.seeds.length} seeds × ${c.customers.toLocaleString("en-US")} customers): churn reduction ${pp(c.churnReduction)}%, effectiveness ${pp(c.effectiveness)}%, intention to treat ${pp(c.itt)}%`,
  );
  return out;
}
