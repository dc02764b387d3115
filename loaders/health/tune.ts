/**
 * `npm run health:tune`: fits the health score's weights (and anchors) on the point-in-time
 * snapshots of earlier monthly cutoffs and evaluates current and proposed numbers on the later
 * ones — the churn model's own time-ordered split (train and validation cutoffs to fit, test
 * cutoffs to evaluate). Reads the warehouse, never writes it; the proposal is a complete
 * health-score file (src/rules/health-score.ts validates it) that a person can diff and adopt.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {config, RISK_TIERS, tierOfRiskScore, type RiskTier} from "../../src/rules/config.ts";
import {parseHealthScore, type HealthScore, type HealthScoreFile} from "../../src/rules/health-score.ts";
import {all, ident} from "../duckdb.ts";
import {buildTrainingSnapshots, LABEL_COLUMN, maturedCutoffs, splitCutoffs} from "../model/train.ts";
import {
  componentScores,
  evaluateRisk,
  fitHealthScore,
  fitWeights,
  riskScores,
  type FitComponent,
  type FitData,
} from "./fit.ts";

/** One monthly snapshot row as the tuner reads it. */
interface Rows {
  cutoff: string[];
  customer: string[];
  segment: (string | null)[];
  label: Uint8Array;
  /** by component, NaN = missing */
  values: Float64Array[];
}

export interface ScoreView {
  auc: number;
  churned: number;
  churnedHealthy: number;
  churnedHealthyShare: number;
  /** accounts per tier, Critical first */
  mix: Record<RiskTier, number>;
}

export interface TuneReport {
  asOf: string;
  fitCutoffs: string[];
  testCutoffs: string[];
  healthyBelow: number;
  redFlag: number;
  components: {
    id: string;
    label: string;
    measured: boolean;
    current: {weight: number; worst: number; best: number};
    proposed: {weight: number; worst: number; best: number};
  }[];
  segments: {segment: string; churned: number; own: boolean; weights: Record<string, number> | null}[];
  perCutoff: {cutoff: string; accounts: number; current: ScoreView; proposed: ScoreView}[];
  /** share of accounts whose tier differs from the month before, over the test months */
  stability: {current: number; proposed: number; pairs: number};
  /** accounts whose tier at the last test cutoff differs between current and proposed */
  changedTier: {accounts: number; of: number};
  proposal: HealthScoreFile;
}

const healthyBelow = () => Math.min(...config.riskTiers.filter((t) => t.colour !== "Green").map((t) => t.minScore));

async function readRows(conn: DuckDBConnection, h: HealthScore): Promise<Rows> {
  const cols = h.components.map((c, k) => `${ident(c.feature)}::DOUBLE AS v${k}`).join(", ");
  const rs = await all<Record<string, unknown>>(
    conn,
    `SELECT CAST(as_of_date AS VARCHAR) AS cutoff, customer_id, ${ident(h.segmentBy)}::VARCHAR AS segment,
            ${LABEL_COLUMN}::INTEGER AS label, ${cols}
     FROM marts.model_training_snapshots ORDER BY as_of_date, customer_id`,
  );
  return {
    cutoff: rs.map((r) => r.cutoff as string),
    customer: rs.map((r) => r.customer_id as string),
    segment: rs.map((r) => (r.segment as string | null) ?? null),
    label: Uint8Array.from(rs, (r) => Number(r.label)),
    values: h.components.map((_, k) => Float64Array.from(rs, (r) => (r[`v${k}`] === null ? NaN : Number(r[`v${k}`])))),
  };
}

function subset(rows: Rows, keep: (i: number) => boolean): {idx: number[]; data: FitData} {
  const idx: number[] = [];
  for (let i = 0; i < rows.label.length; i++) if (keep(i)) idx.push(i);
  return {
    idx,
    data: {
      values: rows.values.map((v) => Float64Array.from(idx, (i) => v[i]!)),
      label: Uint8Array.from(idx, (i) => rows.label[i]!),
    },
  };
}

