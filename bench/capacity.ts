/**
 * A queue that respects capacity, on a built warehouse: each CSM's queue before (every open CTA)
 * and after (this week's CTAs; the individual queue, this week's and those kept for later), how
 * many CTAs went to the weekly digest, whether any CSM's week holds more than their hours or any
 * digest a CTA worth more per hour than one kept, and the time of the capacity steps.
 * `npx tsx bench/capacity.ts WAREHOUSE` runs it alone (on a copy it may rewrite the steps' tables of).
 */
import {isMainModule} from "../loaders/cli/command.ts";
import {all, one, openWarehouse, run} from "../loaders/duckdb.ts";
import {runSteps} from "../loaders/marts.ts";

const STEPS = ["int_csm_capacity", "mart_csm_worklist", "mart_csm_capacity"];

export interface Spread {
  min: number;
  median: number;
  max: number;
}
export interface CapacityFigures {
  csms: number;
  openCtas: number;
  /** open CTAs per CSM, and their hours */
  before: Spread;
  beforeHours: Spread;
  /** this week's CTAs per CSM */
  thisWeek: Spread;
  thisWeekHours: Spread;
  /** the individual queue per CSM: this week's and those kept for later ("next") */
  individual: Spread;
  nextCtas: number;
  /** of which Critical, in progress, or worth more per hour than a kept CTA */
  nextByReason: Record<string, number>;
  digestCtas: number;
  digestShare: number;
  csmsWithOverflow: number;
  /** after the suggested rebalancing (hours moved to CSMs with room) */
  csmsWithOverflowAfterRebalancing: number;
  overflowHours: number;
  rebalancedHours: number;
  /** the week's hours used, all CSMs together */
  weekUse: number;
  /** expected ARR saved by this week's CTAs ÷ by every open CTA (per-CTA sums) */
  valueShareThisWeek: number;
  /** both 0 by construction; counted here from the rows */
  weeksOverCapacity: number;
  digestWorthMoreThanKept: number;
  criticalDigested: number;
  stepsSeconds: number;
}

const SPREADS = {
  before: "ctas_open",
  beforeHours: "hours_open",
  thisWeek: "ctas_this_week",
  thisWeekHours: "hours_this_week",
  individual: "ctas_this_week + ctas_next",
} as const;
type SpreadKey = keyof typeof SPREADS;

