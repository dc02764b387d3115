/**
 * Expands customer-month usage rates into daily usage_events rows inside DuckDB.
 *
 * JS computes, per customer and month, the Poisson means of the day's active users and of each
 * event type on an active day, and writes them — log-quantised to integer "λ keys" — into a scratch
 * table. SQL unrolls the days with range() and draws every count by joining
 * key = λ-key · 1024 + (hash(seed, customer, day[, type]) & 1023) against a precomputed
 * inverse-CDF table of the Poisson distribution (λ on a 2.5 %-step log grid, u on 1024 levels;
 * only non-zero counts are stored, so the join also drops the zero rows). Only integer work runs
 * per row — on this hardware DuckDB's per-row float maths (ln, exp, cos) is the bottleneck, a
 * hash join on an integer key is not — and no day loop runs in JS.
 *
 * Active users per day ~ Poisson(seats · p_active(z) · weekday factor), capped at seats; each event
 * type on an active day ~ Poisson(per-user rate · E[active users | active day]).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {DEFAULT_VOCABULARY, valuesOf} from "../../src/rules/vocabulary.ts";
import {writeTable} from "../duckdb.ts";
import {ChunkWriter} from "./append.ts";

export const SCRATCH = "syn_scratch";

/** event types drawn per active day; t = 0 in SQL is active_users, t = i + 1 is EVENT_TYPES[i] */
const EVENT_TYPES = valuesOf(DEFAULT_VOCABULARY, "usageEvents").filter((t) => t !== "active_users");

const LQ = 40; // grid steps per unit of ln λ
const LMIN = 0.0005; // smallest λ on the grid (below: no events)
const LMAX = 3000;
const NQ = Math.ceil(LQ * Math.log(LMAX / LMIN));
const UQ = 256; // uniform levels (8 hash bits)
/** key of a λ below the grid: never matches the lookup table, so the count is 0 */
const NONE = -1_000_000;
export const WEEKEND_FACTOR = 0.18;
const WEEKEND_OFFSET = Math.round(LQ * Math.log(WEEKEND_FACTOR));

function lambdaKey(lam: number): number {
  if (!(lam >= LMIN)) return NONE;
  return Math.min(NQ, Math.round(LQ * Math.log(lam / LMIN)));
}

/** probability that a seat is active on a weekday, from health z */
export function pActive(z: number): number {
  return 0.6 / (1 + Math.exp(-4.5 * (z + 0.15)));
}

/** E[X | X > 0] for X ~ Poisson(l) */
function expAu(l: number): number {
  return l > 1e-9 ? l / (1 - Math.exp(-l)) : 1;
}

/** mean count of an event type on an active day with `au` expected active users */
function perActiveDayRate(t: string, m: MonthUsage, au: number): number {
  switch (t) {
    case "login":
      return au * 1.1;
    case "feature_use":
      return au * 0.9 * Math.exp(0.45 * m.z);
    case "integration_connect":
      return 0.006 * Math.sqrt(au);
    case "api_call":
      return m.api * au * 0.6 * Math.exp(0.3 * m.z);
    case "report_export":
      return au * 0.035 * Math.exp(0.3 * m.z);
    case "premium_feature_trial":
      return 0.035 * Math.exp(0.9 * m.e + 0.2 * m.z) * Math.sqrt(au);
    case "feature_limit_hit":
      return m.lim * 0.05 * Math.exp(0.9 * m.e) * Math.sqrt(au);
    default:
      throw new Error(`no usage rate for event type ${t}`);
  }
}

export interface MonthUsage {
  seats: number;
  z: number;
  e: number;
  /** API intensity (0 = no API integration) */
  api: number;
  /** feature-limit pressure of the plan */
  lim: number;
}

/** Column order of the scratch months table after (cid, d_from, d_to, onb_end). */
export const MONTH_KEY_COLUMNS = ["seats", "qa", "wo", ...EVENT_TYPES.map((_, i) => `k${i + 1}`)] as const;

/** The integer λ keys of one customer-month: [seats, qa, wo, k1..k7] (k in EVENT_TYPES order). */
export function monthKeys(m: MonthUsage): number[] {
  const lamAu = m.seats * pActive(m.z);
  const auWd = Math.min(m.seats, expAu(lamAu));
  const auWe = Math.min(m.seats, expAu(lamAu * WEEKEND_FACTOR));
  const wo = Math.round(LQ * Math.log(auWe / auWd));
  const out = [m.seats, lambdaKey(lamAu), wo];
  for (const t of EVENT_TYPES) out.push(lambdaKey(perActiveDayRate(t, m, auWd)));
  return out;
}