/** The 0–100 risk score of every row of `rows` under a health score's numbers (segments included). */
export function scoreRows(rows: Rows, h: HealthScore, measured: readonly boolean[]): Float64Array {
  const scores = h.components.map((c, k) => componentScores(rows.values[k]!, c));
  const out = new Float64Array(rows.label.length);
  const groups = new Map<string | null, number[]>();
  rows.segment.forEach((s, i) => {
    const key = s !== null && h.segments[s] ? s : null;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(i);
  });
  for (const [seg, idx] of groups) {
    const w = h.components.map((c, k) =>
      measured[k] ? (seg === null ? c.weight : h.segments[seg]!.weights[c.id]!) : 0,
    );
    // a segment none of whose weighted components is measured scores with the global weights (int_score_weights.sql)
    const weights = w.some((x) => x > 0) ? w : h.components.map((c, k) => (measured[k] ? c.weight : 0));
    const r = riskScores(
      scores.map((s) => Float64Array.from(idx, (i) => s[i]!)),
      weights,
    );
    idx.forEach((i, j) => (out[i] = Math.round(r[j]! * 10) / 10));
  }
  return out;
}

function view(risk: Float64Array, y: Uint8Array): ScoreView {
  const e = evaluateRisk(risk, y, healthyBelow());
  const mix = Object.fromEntries(RISK_TIERS.map((t) => [t, 0])) as Record<RiskTier, number>;
  for (const r of risk) mix[tierOfRiskScore(r)]++;
  return {...e, mix};
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/**
 * Where the Green band falls. Moving every component's healthy anchor by one factor α
 * (best' = worst + (best − worst) / α) shifts all scores together — the order of accounts, and so
 * the AUC, barely changes — so α is the one knob between the red flag and alert fatigue: the
 * largest α (the most accounts Green) that keeps the share of churned accounts scored healthy
 * at or under `target` on every fitting cutoff.
 */
function levelForTarget(
  rows: Rows,
  fitIdx: (i: number) => boolean,
  fitCutoffs: string[],
  h: HealthScore,
  measured: boolean[],
  target: number,
): number {
  const cutoffRows = fitCutoffs.map((c) => subset(rows, (i) => fitIdx(i) && rows.cutoff[i] === c).idx);
  const worstShare = (alpha: number) => {
    const risk = scoreRows(rows, stretch(h, alpha), measured);
    return Math.max(
      ...cutoffRows.map(
        (idx) =>
          evaluateRisk(
            Float64Array.from(idx, (i) => risk[i]!),
            Uint8Array.from(idx, (i) => rows.label[i]!),
            healthyBelow(),
          ).churnedHealthyShare,
      ),
    );
  };
  // α in [1/5, 5]: beyond, the score would be mostly anchors, not data
  let lo = 0.2;
  let hi = 5;
  if (worstShare(lo) > target) return lo;
  if (worstShare(hi) <= target) return hi;
  for (let it = 0; it < 24; it++) {
    const m = Math.sqrt(lo * hi);
    if (worstShare(m) <= target) lo = m;
    else hi = m;
  }
  return lo;
}

function stretch(h: HealthScore, alpha: number): HealthScore {
  return {
    ...h,
    components: h.components.map((c) => ({...c, best: Number((c.worst + (c.best - c.worst) / alpha).toPrecision(3))})),
  };
}

/** The health components the warehouse's data can measure (as its build scored them), through `attachWarehouse`'s `wh`. */
export async function measuredComponents(conn: DuckDBConnection): Promise<Set<string>> {
  const rows = await all<{input: string}>(
    conn,
    "SELECT input FROM wh.marts.int_score_weights WHERE score = 'health' AND segment IS NULL AND measured",
  );
  return new Set(rows.map((r) => r.input));
}

export interface TuneOptions {
  asOf: string;
  /** fit anchors as well as weights (default true) */
  anchors?: boolean;
  /** fit weights per segment where there is enough history (default true) */
  segments?: boolean;
  log?: (m: string) => void;
}

/**
 * Fits and evaluates. `conn` must see the warehouse's raw tables and the feature macros (as
 * `attachWarehouse` gives); `measuredIds` are the components this installation can measure.
 */
export async function tuneHealthScore(
  conn: DuckDBConnection,
  current: HealthScore,
  measuredIds: ReadonlySet<string>,
  opts: TuneOptions,
): Promise<TuneReport> {
  const log = opts.log ?? (() => {});
  const split = splitCutoffs(await maturedCutoffs(conn, opts.asOf));
  const fitCutoffs = [...split.train, ...split.valid];
  const testCutoffs = split.test;
  await buildTrainingSnapshots(conn, [...fitCutoffs, ...testCutoffs]);
  const rows = await readRows(conn, current);
  log(
    `${rows.label.length.toLocaleString("en-US")} account-months: fit on ${fitCutoffs[0]}…${fitCutoffs.at(-1)} (${fitCutoffs.length} cutoffs), evaluate on ${testCutoffs.join(", ")}`,
  );
  const measured = current.components.map((c) => measuredIds.has(c.id));
  const isFit = (i: number) => fitCutoffs.includes(rows.cutoff[i]!);
  const fitComponents = (h: HealthScore): FitComponent[] =>
    h.components.map((c, k) => ({
      id: c.id,
      worst: c.worst,
      best: c.best,
      whenMissing: c.whenMissing,
      higherIsBetter: c.direction === "higher_is_healthier",
      minWeight: measured[k] ? c.minWeight : 0,
      maxWeight: measured[k] ? c.maxWeight : 0,
    }));

  // 1. global weights and anchors on every fitting row
  const fitAll = subset(rows, isFit);
  const global = fitHealthScore(fitAll.data, fitComponents(current), {anchors: opts.anchors ?? true});
  let proposed: HealthScore = {
    ...current,
    components: current.components.map((c, k) => ({
      ...c,
      weight: round(global.weights[k]!, 4),
      worst: global.anchors[k]!.worst,
      best: global.anchors[k]!.best,
    })),
    segments: {},
    segmentsOnGlobal: {},
  };
  proposed = normaliseWeights(proposed);
  log(`global weights fitted (log-loss ${global.loss.toFixed(4)})`);

  // 2. a segment with enough churned accounts gets its own weights on the global anchors
  const segments: TuneReport["segments"] = [];
  const values = [...new Set(rows.segment.filter((s): s is string => s !== null))].sort();
  for (const seg of values) {
    const part = subset(rows, (i) => isFit(i) && rows.segment[i] === seg);
    const churned = part.data.label.reduce((s, y) => s + y, 0);
    if (!(opts.segments ?? true) || churned < current.minSegmentChurned) {
      proposed.segmentsOnGlobal[seg] = {churned};
      segments.push({segment: seg, churned, own: false, weights: null});
      continue;
    }
    const comps = fitComponents(proposed);
    const scores = comps.map((c, k) => componentScores(part.data.values[k]!, c));
    const f = fitWeights(
      scores,
      part.data.label,
      {lo: comps.map((c) => c.minWeight), hi: comps.map((c) => c.maxWeight)},
      global.weights,
    );
    const weights = roundToOne(Object.fromEntries(proposed.components.map((c, k) => [c.id, f.weights[k]!])));
    proposed.segments[seg] = {weights, churned};
    segments.push({segment: seg, churned, own: true, weights});
  }

  // 3. where the Green band falls: as many accounts Green as the red flag allows, with a margin
  const target = config.governance.healthyChurnRedFlag * config.governance.healthTuneMargin;
  if (opts.anchors ?? true) {
    const alpha = levelForTarget(rows, isFit, fitCutoffs, proposed, measured, target);
    proposed = stretch(proposed, alpha);
    log(
      `healthy anchors moved by ×${(1 / alpha).toFixed(2)}: the most accounts Green with ≤ ${Math.round(target * 100)}% of churned accounts scored healthy on every fitting cutoff`,
    );
  }

  // 4. evaluate on the test cutoffs, current beside proposed
  const curRisk = scoreRows(rows, current, measured);
  const newRisk = scoreRows(rows, proposed, measured);
  const perCutoff = testCutoffs.map((c) => {
    const {idx} = subset(rows, (i) => rows.cutoff[i] === c);
    const y = Uint8Array.from(idx, (i) => rows.label[i]!);
    return {
      cutoff: c,
      accounts: idx.length,
      current: view(
        Float64Array.from(idx, (i) => curRisk[i]!),
        y,
      ),
      proposed: view(
        Float64Array.from(idx, (i) => newRisk[i]!),
        y,
      ),
    };
  });
  const last = subset(rows, (i) => rows.cutoff[i] === testCutoffs.at(-1));
  const changed = last.idx.filter((i) => tierOfRiskScore(curRisk[i]!) !== tierOfRiskScore(newRisk[i]!)).length;

  const proposal: HealthScoreFile = {
    about: current.about,
    fitted: {at: new Date().toISOString(), asOf: opts.asOf, fitCutoffs, testCutoffs, anchors: opts.anchors ?? true},
    segmentBy: proposed.segmentBy,
    minSegmentChurned: proposed.minSegmentChurned,
    components: Object.fromEntries(
      proposed.components.map((c) => [
        c.id,
        {
          weight: c.weight,
          worst: c.worst,
          best: c.best,
          ...(c.minWeight !== 0 ? {minWeight: c.minWeight} : {}),
          ...(c.maxWeight !== 1 ? {maxWeight: c.maxWeight} : {}),
        },
      ]),
    ),
    segments: proposed.segments,
    segmentsOnGlobal: proposed.segmentsOnGlobal,
  };
  // the proposal must be a file the build accepts
  parseHealthScore(JSON.stringify(proposal), "the proposal");

  return {
    asOf: opts.asOf,
    fitCutoffs,
    testCutoffs,
    healthyBelow: healthyBelow(),
    redFlag: config.governance.healthyChurnRedFlag,
    components: current.components.map((c, k) => ({
      id: c.id,
      label: c.label,
      measured: measured[k]!,
      current: {weight: c.weight, worst: c.worst, best: c.best},
      proposed: {
        weight: proposed.components[k]!.weight,
        worst: proposed.components[k]!.worst,
        best: proposed.components[k]!.best,
      },
    })),
    segments,
    perCutoff,
    stability: tierFlips(rows, curRisk, newRisk, testCutoffs),
    changedTier: {accounts: changed, of: last.idx.length},
    proposal,
  };
}

/** Share of accounts whose tier differs from the previous month's, over consecutive test months. */
function tierFlips(rows: Rows, cur: Float64Array, next: Float64Array, months: string[]): TuneReport["stability"] {
  const at = new Map<string, number>();
  rows.cutoff.forEach((c, i) => at.set(`${c}|${rows.customer[i]}`, i));
  let pairs = 0;
  let flipsCur = 0;
  let flipsNew = 0;
  const all = [...new Set(rows.cutoff)].sort();
  for (const m of months) {
    const prev = all[all.indexOf(m) - 1];
    if (!prev) continue;
    rows.cutoff.forEach((c, i) => {
      if (c !== m) return;
      const j = at.get(`${prev}|${rows.customer[i]}`);
      if (j === undefined) return;
      pairs++;
      if (tierOfRiskScore(cur[i]!) !== tierOfRiskScore(cur[j]!)) flipsCur++;
      if (tierOfRiskScore(next[i]!) !== tierOfRiskScore(next[j]!)) flipsNew++;
    });
  }
  return {current: pairs ? flipsCur / pairs : 0, proposed: pairs ? flipsNew / pairs : 0, pairs};
}

/** Weights rounded to 4 decimals that still sum to exactly 1 (the rounding rest goes to the largest). */
function roundToOne(w: Record<string, number>): Record<string, number> {
  const total = Object.values(w).reduce((s, x) => s + x, 0);
  const out = Object.fromEntries(Object.entries(w).map(([k, x]) => [k, round(x / total, 4)]));
  const rest = round(1 - Object.values(out).reduce((s, x) => s + x, 0), 4);
  const top = Object.entries(out).sort((a, b) => b[1] - a[1])[0]![0];
  out[top] = round(out[top]! + rest, 4);
  return out;
}

function normaliseWeights(h: HealthScore): HealthScore {
  const w = roundToOne(Object.fromEntries(h.components.map((c) => [c.id, c.weight])));
  return {...h, components: h.components.map((c) => ({...c, weight: w[c.id]!}))};
}