/** Measures the capacity marts of `warehousePath` (re-running their steps with no store overrides). */
export async function benchCapacity(warehousePath: string): Promise<CapacityFigures> {
  const w = await openWarehouse(warehousePath);
  try {
    // what the CTA step reads from the store: no overrides
    await run(w.conn, "CREATE OR REPLACE TEMP TABLE ops_capacity (csm VARCHAR, hours_per_week DOUBLE)");
    const t0 = performance.now();
    await runSteps(w.conn, STEPS);
    const stepsSeconds = (performance.now() - t0) / 1000;
    // CSMs who own no open CTA are receivers, not queues: the spreads are over those with CTAs
    const spreads = await one<Record<string, number>>(
      w.conn,
      `SELECT ${Object.entries(SPREADS)
        .map(([k, col]) => `min(${col}) AS "${k}_min", median(${col}) AS "${k}_median", max(${col}) AS "${k}_max"`)
        .join(", ")}
       FROM marts.mart_csm_capacity WHERE ctas_open > 0`,
    );
    const spread = (k: SpreadKey): Spread => ({
      min: spreads[`${k}_min`]!,
      median: spreads[`${k}_median`]!,
      max: spreads[`${k}_max`]!,
    });
    const r = await one<Omit<CapacityFigures, "stepsSeconds" | "nextByReason" | SpreadKey>>(
      w.conn,
      `WITH c AS (SELECT * FROM marts.mart_csm_capacity WHERE ctas_open > 0)
       SELECT (SELECT count(*) FROM c)::INTEGER AS csms,
              (SELECT count(*) FROM marts.mart_csm_worklist)::INTEGER AS "openCtas",
              (SELECT sum(ctas_next) FROM c)::INTEGER AS "nextCtas",
              (SELECT sum(ctas_digest) FROM c)::INTEGER AS "digestCtas",
              (SELECT sum(ctas_digest) / sum(ctas_open) FROM c) AS "digestShare",
              (SELECT count(*) FILTER (WHERE overload_hours > 0) FROM c)::INTEGER AS "csmsWithOverflow",
              (SELECT count(*) FILTER (WHERE overload_after_hours > 1e-9) FROM c)::INTEGER AS "csmsWithOverflowAfterRebalancing",
              (SELECT sum(overload_hours) FROM c) AS "overflowHours",
              (SELECT sum(move_out_hours) FROM c) AS "rebalancedHours",
              (SELECT sum(hours_this_week) / sum(capacity_hours) FROM c) AS "weekUse",
              (SELECT sum(expected_arr_saved) FILTER (WHERE lane = 'this_week') / sum(expected_arr_saved) FROM marts.mart_csm_worklist) AS "valueShareThisWeek",
              (SELECT count(*) FILTER (WHERE hours_this_week > capacity_hours) FROM c)::INTEGER AS "weeksOverCapacity",
              (SELECT count(*) FROM marts.mart_csm_worklist d WHERE d.lane = 'digest' AND d.value_per_hour >
                 (SELECT min(k.value_per_hour) FROM marts.mart_csm_worklist k WHERE k.owner = d.owner AND k.lane <> 'digest'))::INTEGER AS "digestWorthMoreThanKept",
              (SELECT count(*) FROM marts.mart_csm_worklist WHERE lane = 'digest' AND priority = 'critical')::INTEGER AS "criticalDigested"`,
    );
    const reasons = await all<{lane_reason: string; n: number}>(
      w.conn,
      "SELECT lane_reason, count(*)::INTEGER AS n FROM marts.mart_csm_worklist WHERE lane = 'next' GROUP BY ALL ORDER BY n DESC",
    );
    return {
      ...r,
      before: spread("before"),
      beforeHours: spread("beforeHours"),
      thisWeek: spread("thisWeek"),
      thisWeekHours: spread("thisWeekHours"),
      individual: spread("individual"),
      nextByReason: Object.fromEntries(reasons.map((x) => [x.lane_reason, x.n])),
      stepsSeconds,
    };
  } finally {
    w.close();
  }
}

const s = (x: Spread, digits = 0) =>
  `${x.min.toFixed(digits)} / ${x.median.toFixed(digits)} / ${x.max.toFixed(digits)}`;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The lines bench/run.ts prints (min / median / max per CSM). */
export function formatCapacityFigures(key: string, c: CapacityFigures): string[] {
  const k = key.padEnd(14);
  return [
    `${k} ${c.openCtas.toLocaleString("en-US")} open CTAs, ${c.csms} CSMs | queue per CSM (min / median / max): before ${s(c.before)} CTAs (${s(c.beforeHours, 1)} h) → this week ${s(c.thisWeek)} CTAs (${s(c.thisWeekHours, 1)} h) | individual queue ${s(c.individual)}`,
    `${k} digest ${c.digestCtas.toLocaleString("en-US")} CTAs (${pct(c.digestShare)}) | kept beyond the week ${c.nextCtas} (${Object.entries(
      c.nextByReason,
    )
      .map(([r, n]) => `${r} ${n}`)
      .join(
        ", ",
      )}) | CSMs with overflow ${c.csmsWithOverflow} (${c.overflowHours.toFixed(1)} h), after the suggested rebalancing ${c.csmsWithOverflowAfterRebalancing} (${c.rebalancedHours.toFixed(1)} h moved)`,
    `${k} week used ${pct(c.weekUse)} | this week's CTAs carry ${pct(c.valueShareThisWeek)} of the expected ARR saved | weeks over capacity ${c.weeksOverCapacity}, digested CTAs worth more than a kept one ${c.digestWorthMoreThanKept}, Critical digested ${c.criticalDigested} | steps ${(1000 * c.stepsSeconds).toFixed(0)} ms`,
  ];
}

if (isMainModule(import.meta.url)) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: npx tsx bench/capacity.ts WAREHOUSE");
    process.exit(2);
  }
  for (const line of formatCapacityFigures("capacity", await benchCapacity(path))) console.log(line);
}