export async function createScratch(conn: DuckDBConnection, customers: number, idWidth: number): Promise<void> {
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${SCRATCH}`);
  const keyCols = MONTH_KEY_COLUMNS.map((c) => `${c} INTEGER`).join(", ");
  await conn.run(
    `CREATE OR REPLACE TABLE ${SCRATCH}.months (cid INTEGER, d_from INTEGER, d_to INTEGER, onb_end INTEGER, ${keyCols})`,
  );
  await conn.run(`CREATE OR REPLACE TABLE ${SCRATCH}.onboarding (cid INTEGER, di INTEGER, cnt INTEGER)`);
  await conn.run(
    `CREATE OR REPLACE TABLE ${SCRATCH}.ids AS SELECT i::INTEGER AS cid, 'C' || lpad(i::VARCHAR, ${idWidth}, '0') AS customer_id FROM range(1, ${customers + 1}) r(i)`,
  );
  await writeTable(
    conn,
    `${SCRATCH}.types`,
    {t: "INTEGER", event_type: "VARCHAR"},
    ["active_users", ...EVENT_TYPES].map((t, i) => [i, t]),
  );
  // Poisson inverse CDF: key = q·UQ + j → count at u = (j + ½)/UQ, non-zero counts only
  await conn.run(`CREATE OR REPLACE TABLE ${SCRATCH}.pois (key INTEGER, cnt INTEGER)`);
  const w = await ChunkWriter.open(conn, SCRATCH, "pois", ["INTEGER", "INTEGER"]);
  for (let q = 0; q <= NQ; q++) {
    const lam = LMIN * Math.exp(q / LQ);
    let k = 0;
    // work in logs so large λ does not underflow exp(−λ)
    let logP = -lam;
    let f = Math.exp(logP);
    for (let j = 0; j < UQ; j++) {
      const u = (j + 0.5) / UQ;
      while (u > f && k < 20_000) {
        k++;
        logP += Math.log(lam / k);
        f += Math.exp(logP);
      }
      if (k > 0) w.push([q * UQ + j, k]);
    }
  }
  w.close();
}

export async function dropScratch(conn: DuckDBConnection): Promise<void> {
  await conn.run(`DROP SCHEMA IF EXISTS ${SCRATCH} CASCADE`);
}

export async function expandUsage(
  conn: DuckDBConnection,
  seed: number,
  customers: number,
  progress: (msg: string) => void,
): Promise<void> {
  const kCols = EVENT_TYPES.map((_, i) => `k${i + 1}`);
  const pick = kCols.map((c, i) => `WHEN ${i + 1} THEN ${c}`).join(" ");
  const integ = 1 + EVENT_TYPES.indexOf("integration_connect");
  const s = seed | 0;
  // batches of customers keep each statement's intermediate state small
  const batch = 25_000;
  for (let lo = 1; lo <= customers; lo += batch) {
    const hi = Math.min(customers, lo + batch - 1);
    await conn.run(`
INSERT INTO raw.usage_events
WITH days AS (
  SELECT cid, seats, onb_end, qa, wo, ${kCols.join(", ")}, unnest(range(d_from, d_to + 1)) AS di
  FROM ${SCRATCH}.months WHERE cid BETWEEN ${lo} AND ${hi}
), hd AS (
  SELECT *, hash(${s}, cid, di) AS h, ((di + 3) % 7 >= 5) AS we FROM days
), au AS MATERIALIZED (
  SELECT hd.cid, hd.di, hd.h, hd.we, hd.wo, hd.onb_end, ${kCols.map((c) => `hd.${c}`).join(", ")}, least(hd.seats, p.cnt) AS au
  FROM hd JOIN ${SCRATCH}.pois p ON p.key = (hd.qa + CASE WHEN hd.we THEN ${WEEKEND_OFFSET} ELSE 0 END) * ${UQ} + (hd.h & ${UQ - 1})::INTEGER
), typed AS (
  SELECT cid, di, t, hash(h, t) AS h2, (CASE t ${pick} END) + CASE WHEN we THEN wo ELSE 0 END AS q
  FROM au CROSS JOIN range(1, ${EVENT_TYPES.length + 1}) tt(t)
  WHERE NOT (t = ${integ} AND onb_end IS NOT NULL AND di < onb_end)
), merged AS (
  SELECT cid, di, 0 AS t, au AS cnt FROM au
  UNION ALL
  SELECT typed.cid, typed.di, typed.t, p.cnt FROM typed JOIN ${SCRATCH}.pois p ON p.key = typed.q * ${UQ} + (typed.h2 & ${UQ - 1})::INTEGER
  UNION ALL
  SELECT cid, di, ${integ} AS t, cnt FROM ${SCRATCH}.onboarding WHERE cid BETWEEN ${lo} AND ${hi}
)
SELECT ids.customer_id, (DATE '1970-01-01' + m.di::INTEGER), ty.event_type, m.cnt::INTEGER
FROM merged m JOIN ${SCRATCH}.ids ids ON ids.cid = m.cid JOIN ${SCRATCH}.types ty ON ty.t = m.t`);
    // large runs: compress what is there so far (DuckDB compresses tables, in-memory ones too, at a
    // checkpoint), which bounds peak memory to about one batch of uncompressed rows
    if (customers > batch) {
      try {
        await conn.run("CHECKPOINT");
      } catch {
        // another transaction is active on the database: it is compressed at a later checkpoint
      }
    }
    progress(`usage_events: customers ${lo}–${hi} expanded`);
  }
}
